/**
 * Measures the mail worker alone: how many mails per second the in-process Notifier sends to an SMTP server that
 * accepts everything (bench/smtp-sink.ts), from notifications already in the outbox to every delivery sent.
 *
 *   NODE_ENV=production npx tsx scripts/mail-throughput.ts                  N=2000 incident notifications on PostgreSQL
 *   NODE_ENV=production MAIL_DB=pglite npx tsx scripts/mail-throughput.ts   the same on embedded PGlite (one connection)
 *   N=500 MAIL_CONCURRENCY=8 npx tsx scripts/mail-throughput.ts
 *
 * NODE_ENV=production as in a deployment: the mail templates are compiled once, not at every mail.
 *
 * Database: MAIL_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema dropped at the end.
 * The reference host's demo (two schools, their users and equipment) gives the people; incidents and notifications
 * are written by SQL, then the worker is woken and the clock runs until no notification is unexpanded and no
 * delivery is pending.
 */
import crypto from 'node:crypto';
import pino from 'pino';
import { Client } from 'pg';
import { openDatabase } from '../src/db';
import { startReferenceHost } from '../src/devhost/start';
import { demoUserId } from '../src/devhost/demo';
import { startSmtpSink } from '../bench/smtp-sink';

const N = Number(process.env.N ?? 2000);
const INCIDENTS_PER_SCHOOL = 100;
const url = process.env.MAIL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const onPglite = process.env.MAIL_DB === 'pglite';
const TIMEOUT_MS = Number(process.env.MAIL_TIMEOUT_SECONDS ?? 600) * 1000;

async function main(): Promise<void> {
  const schema = `mail_tp_${crypto.randomBytes(4).toString('hex')}`;
  const db = onPglite ? await openDatabase({}) : await openDatabase({ url, schema, poolMax: 10 });
  const sink = await startSmtpSink();
  const host = await startReferenceHost({
    db,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
    publicUrl: 'http://127.0.0.1:3999',
    startMailCatcher: false,
    smtpUrl: sink.url,
    // The worker runs here; polling as in production (each batch wakes the next one itself).
    config: { runWorker: true, notifications: true },
  });
  const knex = db.knex;
  try {
    // Incidents: INCIDENTS_PER_SCHOOL per demo school, reported by its teacher, half of them followed by a referent.
    const schools = [
      { id: 'college-a', reporter: demoUserId('enseignant'), referent: demoUserId('referent1') },
      { id: 'college-b', reporter: demoUserId('enseignant2'), referent: demoUserId('referent-b') },
    ];
    for (const s of schools) {
      await knex.raw(
        `INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id)
         SELECT ?, (SELECT min(id) FROM rsv_equipment WHERE structure_id = ?), (SELECT min(id) FROM rsv_incident_types WHERE structure_id = ?),
                (SELECT min(id) FROM rsv_severities WHERE structure_id = ?), 'Mesure du débit des mails ' || g, ?
         FROM generate_series(1, ?) g`,
        [s.id, s.id, s.id, s.id, s.reporter, INCIDENTS_PER_SCHOOL],
      );
      await knex.raw(
        `INSERT INTO rsv_incident_followers (incident_id, user_id, structure_id)
         SELECT id, ?, structure_id FROM rsv_incidents WHERE structure_id = ? AND id % 2 = 0`,
        [s.referent, s.id],
      );
    }
    // N notifications spread over the incidents: declarations, status changes and comments by the referent.
    await knex.raw(
      `INSERT INTO rsv_notifications (structure_id, kind, subject_type, subject_id, actor_id, data)
       SELECT i.structure_id, k.kind, 'incident', i.id, CASE WHEN k.kind = 'incident.created' THEN i.reporter_id ELSE ? END, '{}'::jsonb
       FROM generate_series(0, ? - 1) g
       JOIN LATERAL (SELECT * FROM rsv_incidents ORDER BY id OFFSET g % (SELECT count(*) FROM rsv_incidents) LIMIT 1) i ON true
       JOIN LATERAL (SELECT (ARRAY['incident.created', 'incident.created', 'incident.status_changed', 'incident.comment'])[g % 4 + 1] AS kind) k ON true`,
      [demoUserId('referent2'), N],
    );
    const started = Date.now();
    host.module.context.notifier.wake();
    let last = { at: started, sent: 0 };
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const row = (
        await knex.raw(
          `SELECT (SELECT count(*) FROM rsv_notifications WHERE expanded_at IS NULL)::int AS unexpanded,
                  (SELECT count(*) FROM rsv_deliveries WHERE status = 'pending')::int AS pending,
                  (SELECT count(*) FROM rsv_deliveries WHERE status = 'sent')::int AS sent,
                  (SELECT count(*) FROM rsv_deliveries WHERE status = 'failed')::int AS failed`,
        )
      ).rows[0] as { unexpanded: number; pending: number; sent: number; failed: number };
      const now = Date.now();
      const rate = ((row.sent - last.sent) * 1000) / (now - last.at);
      console.log(`[mail] ${((now - started) / 1000).toFixed(1)} s: ${row.unexpanded} unexpanded, ${row.pending} pending, ${row.sent} sent (${rate.toFixed(1)} mails/s), ${row.failed} failed`);
      last = { at: now, sent: row.sent };
      if (row.unexpanded === 0 && row.pending === 0) {
        const seconds = (now - started) / 1000;
        console.log(`[mail] ${N} notifications, ${row.sent} mails sent (${sink.received()} received by the sink) in ${seconds.toFixed(1)} s: ${(row.sent / seconds).toFixed(1)} mails/s on ${onPglite ? 'PGlite' : 'PostgreSQL'}`);
        break;
      }
      if (now - started > TIMEOUT_MS) {
        console.log(`[mail] gave up after ${TIMEOUT_MS / 1000} s: ${(row.sent / ((now - started) / 1000)).toFixed(1)} mails/s so far`);
        break;
      }
    }
  } finally {
    await host.close();
    await sink.stop();
    await db.close().catch(() => undefined);
    if (!onPglite) {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${schema}_pgboss CASCADE`);
      await client.end();
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
