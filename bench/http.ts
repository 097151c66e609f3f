import autocannon from 'autocannon';

export const API = '/reservations/api/v1';

/** A signed-in user of the reference host: its session cookie and the CSRF token of that session. */
export interface Session {
  login: string;
  userId: string;
  cookie: string;
  csrf: string;
}

/** POST /login (form field `login`), then GET /session for the CSRF token, as a browser would. */
export async function signIn(baseUrl: string, login: string): Promise<Session> {
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    body: new URLSearchParams({ login }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
  if (res.status !== 303) throw new Error(`sign-in of ${login} failed: HTTP ${res.status}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .filter((c) => !c.endsWith('='))
    .join('; ');
  const session = await fetch(`${baseUrl}${API}/session`, { headers: { cookie, accept: 'application/json' } });
  if (session.status !== 200) throw new Error(`GET /session for ${login} failed: HTTP ${session.status}`);
  const body = (await session.json()) as { user: { id: string }; csrfToken: string };
  return { login, userId: body.user.id, cookie, csrf: body.csrfToken };
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Under the API prefix unless it starts with /reservations or another absolute path. */
  path: string;
  session: Session;
  body?: unknown;
}

export function rawRequest(r: HttpRequest): { method: string; path: string; headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { accept: 'application/json', cookie: r.session.cookie };
  let body: string | undefined;
  if (r.method !== 'GET') {
    headers['x-csrf-token'] = r.session.csrf;
    headers['content-type'] = 'application/json';
    body = JSON.stringify(r.body ?? {});
  }
  return { method: r.method, path: r.path.startsWith('/reservations') ? r.path : `${API}${r.path}`, headers, body };
}

/** One request outside the load (a probe): its status and body. */
export async function once(baseUrl: string, r: HttpRequest): Promise<{ status: number; body: string }> {
  const raw = rawRequest(r);
  const res = await fetch(`${baseUrl}${raw.path}`, { method: raw.method, headers: raw.headers, body: raw.body });
  return { status: res.status, body: await res.text() };
}

export interface HttpRun {
  connections: number;
  seconds: number;
  requests: number;
  /** Responses per second over the measured run. */
  throughput: number;
  /** Every response time, in milliseconds. */
  latencies: number[];
  statuses: Record<string, number>;
  /** The first body of each status that was not expected (to tell what went wrong). */
  samples: Record<string, string>;
  /** Socket errors and timeouts. */
  errors: number;
}

/**
 * Drives the host with autocannon: `connections` keep-alive connections, each sending its next request as soon as the
 * previous answered (closed loop), for `seconds`. `next()` builds every request (random school, room, slot...).
 */
export async function runHttp(
  baseUrl: string,
  options: { connections: number; seconds: number; next: () => HttpRequest; expected: number[]; amount?: number },
): Promise<HttpRun> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const samples: Record<string, string> = {};
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections: options.connections,
        // A fixed number of requests for the slow scenarios (a few per second at most), else a duration.
        ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
        timeout: 60,
        requests: [
          {
            setupRequest: (req: autocannon.Request) => ({ ...req, ...rawRequest(options.next()) }),
            onResponse: (status: number, body: string) => {
              if (!options.expected.includes(status) && samples[status] === undefined) samples[status] = String(body).slice(0, 500);
            },
          } as unknown as autocannon.Request,
        ],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    connections: options.connections,
    seconds,
    requests: latencies.length,
    throughput: latencies.length / seconds,
    latencies,
    statuses,
    samples,
    errors: result.errors + result.timeouts,
  };
}
