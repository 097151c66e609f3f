import path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { startTestHost, TestHost } from '../helpers/host';
import { waitForMails, settle } from '../helpers/mail';
import { testDatabaseKind } from '../helpers/db';

/**
 * `npm run worker` as its own process, killed with SIGKILL in the middle of a batch: nothing is lost, nothing is sent
 * twice. The SMTP catcher answers each mail slowly, then holds them, so the kill lands while mails are on the wire.
 */
const ROOT = path.join(__dirname, '..', '..');
const onPostgres = testDatabaseKind() === 'postgres';

let h: TestHost;
let tablets: string;
const workers: ChildProcess[] = [];

function startWorker(): ChildProcess {
  // `node --import tsx`, not the tsx CLI: the CLI runs the program in a child process that a SIGKILL of the CLI
  // would leave running, and the point here is to kill the worker for real.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/devhost/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKER_ONLY: '1',
      DATABASE_URL: process.env.RSV_TEST_DB,
      DATABASE_SCHEMA: h.db.schema,
      SMTP_URL: h.mailCatcher.url,
      PUBLIC_URL: 'http://127.0.0.1:3000',
      DEMO_DATA: '0',
      LOG_LEVEL: 'warn',
      MAIL_RETRY_DELAY_SECONDS: '1',
      WORKER_POLLING_SECONDS: '0.5',
      MAIL_LEASE_SECONDS: '3',
      QUEUE_MAINTENANCE_SECONDS: '1',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  workers.push(child);
  return child;
}

(onPostgres ? describe : describe.skip)('the mail worker in its own process', () => {
  beforeAll(async () => {
    // The web side only writes the outbox: its worker is off (RUN_WORKER=0), as in a multi-process set-up.
    h = await startTestHost({ config: { runWorker: false } });
    tablets = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-tablets' }).first()).id);
  });
  afterAll(async () => {
    await Promise.all(workers.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => new Promise((r) => { w.once('exit', r); w.kill('SIGKILL'); })));
    await h.stop();
  });

  it('killed in the middle of a batch loses nothing and duplicates nothing', async () => {
    const teacher = await h.as('enseignant');
    for (let i = 0; i < 10; i++) {
      const day = String(i + 1).padStart(2, '0');
      expect((await teacher.post('/structures/college-a/bookings', { equipmentId: tablets, startsAt: `2030-04-${day}T10:00`, endsAt: `2030-04-${day}T11:00`, reason: `lot ${i}` })).status).toBe(201);
    }
    // Two mails per request (the teacher, the shared mailbox): 20 deliveries once expanded.
    h.mailCatcher.delayMs = 250;
    const first = startWorker();
    await waitForMails(h, (m) => m.text.includes('lot '), 3, 60_000);
    // The kill lands while mails are on the wire: from now on the server holds each mail unanswered, and the kill waits
    // until every mail it did accept has been recorded as sent. (A crash in the instant between the server's "250"
    // and that record is the one way a mail can go twice, with the same Message-ID: no SMTP client can close it.)
    h.mailCatcher.hold();
    const sentCount = async () => Number((await h.db.knex('rsv_deliveries').where({ status: 'sent' }).count({ n: '*' }).first())!.n);
    const until = Date.now() + 60_000;
    for (;;) {
      const { held, answering } = h.mailCatcher.waiting;
      const caught = (await h.mailCatcher.list(1000)).filter((m) => m.text.includes('lot ')).length;
      if (held >= 1 && answering === 0 && caught === (await sentCount())) break;
      if (Date.now() > until) throw new Error(`the worker never had a mail on the wire (held ${held}, caught ${caught})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    // The server sees the dead worker's connections close before it lets the held mails go (and drops them).
    for (const closeBy = Date.now() + 10_000; Date.now() < closeBy; ) {
      const { held, heldFromClosed } = h.mailCatcher.waiting;
      if (heldFromClosed === held) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    h.mailCatcher.release();
    const midway = (await h.mailCatcher.list(1000)).filter((m) => m.text.includes('lot ')).length;
    expect(midway).toBeGreaterThanOrEqual(3);
    expect(midway).toBeLessThan(20);

    h.mailCatcher.delayMs = 0;
    startWorker();
    const all = await waitForMails(h, (m) => m.text.includes('lot '), 20, 90_000);
    await settle(4000);
    const final = (await h.mailCatcher.list(1000)).filter((m) => m.text.includes('lot '));
    expect(all.length).toBe(20);
    expect(final.length).toBe(20);
    expect(new Set(final.map((m) => m.headers['message-id'])).size).toBe(20);
    const statuses = await h.db.knex('rsv_deliveries').groupBy('status').select('status').count({ n: '*' });
    expect(statuses).toEqual([{ status: 'sent', n: '20' }]);
  }, 180_000);
});
