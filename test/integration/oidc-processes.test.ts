import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, testDatabaseKind } from '../helpers/db';
import { Browser, signInThroughProvider } from '../contract/browser';
import { demoAccounts, freePort, subOf } from '../contract/fixtures';
import { startTestProvider, TestProvider } from '../contract/provider';
import { makeTestCertificate, TestCertificate } from '../contract/tls';
import { MailCatcher } from '../../src/devhost/mailcatcher';

/**
 * Two processes of the OpenID Connect host on one database, as `npm run start:prod` runs them in production
 * (HOST_ADAPTER=oidc, configuration from the environment), behind a round-robin proxy with no sticky sessions: every
 * request of a sign-in may land on either process. The processes trust the test provider's certificate through
 * NODE_EXTRA_CA_CERTS, as a server trusting an académie's internal CA would.
 */
const ROOT = path.join(__dirname, '..', '..');
const SECRET = 'two-processes-share-this-session-secret-0123456789';
const onPostgres = testDatabaseKind() === 'postgres';

interface SessionBody {
  user: { id: string; login: string; displayName: string; profile: string };
  csrfToken: string;
}

interface Backend {
  name: string;
  port: number;
  origin: string;
  child: ChildProcess;
  output: string[];
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let certificate: TestCertificate;
let provider: TestProvider;
let proxy: http.Server;
let proxyOrigin: string;
const backends: Backend[] = [];
const servedBy: string[] = [];
let filesDir: string;
let mailCatcher: MailCatcher;

async function waitHealthy(backend: Backend): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (backend.child.exitCode !== null) throw new Error(`${backend.name} exited ${backend.child.exitCode}:\n${backend.output.join('')}`);
    try {
      const res = await fetch(`${backend.origin}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${backend.name} did not become healthy:\n${backend.output.join('')}`);
}

function startBackend(name: string, port: number, publicUrl: string, extraEnv: Record<string, string>): Backend {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST_ADAPTER: 'oidc',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    DATABASE_URL: process.env.RSV_TEST_DB!,
    DATABASE_SCHEMA: db.schema,
    SESSION_SECRET: SECRET,
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    NODE_EXTRA_CA_CERTS: certificate.certFile,
    TRUST_PROXY: 'loopback',
    FILES_DIR: filesDir,
    LOG_LEVEL: 'warn',
    SMTP_URL: mailCatcher.url,
    MAIL_RETRY_DELAY_SECONDS: '1',
    WORKER_POLLING_SECONDS: '0.5',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  return { name, port, origin: `http://127.0.0.1:${port}`, child, output };
}

/** The reverse proxy of the test: strictly alternating, no stickiness at all. */
function startRoundRobinProxy(targets: Backend[]): Promise<http.Server> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = targets[next++ % targets.length]!;
    servedBy.push(target.name);
    const upstream = http.request({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers: { ...req.headers, 'x-forwarded-proto': 'http' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function stopBackend(backend: Backend): Promise<void> {
  if (backend.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => backend.child.once('exit', () => resolve()));
  backend.child.kill('SIGTERM');
  const timeout = setTimeout(() => backend.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timeout);
}

(onPostgres ? describe : describe.skip)('two processes of the OpenID Connect host on one database', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    certificate = makeTestCertificate();
    filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsv-files-'));
    const [portA, portB] = [await freePort(), await freePort()];
    proxy = await startRoundRobinProxy(backends);
    proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    provider = await startTestProvider({ relyingPartyOrigins: [proxyOrigin], accounts: demoAccounts(), certificate });
    mailCatcher = new MailCatcher(db.knex);
    await mailCatcher.start(0);
    // Both start at the same moment on an empty schema: migrations and install take turns (advisory lock). Both run
    // the mail worker here (deploy/ runs it in one): the stronger case for "each mail once".
    backends.push(startBackend('A', portA, proxyOrigin, { RUN_WORKER: '1' }), startBackend('B', portB, proxyOrigin, { RUN_WORKER: '1' }));
    await Promise.all(backends.map(waitHealthy));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(backends.map(stopBackend));
    if (proxy) await new Promise<void>((resolve) => proxy.close(() => resolve()));
    await provider?.stop();
    await mailCatcher?.stop();
    certificate?.remove();
    if (filesDir) fs.rmSync(filesDir, { recursive: true, force: true });
    await db?.dropAll();
  });

  it('both started at once on one empty database: each migration ran once', async () => {
    for (const table of ['knex_migrations_host', 'knex_migrations_oidchost', 'knex_migrations_rsv']) {
      const names: string[] = await db.knex(table).pluck('name');
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('a sign-in whose steps land on both processes works, and its session is valid on each', async () => {
    const browser = new Browser(certificate.cert);
    const before = servedBy.length;
    const page = await signInThroughProvider(browser, proxyOrigin, provider.issuer, subOf('enseignant'), { returnTo: '/reservations/' });
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${proxyOrigin}/reservations/`);
    expect(page.text).toContain('Claire Martin');
    expect(new Set(servedBy.slice(before))).toEqual(new Set(['A', 'B']));
    const cookie = browser.cookieHeader(proxyOrigin);
    const answers = await Promise.all(
      backends.map((b) => fetch(`${b.origin}/reservations/api/v1/session`, { headers: { cookie, accept: 'application/json' } }).then(async (r) => ({ status: r.status, body: (await r.json()) as SessionBody }))),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.user).toEqual({ id: 'oidc-enseignant', login: 'enseignant', displayName: 'Claire Martin', profile: 'Teacher' });
    }
    // The same CSRF token on both: it is derived from the session and the shared secret, not kept in memory.
    expect(answers[0]!.body.csrfToken).toBe(answers[1]!.body.csrfToken);
  });

  it('a change made through one process with its CSRF token is accepted by the other, and signing out on one ends it on both', async () => {
    const browser = new Browser(certificate.cert);
    await signInThroughProvider(browser, proxyOrigin, provider.issuer, subOf('direction'));
    const cookie = browser.cookieHeader(proxyOrigin);
    const [a, b] = backends as [Backend, Backend];
    const session = (await (await fetch(`${a.origin}/reservations/api/v1/session`, { headers: { cookie, accept: 'application/json' } })).json()) as SessionBody;
    const put = await fetch(`${b.origin}/reservations/api/v1/structures/college-a/functional-account/delegates`, {
      method: 'PUT',
      headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrfToken, accept: 'application/json' },
      body: JSON.stringify({ userIds: [] }),
    });
    expect(put.status).toBe(200);
    const page = await (await fetch(`${b.origin}/reservations/`, { headers: { cookie, accept: 'text/html' } })).text();
    const csrf = page.match(/action="\/auth\/logout"[\s\S]*?name="_csrf" value="([^"]+)"/)![1]!;
    const out = await fetch(`${a.origin}/auth/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${encodeURIComponent(csrf)}`, redirect: 'manual' });
    expect(out.status).toBe(200);
    for (const backend of backends) {
      const res = await fetch(`${backend.origin}/reservations/api/v1/session`, { headers: { cookie, accept: 'application/json' } });
      expect(res.status).toBe(401);
    }
  });

  it('a new school signing in on both processes at once gets one service.informatique account', async () => {
    const people = Array.from({ length: 6 }, (_, i) => `oidc-twin-${i}`);
    for (const [i, sub] of people.entries()) {
      provider.accounts.set(sub, { preferred_username: `twin${i}`, name: `Prof ${i}`, profile: 'Teacher', structures: [{ id: 'college-twin', name: 'Collège des Deux Process' }] });
    }
    const pages = await Promise.all(people.map((sub) => signInThroughProvider(new Browser(certificate.cert), proxyOrigin, provider.issuer, sub)));
    expect(pages.map((p) => p.status)).toEqual(people.map(() => 200));
    expect(await db.knex('host_users').where({ functional_structure_id: 'college-twin' })).toHaveLength(1);
    expect(await db.knex('rsv_incident_types').where({ structure_id: 'college-twin' })).toHaveLength(5);
  });

  it('each mail is sent once, with the mail worker running in both processes', async () => {
    const browser = new Browser(certificate.cert);
    await signInThroughProvider(browser, proxyOrigin, provider.issuer, subOf('enseignant'));
    const cookie = browser.cookieHeader(proxyOrigin);
    const [a, b] = backends as [Backend, Backend];
    const session = (await (await fetch(`${a.origin}/reservations/api/v1/session`, { headers: { cookie, accept: 'application/json' } })).json()) as SessionBody;
    const wifi = await db.knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'wifi' }).first('id');
    const type = await db.knex('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first('id');
    const severity = await db.knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first('id');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const target = i % 2 === 0 ? a : b;
      const res = await fetch(`${target.origin}/reservations/api/v1/structures/college-a/incidents`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrfToken, accept: 'application/json' },
        body: JSON.stringify({ equipmentId: String(wifi.id), typeId: String(type.id), severityId: String(severity.id), description: `Panne numéro ${i}` }),
      });
      expect(res.status).toBe(201);
      ids.push(String(((await res.json()) as { id: string }).id));
    }
    const teacherMails = async () => (await mailCatcher.list(2000)).filter((m) => m.to.includes('enseignant@college-a.demo-ent.test'));
    const until = Date.now() + 30_000;
    while (Date.now() < until && (await teacherMails()).length < ids.length) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000)); // both workers poll again: a duplicate would show now
    const mails = await teacherMails();
    expect(mails.map((m) => m.subject.match(/^\[#(\d+)\]/)![1]).sort()).toEqual([...ids].sort());
    const deliveries = await db.knex('rsv_deliveries').whereIn('notification_id', db.knex('rsv_notifications').select('id').whereIn('subject_id', ids));
    expect(deliveries.every((d: { status: string; attempts: number }) => d.status === 'sent' && d.attempts === 1)).toBe(true);
  }, 60_000);
});

if (!onPostgres) {
  it.skip('two processes need PostgreSQL (embedded PGlite is one process): skipped', () => undefined);
}
