import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

/** The fetch signature openid-client's `customFetch` takes. */
export type FetchLike = (
  url: string,
  options: { method: string; headers: Record<string, string>; body?: unknown; redirect?: 'manual'; signal?: AbortSignal },
) => Promise<Response>;

function bodyOf(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('unsupported request body');
}

/**
 * A fetch that also trusts the given certificate authorities (an académie's internal CA, or the self-signed
 * certificate of a test provider), over node:https. Node's global fetch reads extra CAs only from
 * NODE_EXTRA_CA_CERTS at process start; this one can be given them at run time. Redirects are never followed.
 */
export function fetchTrusting(extraCa: string | Buffer): FetchLike {
  const ca = [...tls.rootCertificates, extraCa.toString()];
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const body = bodyOf(options.body);
      const headers: Record<string, string> = { ...options.headers };
      if (options.body instanceof URLSearchParams && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
      }
      const request = (target.protocol === 'https:' ? https : http).request(
        target,
        { method: options.method, headers, signal: options.signal, ...(target.protocol === 'https:' ? { ca } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              if (value === undefined) continue;
              for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
            }
            const status = response.statusCode ?? 500;
            const noBody = status === 204 || status === 304 || options.method === 'HEAD';
            resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: response.statusMessage, headers: responseHeaders }));
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
}
