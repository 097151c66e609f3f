/**
 * `npx tsx bench/trace.ts`: the SQL statements one request of each scenario runs, with their durations, on the bench
 * database (seed it first with `npm run bench`). The reference host runs in this process with a knex query listener;
 * this is how the round trips behind each figure of the benchmark are counted (N+1 queries show up at once).
 *
 *   BENCH_TRACE=inbox-first,declare   only these scenarios
 */
import pino from 'pino';
import { Client } from 'pg';
import { DateTime } from 'luxon';
import { startReferenceHost } from '../src/devhost/start';
import { benchConfig } from './config';
import { freePort } from './host-process';
import { once, signIn, Session } from './http';
import { BenchContext, lastTwoSchoolYears, loadSchools, SCENARIOS } from './scenarios';
import { COLLECTIVITE_LOGIN, referentLogin, schoolId, teacherLogin, TIME_ZONE } from './seed';

async function main(): Promise<void> {
  const config = benchConfig();
  const only = process.env.BENCH_TRACE?.split(',');
  // No mail worker here: its background statements would mix with the request's.
  const started = await startReferenceHost({
    databaseUrl: config.databaseUrl, demo: false, httpLog: false, logger: pino({ level: 'warn' }), smtpCatcherPort: 0, config: { runWorker: false },
  });
  const port = await freePort();
  const server = started.referenceHost.app.listen(port, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${port}`;
  const admin = new Client({ connectionString: config.databaseUrl });
  await admin.connect();
  try {
    const count = (await admin.query(`SELECT count(*)::int AS n FROM host_structures WHERE id LIKE 'bench-%'`)).rows[0].n as number;
    const active = [2, 3].filter((i) => i <= count);
    const booking = [count];
    const schools = await loadSchools(admin, [1, ...active, ...booking]);
    const teachers = new Map(await Promise.all([...active, ...booking].map(async (i) => [i, [await signIn(baseUrl, teacherLogin(i, 1))]] as [number, Session[]])));
    const referents = new Map(await Promise.all([1, ...active].map(async (i) => [i, await signIn(baseUrl, referentLogin(i, 1))] as const)));
    const deepIds = (await admin.query(`SELECT id::text FROM rsv_incidents WHERE structure_id = $1 ORDER BY id LIMIT 5`, [schoolId(1)])).rows.map((r) => r.id);
    const today = DateTime.now().setZone(TIME_ZONE).startOf('day');
    const ctx: BenchContext = {
      config, databaseUrl: config.databaseUrl, admin, schools, activeIdxs: active, bigIdx: 1, bookingIdxs: booking, bookingSchoolsPerRun: 1, teachers, referents,
      collectivite: await signIn(baseUrl, COLLECTIVITE_LOGIN), deepIds,
      statsWindow: lastTwoSchoolYears(today.toISODate()!),
      allSchoolIds: (await admin.query(`SELECT id FROM host_structures WHERE id LIKE 'bench-%'`)).rows.map((r) => r.id), bookingMark: '0', outbox: true, knex: started.db.knex,
    };
    // The module's knex is a clone of the host's (withUserParams): listen on both.
    const instances = [...new Set([started.db.knex, started.module.context.knex])];
    let trace: Array<{ sql: string; t0: bigint; ms?: number }> | null = null;
    const byUid = new Map<string, { sql: string; t0: bigint; ms?: number }>();
    for (const knex of instances) knex.on('query', (q: { sql: string; __knexQueryUid: string }) => {
      if (!trace || (q.__knexQueryUid && byUid.has(q.__knexQueryUid))) return;
      const entry = { sql: q.sql.replace(/\s+/g, ' ').slice(0, 220), t0: process.hrtime.bigint() };
      trace.push(entry);
      byUid.set(q.__knexQueryUid, entry);
    });
    for (const knex of instances) knex.on('query-response', (_r: unknown, q: { __knexQueryUid: string }) => {
      const entry = byUid.get(q.__knexQueryUid);
      if (entry && entry.ms === undefined) entry.ms = Number(process.hrtime.bigint() - entry.t0) / 1e6;
    });
    for (const scenario of SCENARIOS) {
      if (only && !only.includes(scenario.name)) continue;
      for (let i = 0; i < 2; i++) {
        const request = await scenario.probe(ctx);
        trace = [];
        const t0 = process.hrtime.bigint();
        const res = await once(baseUrl, request);
        const total = Number(process.hrtime.bigint() - t0) / 1e6;
        if (i === 0) continue; // the first request warms caches and prepared plans
        console.log(`\n== ${scenario.label}: ${request.method} ${request.path} -> ${res.status}, ${total.toFixed(1)} ms, ${trace.length} statements`);
        for (const q of trace) console.log(`  ${(q.ms ?? NaN).toFixed(2).padStart(7)} ms  ${q.sql}`);
        trace = null;
      }
    }
  } finally {
    server.close();
    await admin.end();
    await started.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
