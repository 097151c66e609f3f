import type { Server } from 'node:http';
import pino from 'pino';
import request from 'supertest';
import { oidcConfigFromEnv, OidcHostConfig } from '../../src/oidchost/config';
import { startOidcHost, StartedOidcHost } from '../../src/oidchost/start';
import { fetchTrusting } from '../../src/oidchost/fetch';
import { createTestDatabase } from '../helpers/db';
import { MailCatcher } from '../../src/devhost/mailcatcher';
import { Browser, signInThroughProvider } from './browser';
import { demoAccounts, freePort, subOf } from './fixtures';
import { startTestProvider, TestProvider } from './provider';

export const TEST_SESSION_SECRET = 'a-test-session-secret-of-more-than-32-characters';
export const TEST_ENT_URL = 'https://ent.example.test/welcome';

export interface TestOidcHost extends StartedOidcHost {
  provider: TestProvider;
  origin: string;
  config: OidcHostConfig;
  server: Server;
  /** A real SMTP server on loopback that keeps what the module sends (SMTP_URL points to it). */
  mailCatcher: MailCatcher;
  newBrowser(): Browser;
  /** A person signs in through the provider in a new browser; returns the browser and its session cookie header. */
  signIn(login: string, options?: { sub?: string }): Promise<{ browser: Browser; cookie: string; status: number; location: string | null }>;
  stop(): Promise<void>;
}

/**
 * The OpenID Connect host in this process, listening on a free loopback port, on an isolated database schema, with a
 * real provider (oidc-provider over TLS) holding the demo people. The host trusts the provider's self-signed
 * certificate through a fetch given it (no global setting changed).
 */
export async function startTestOidcHost(env: Record<string, string> | ((provider: TestProvider) => Record<string, string>) = {}): Promise<TestOidcHost> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // Also the https origin: a test may play the host behind a TLS reverse proxy (PUBLIC_URL https://...).
  const provider = await startTestProvider({ relyingPartyOrigins: [origin, `https://127.0.0.1:${port}`], accounts: demoAccounts() });
  const db = await createTestDatabase();
  const mailCatcher = new MailCatcher(db.knex);
  await mailCatcher.start(0);
  const config = oidcConfigFromEnv({
    PUBLIC_URL: origin,
    DATABASE_URL: 'postgres://unused-the-test-passes-its-database',
    SESSION_SECRET: TEST_SESSION_SECRET,
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    ENT_URL: TEST_ENT_URL,
    SMTP_URL: mailCatcher.url,
    ...(typeof env === 'function' ? env(provider) : env),
  });
  const started = await startOidcHost(config, {
    db,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    httpLog: false,
    fetch: fetchTrusting(provider.certificate.cert),
    housekeeping: false,
    // Quick retries and polling, as the reference host's tests have.
    moduleConfig: { mailRetryDelaySeconds: 1, workerPollingSeconds: 0.5 },
  });
  const server = started.oidcHost.app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const newBrowser = () => new Browser(provider.certificate.cert);
  return {
    ...started,
    provider,
    origin,
    config,
    server,
    mailCatcher,
    newBrowser,
    async signIn(login, options = {}) {
      const browser = newBrowser();
      const page = await signInThroughProvider(browser, origin, provider.issuer, options.sub ?? subOf(login));
      return { browser, cookie: browser.cookieHeader(origin), status: page.status, location: page.headers.get('location') };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await started.close();
      await mailCatcher.stop();
      await db.dropAll();
      await provider.stop();
    },
  };
}

export { request };
