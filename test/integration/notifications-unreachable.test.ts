import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startTestHost, TestHost } from '../helpers/host';
import { settle } from '../helpers/mail';

/**
 * A mail server that cannot be reached at all (nothing listens on its port): once a batch's first mails fail to
 * connect, the rest of the batch is not tried (each would wait for its own connection to fail), every delivery stays
 * pending, and when a server listens again each mail goes exactly once.
 */
let h: TestHost;
let port = 0;
let smtp: SMTPServer | null = null;
const accepted: string[] = [];

beforeAll(async () => {
  // A port nobody listens on, for now.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  h = await startTestHost({ smtpUrl: `smtp://127.0.0.1:${port}`, config: { mailConcurrency: 2, mailRetryDelaySeconds: 1 } });
});
afterAll(async () => {
  await h.stop();
  if (smtp) await new Promise<void>((resolve) => smtp!.close(() => resolve()));
});

it('a batch stops trying once the server cannot be reached; when it listens again each mail goes once', async () => {
  const projector = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-projector-12' }).first()).id);
  const typeId = String((await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id);
  const severityId = String((await h.db.knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id);
  const teacher = await h.as('enseignant');
  for (let i = 0; i < 6; i++) {
    const res = await teacher.post('/structures/college-a/incidents', { equipmentId: projector, typeId, severityId, description: `Serveur injoignable ${i}` });
    expect(res.status).toBe(201);
  }
  // Twelve deliveries (the teacher and the shared mailbox, six times), all pending; not every one was even tried.
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    if (Number((await h.db.knex('rsv_deliveries').count({ n: '*' }).first())!.n) === 12) break;
    await settle(100);
  }
  await settle(1500);
  const rows: Array<{ status: string; attempts: number }> = await h.db.knex('rsv_deliveries').select('status', 'attempts');
  expect(rows).toHaveLength(12);
  expect(rows.every((r) => r.status === 'pending')).toBe(true);
  expect(rows.filter((r) => r.attempts > 0).length).toBeLessThan(12);

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        accepted.push(/^Message-ID:\s*(\S+)/im.exec(raw)?.[1] ?? '');
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp!.listen(port, '127.0.0.1', resolve));
  for (const end = Date.now() + 60_000; accepted.length < 12 && Date.now() < end; ) await settle(200);
  await settle(1500);
  expect(accepted).toHaveLength(12);
  expect(new Set(accepted).size).toBe(12);
  expect(Number((await h.db.knex('rsv_deliveries').where({ status: 'sent' }).count({ n: '*' }).first())!.n)).toBe(12);
}, 90_000);
