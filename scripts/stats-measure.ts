/**
 * Measures the statistics queries at department scale, on a schema of its own (the numbers of the README's
 * "Statistics" section come from here; `npm run bench` measures the HTTP endpoints).
 *
 *   npx tsx scripts/stats-measure.ts                 seeds STATS_SCHOOLS schools (default 1000) with STATS_INCIDENTS
 *                                                    incidents (default 1,000,000) over three school years, and
 *                                                    STATS_BOOKINGS bookings (default 1,000,000) over the last one
 *   STATS_REUSE=1 npx tsx scripts/stats-measure.ts   measures again without seeding
 *   STATS_PARTS=dashboard,live,fill,summary          only some of the measures (default: all)
 *
 * Database: STATS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), schema `perf_stats`.
 */
import { openDatabase, migrate } from '../src/db';
import { moduleMigrations, MODULE_MIGRATIONS_TABLE } from '../migrations';
import { schoolStats, crossSchoolStats } from '../src/services/stats';
import { refreshSummaries } from '../src/services/stats-summary';
import { staleSummaries } from '../src/store/stats';
import type { ModuleContext } from '../src/context';

const url = process.env.STATS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'perf_stats';
const SCHOOLS = Number(process.env.STATS_SCHOOLS ?? 1000);
const INCIDENTS = Number(process.env.STATS_INCIDENTS ?? 1_000_000);
const BOOKINGS = Number(process.env.STATS_BOOKINGS ?? 1_000_000);
const ROOMS = 20;
const EQUIPMENT = 10;

async function time<T>(label: string, runs: number, f: () => Promise<T>): Promise<T> {
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    result = await f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!.toFixed(1);
  console.log(`${label.padEnd(60)} runs ${String(runs).padStart(3)}  p50 ${q(0.5).padStart(8)} ms  p99 ${q(0.99).padStart(8)} ms  max ${times[times.length - 1]!.toFixed(1).padStart(8)} ms`);
  return result;
}

async function main() {
  const db = await openDatabase({ url, schema: SCHEMA, poolMax: 10 });
  const knex = db.knex;
  if (process.env.STATS_REUSE !== '1') {
    await knex.raw(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await knex.raw(`CREATE SCHEMA ${SCHEMA}`);
    await migrate(knex, MODULE_MIGRATIONS_TABLE, moduleMigrations);
    const t0 = Date.now();
    await knex.raw(`
      INSERT INTO rsv_structure_settings (structure_id, holidays)
      SELECT 's' || lpad(s::text, 4, '0'),
             '[{"from":"2025-10-18","to":"2025-11-02","label":"Toussaint"},{"from":"2025-12-20","to":"2026-01-04","label":"Noël"},
               {"from":"2026-02-14","to":"2026-03-01","label":"Hiver"},{"from":"2026-04-11","to":"2026-04-26","label":"Printemps"},
               {"from":"2026-07-04","to":"2026-08-31","label":"Été"}]'::jsonb
        FROM generate_series(1, ${SCHOOLS}) s`);
    await knex.raw(`
      INSERT INTO rsv_resource_types (structure_id, name, purpose, seed_code)
      SELECT structure_id, kind, kind, kind FROM rsv_structure_settings, (VALUES ('booking'), ('incident')) k(kind)`);
    await knex.raw(`
      INSERT INTO rsv_equipment (structure_id, type_id, name, responsible_id, seed_code)
      SELECT t.structure_id, t.id, CASE WHEN t.purpose = 'booking' THEN 'Salle ' ELSE 'Équipement ' END || j, 'sa', t.purpose || '-' || j
        FROM rsv_resource_types t, generate_series(1, ${Math.max(ROOMS, EQUIPMENT)}) j
       WHERE j <= CASE WHEN t.purpose = 'booking' THEN ${ROOMS} ELSE ${EQUIPMENT} END`);
    await knex.raw(`INSERT INTO rsv_incident_types (structure_id, label, seed_code, position) SELECT structure_id, 'Type ' || j, 't' || j, j FROM rsv_structure_settings, generate_series(1, 5) j`);
    await knex.raw(`INSERT INTO rsv_severities (structure_id, label, seed_code, position) SELECT structure_id, 'Gravité ' || j, 'g' || j, j FROM rsv_structure_settings, generate_series(1, 5) j`);
    // Lookup tables: the n-th equipment, type, severity of the n-th school.
    await knex.raw(`CREATE TEMP TABLE eq AS SELECT (substr(structure_id, 2))::int AS s, (split_part(seed_code, '-', 2))::int AS j, split_part(seed_code, '-', 1) AS purpose, id FROM rsv_equipment`);
    await knex.raw(`CREATE TEMP TABLE ty AS SELECT (substr(structure_id, 2))::int AS s, position AS j, id FROM rsv_incident_types`);
    await knex.raw(`CREATE TEMP TABLE sv AS SELECT (substr(structure_id, 2))::int AS s, position AS j, id FROM rsv_severities`);
    // Incidents over three years, in school hours more often than not; 90 % resolved, the rest new or taken.
    await knex.raw(`
      CREATE TEMP TABLE gen AS
      SELECT n, 1 + (hashint4(n) & 2147483647) % ${SCHOOLS} AS s,
             now() - interval '3 years' * ((hashint4(n * 7) & 2147483647)::float8 / 2147483647) AS created,
             (hashint4(n * 13) & 2147483647) % 100 AS fate,
             interval '1 hour' * (0.1 + 72 * ((hashint4(n * 17) & 2147483647)::float8 / 2147483647)) AS to_take,
             interval '1 hour' * (1 + 200 * ((hashint4(n * 19) & 2147483647)::float8 / 2147483647)) AS to_resolve
        FROM generate_series(1, ${INCIDENTS}) n`);
    await knex.raw(`
      INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id, status, created_at, updated_at, last_event_at, taken_at, resolved_at)
      SELECT 's' || lpad(g.s::text, 4, '0'), e.id, ty.id, sv.id, 'Panne n° ' || g.n, 'u',
             CASE WHEN g.fate < 85 THEN 'closed' WHEN g.fate < 90 THEN 'dismissed' WHEN g.fate < 95 THEN 'taken' ELSE 'new' END,
             g.created, g.created, g.created,
             CASE WHEN g.fate < 95 AND g.created + g.to_take < now() THEN g.created + g.to_take END,
             CASE WHEN g.fate < 90 AND g.created + g.to_take + g.to_resolve < now() THEN g.created + g.to_take + g.to_resolve END
        FROM gen g
        JOIN eq e ON e.s = g.s AND e.purpose = 'incident' AND e.j = 1 + g.n % ${EQUIPMENT}
        JOIN ty ON ty.s = g.s AND ty.j = 1 + g.n % 5
        JOIN sv ON sv.s = g.s AND sv.j = 1 + (g.n / 7) % 5`);
    // Keep the status consistent with the timestamps (the young ones are not resolved yet).
    await knex.raw(`UPDATE rsv_incidents SET status = CASE WHEN taken_at IS NULL THEN 'new' ELSE 'taken' END WHERE resolved_at IS NULL AND status IN ('closed', 'dismissed')`);
    await knex.raw(`UPDATE rsv_incidents SET status = 'new' WHERE taken_at IS NULL AND status = 'taken'`);
    await knex.raw(`INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, to_status, created_at) SELECT id, structure_id, 'created', reporter_id, 'new', created_at FROM rsv_incidents`);
    await knex.raw(`
      INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, created_at)
      SELECT id, structure_id, 'status_changed', 'r', 'new', CASE WHEN resolved_at IS NULL THEN status ELSE 'taken' END, taken_at FROM rsv_incidents WHERE taken_at IS NOT NULL`);
    await knex.raw(`
      INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, created_at)
      SELECT id, structure_id, 'status_changed', 'r', 'taken', status, resolved_at FROM rsv_incidents WHERE resolved_at IS NOT NULL`);
    // Bookings of the last school year: distinct (room, day, hour) slots, so the exclusion constraint never fires.
    await knex.raw(`
      INSERT INTO rsv_bookings (structure_id, equipment_id, owner_id, starts_at, ends_at, status)
      SELECT 's' || lpad(x.s::text, 4, '0'), e.id, 'u',
             (x.day + time '08:00' + interval '1 hour' * x.slot) AT TIME ZONE 'Europe/Paris',
             (x.day + time '09:00' + interval '1 hour' * x.slot) AT TIME ZONE 'Europe/Paris',
             CASE WHEN x.n % 20 = 0 THEN 'cancelled' ELSE 'validated' END
        FROM (
          SELECT DISTINCT ON (s, room, day, slot) n, s, room, day, slot FROM (
            SELECT n, 1 + (hashint4(n) & 2147483647) % ${SCHOOLS} AS s, 1 + (hashint4(n * 3) & 2147483647) % ${ROOMS} AS room,
                   date '2025-09-01' + (hashint4(n * 5) & 2147483647) % 365 AS day, (hashint4(n * 11) & 2147483647) % 9 AS slot
              FROM generate_series(1, ${BOOKINGS}) n) r
        ) x
        JOIN eq e ON e.s = x.s AND e.purpose = 'booking' AND e.j = x.room`);
    await knex.raw('ANALYZE');
    const counts = await knex.raw(`SELECT (SELECT count(*) FROM rsv_incidents) AS incidents, (SELECT count(*) FROM rsv_incident_events) AS events, (SELECT count(*) FROM rsv_bookings) AS bookings`);
    console.log(`seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s:`, counts.rows[0]);
  }

  await migrate(knex, MODULE_MIGRATIONS_TABLE, moduleMigrations);
  const ctx = { knex, host: { directory: { getStructures: async (ids: string[]) => ids.map((id) => ({ id, name: id })) } } } as unknown as ModuleContext;
  const all = Array.from({ length: SCHOOLS }, (_, i) => `s${String(i + 1).padStart(4, '0')}`);
  const year = { from: '2025-09-01', to: '2026-08-31' };
  const schoolsToTry = (k: number) => all[(k * 37) % all.length]!;
  const parts = new Set((process.env.STATS_PARTS ?? 'dashboard,live,fill,summary').split(','));
  let k = 0;
  if (parts.has('dashboard')) {
    await time('warm-up: school dashboard, default period', 5, () => schoolStats(ctx, schoolsToTry(k++), {}));
    await time('school dashboard, current school year (default)', 100, () => schoolStats(ctx, schoolsToTry(k++), {}));
    await time('school dashboard, last full school year', 100, () => schoolStats(ctx, schoolsToTry(k++), year));
  }
  if (parts.has('live')) {
    await time(`cross-school live, ${SCHOOLS} schools, last full school year`, 3, () => crossSchoolStats(ctx, all, year, new Date(), { live: true }));
    await time('cross-school live, 150 schools (a département), last full school year', 5, () => crossSchoolStats(ctx, all.slice(0, 150), year, new Date(), { live: true }));
  }
  if (parts.has('fill')) {
    await knex.raw('TRUNCATE rsv_stats_summaries');
    const filled = await time(`summary: first fill of ${SCHOOLS} schools x 3 periods (2 school years and both)`, 1, () => refreshSummaries(ctx, { budgetMs: 3_600_000 }));
    console.log('  ', filled);
    await time(`summary: the check for stale schools (${SCHOOLS} schools, nothing changed)`, 5, () => staleSummaries(knex, { year: 2025, span: 1 }, new Date(Date.now() - 86400000), 50));
    const one = await knex('rsv_incidents').where({ structure_id: 's0001' }).orderBy('id', 'desc').first('id');
    await knex('rsv_incidents').where({ id: one.id }).update({ last_event_at: knex.fn.now() });
    await time('summary: a refresh run after one school changed', 1, () => refreshSummaries(ctx));
    const size = await knex.raw(`SELECT pg_size_pretty(pg_total_relation_size('rsv_stats_summaries')) AS size, round(avg(pg_column_size(figures))) AS figures_bytes FROM rsv_stats_summaries`);
    console.log('   summary size:', size.rows[0]);
  }
  if (parts.has('summary')) {
    const twoYears = { from: '2025-09-01', to: '2027-08-31' };
    for (const [label, input] of [['current school year (default)', {}], ['last full school year', year], ['the two school years kept', twoYears]] as const) {
      const first = await crossSchoolStats(ctx, all, input);
      if (first.source !== 'summary') throw new Error('the summary was not used');
      await time(`cross-school from the summary, ${SCHOOLS} schools, ${label}`, 20, () => crossSchoolStats(ctx, all, input));
    }
    await time('cross-school from the summary, 150 schools, last full school year', 20, () => crossSchoolStats(ctx, all.slice(0, 150), year));
  }
  await db.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
