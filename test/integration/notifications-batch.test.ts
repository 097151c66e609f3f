import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startTestHost, TestHost } from '../helpers/host';
import { settle, mailbox, address } from '../helpers/mail';
import { demoUserId } from '../../src/devhost/demo';
import { bossSchemaFor } from '../../src/notifications/queue';

/**
 * The worker sends a batch of deliveries several at a time: a mail the SMTP server refuses is tried again on its own,
 * its neighbours in the batch are sent once and never again.
 */
interface Accepted {
  to: string[];
  messageId: string;
}

let h: TestHost;
let smtp: SMTPServer;
const accepted: Accepted[] = [];
/** Addresses whose next RCPT TO is refused once (a temporary failure, 451). */
const refuseOnce = new Set<string>();

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(rcpt, _session, callback) {
      if (refuseOnce.delete(rcpt.address)) {
        const error = new Error('mailbox busy, try again later') as Error & { responseCode: number };
        error.responseCode = 451;
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        accepted.push({ to: session.envelope.rcptTo.map((r) => r.address), messageId: /^Message-ID:\s*(\S+)/im.exec(raw)?.[1] ?? '' });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  h = await startTestHost({ smtpUrl: `smtp://127.0.0.1:${port}`, config: { mailConcurrency: 3 } });
});
afterAll(async () => {
  await h.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function waitForAccepted(count: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (accepted.length < count && Date.now() < until) await settle(100);
}

describe('a batch of deliveries', () => {
  it('one refused mail is tried again alone; the others of its batch are sent once', async () => {
    const projector = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-projector-12' }).first()).id);
    const typeId = String((await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id);
    const severityId = String((await h.db.knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id);
    const teacher = await h.as('enseignant');
    const incidents: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await teacher.post('/structures/college-a/incidents', { equipmentId: projector, typeId, severityId, description: `Lot de mails ${i}` });
      expect(res.status).toBe(201);
      incidents.push(String(res.body.id));
    }
    // The declarations: the teacher and the shared mailbox, each once.
    await waitForAccepted(6);
    await settle(500);
    expect(accepted).toHaveLength(6);

    // Three notifications recorded together: expanded together, their six deliveries fetched in one batch.
    const before = accepted.length;
    refuseOnce.add(mailbox('college-a'));
    const notificationIds: string[] = (
      await h.db.knex('rsv_notifications')
        .insert(incidents.map((id) => ({ structure_id: 'college-a', kind: 'incident.status_changed', subject_type: 'incident', subject_id: id, actor_id: demoUserId('referent2'), data: '{}' })))
        .returning('id')
    ).map((r: { id: string }) => String(r.id));
    h.module.context.notifier.wake();
    await waitForAccepted(before + 6);
    await settle(2500);

    const batch = accepted.slice(before);
    expect(batch).toHaveLength(6);
    expect(new Set(batch.map((m) => m.messageId)).size).toBe(6);
    expect(batch.flatMap((m) => m.to).sort()).toEqual([...Array(3).fill(address('enseignant')), ...Array(3).fill(mailbox('college-a'))].sort());

    const deliveries = await h.db.knex('rsv_deliveries').whereIn('notification_id', notificationIds).orderBy('id').select('id', 'address', 'status', 'attempts', 'last_error');
    expect(deliveries).toHaveLength(6);
    expect(deliveries.every((d: { status: string; last_error: string | null }) => d.status === 'sent' && d.last_error === null)).toBe(true);
    const tried = deliveries.map((d: { attempts: number }) => d.attempts).sort();
    expect(tried).toEqual([1, 1, 1, 1, 1, 2]);

    // Only the refused delivery's job was retried; its neighbours' jobs completed at their first try.
    const jobs: Array<{ delivery_id: string; state: string; retry_count: number }> = (
      await h.db.knex.raw(`SELECT data->>'deliveryId' AS delivery_id, state, retry_count FROM ${bossSchemaFor(h.db.schema)}.job WHERE name = 'rsv-deliver' AND data->>'deliveryId' = ANY(?)`, [
        deliveries.map((d: { id: string }) => String(d.id)),
      ])
    ).rows;
    const refused = deliveries.find((d: { attempts: number }) => d.attempts === 2)!;
    expect(refused.address).toBe(mailbox('college-a'));
    for (const job of jobs) {
      expect(job.state).toBe('completed');
      expect(job.retry_count).toBe(job.delivery_id === String(refused.id) ? 1 : 0);
    }
    expect(new Set(jobs.map((j) => j.delivery_id)).size).toBe(6);
  }, 60_000);

  it('in the web process, the worker waits for a moment without requests (at most MAIL_YIELD_SECONDS), then goes on', async () => {
    const projector = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-projector-12' }).first()).id);
    const typeId = String((await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id);
    const severityId = String((await h.db.knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id);
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/incidents', { equipmentId: projector, typeId, severityId, description: 'Pendant une requête longue' });
    expect(res.status).toBe(201);
    await waitForAccepted(accepted.length + 2);
    await settle(500);
    const before = accepted.length;
    // A request being served: its response has not closed yet.
    const { EventEmitter } = await import('node:events');
    const response = new EventEmitter();
    const ctx = h.module.context;
    const configured = ctx.config.mailYieldSeconds;
    ctx.config.mailYieldSeconds = 30;
    ctx.load.middleware()({} as never, response as never, () => undefined);
    try {
      expect(ctx.load.busy).toBe(true);
      await h.db.knex('rsv_notifications').insert({ structure_id: 'college-a', kind: 'incident.comment', subject_type: 'incident', subject_id: String(res.body.id), actor_id: demoUserId('referent2'), data: '{}' });
      ctx.notifier.wake();
      await settle(2000);
      expect(accepted.length).toBe(before);
      expect((await h.db.knex('rsv_notifications').where({ subject_id: String(res.body.id), kind: 'incident.comment' }).first()).expanded_at).toBeNull();
    } finally {
      response.emit('close');
      ctx.config.mailYieldSeconds = configured;
    }
    expect(ctx.load.busy).toBe(false);
    // The request over, the worker goes on by itself (long before its 30 s would have passed).
    await waitForAccepted(before + 1, 10_000);
    expect(accepted.length).toBeGreaterThan(before);
    expect(accepted.slice(before).every((m) => m.messageId.startsWith(`<rsv-n`))).toBe(true);
  }, 40_000);
});
