import crypto from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadOidcProvider } from './esm';
import { makeTestCertificate, TestCertificate } from './tls';

/**
 * A real OpenID Connect provider for the tests: oidc-provider (a certified implementation) on loopback over TLS, with
 * its development login form, test accounts and the ENT claims (structures, profile, admin_structures). Not a mock:
 * the relying party goes through discovery, the authorization endpoint, the token endpoint, the JWKS and userinfo.
 */
export interface TestProvider {
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  certificate: TestCertificate;
  /** Accounts by subject; tests may add some at any time (a new school, a new teacher). */
  accounts: Map<string, Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface TestProviderOptions {
  /** Origins of the relying parties (their /auth/callback and /auth/signed-out are registered). */
  relyingPartyOrigins: string[];
  accounts?: Array<{ sub: string; claims: Record<string, unknown> }>;
  /** Reuse a certificate (e.g. one a child process already trusts). */
  certificate?: TestCertificate;
  /** Default: a free port. */
  port?: number;
}

export const TEST_CLIENT_ID = 'reservations-incident';
export const TEST_CLIENT_SECRET = 'a-test-client-secret-that-is-long-enough';

export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const certificate = options.certificate ?? makeTestCertificate();
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `https://127.0.0.1:${port}`;
  const accounts = new Map<string, Record<string, unknown>>((options.accounts ?? []).map((a) => [a.sub, a.claims]));
  const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  // oidc-provider's warnings (Node 22 wanted, development interactions, in-memory adapter) are expected here.
  const warn = console.warn;
  console.warn = () => undefined;
  let provider: { callback(): (req: IncomingMessage, res: ServerResponse) => void };
  try {
    const { default: Provider } = await loadOidcProvider();
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: TEST_CLIENT_ID,
          client_secret: TEST_CLIENT_SECRET,
          redirect_uris: options.relyingPartyOrigins.map((o) => `${o}/auth/callback`),
          post_logout_redirect_uris: options.relyingPartyOrigins.map((o) => `${o}/auth/signed-out`),
          response_types: ['code'],
          grant_types: ['authorization_code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      async findAccount(_ctx: unknown, sub: string) {
        const claims = accounts.get(sub);
        if (!claims) return undefined;
        return { accountId: sub, claims: async () => ({ sub, ...claims }) };
      },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'profile', 'structures', 'admin_structures'],
      },
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
      pkce: { required: () => true },
      cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
      jwks: { keys: [{ ...signingKey, kid: 'test-key', alg: 'RS256', use: 'sig' }] },
      ttl: { AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    }) as typeof provider;
  } finally {
    console.warn = warn;
  }
  handler = provider.callback();
  return {
    issuer,
    port,
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    certificate,
    accounts,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.certificate) certificate.remove();
    },
  };
}
