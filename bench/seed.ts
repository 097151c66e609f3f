import { Client } from 'pg';
import pino from 'pino';
import { openDatabase, migrate } from '../src/db';
import { hostMigrations } from '../src/hostkit/migrations';
import { moduleMigrations, MODULE_MIGRATIONS_TABLE } from '../migrations';
import { HOST_MIGRATIONS_TABLE } from '../src/devhost/start';
import { ReferenceHost } from '../src/devhost/host';
import { install } from '../src/index';
import { SERVICE_ACCOUNT_LOGIN } from '../src/services/install';
import { backfillServiceClock } from '../src/services/service-clock';
import { refreshSummaries } from '../src/services/stats-summary';
import { HostDirectory } from '../src/hostkit/directory';
import type { ModuleContext } from '../src/context';
import type { BenchConfig, Sizes } from './config';

/**
 * The bench data set, made with set-based SQL (generate_series, INSERT ... SELECT): nothing goes row by row through the
 * API. The directory (schools, users, memberships) is the host's, then the module's own install() runs for every school
 * (settings, default grants, the service.informatique account, seeded lists), then equipment, incidents with their
 * history and bookings are added in bulk.
 *
 * Names are stable so that a re-used database (BENCH_REUSE=1) is understood without any side table:
 *   school i             bench-0001 ... (school 1 is the big one: BENCH share of all incidents, for deep pages)
 *   teacher t of i       login bt<i>-<t>, id u-bt<i>-<t>
 *   referents of i       br<i>-1, br<i>-2 (delegates of the school's service.informatique)
 *   admin of i           bd<i> (AdminLocal)
 *   local authority      bench-collectivite, member of every school, granted stats.viewAcrossStructures by group
 */
export const schoolId = (i: number) => `bench-${String(i).padStart(4, '0')}`;
export const teacherLogin = (i: number, t: number) => `bt${i}-${t}`;
export const referentLogin = (i: number, k: number) => `br${i}-${k}`;
export const COLLECTIVITE_LOGIN = 'bench-collectivite';
export const TIME_ZONE = 'Europe/Paris';
/** Booking slots of the seed and of the booking scenario: one hour, from 08:00 to 17:00 (school time). */
export const SLOTS_PER_DAY = 9;
export const FIRST_SLOT_HOUR = 8;

const log = (message: string) => console.log(`[bench] ${message}`);

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await work();
  log(`${label} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  return result;
}

function serverUrl(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/.test(name)) throw new Error(`BENCH_DATABASE_URL: unusable database name "${name}"`);
  return name;
}

/** Creates the bench database if absent; drops and re-creates it unless asked to reuse it. Returns whether it is fresh. */
export async function prepareDatabase(config: BenchConfig): Promise<boolean> {
  const name = databaseName(config.databaseUrl);
  if (['postgres', 'template0', 'template1', 'test'].includes(name)) throw new Error(`Refusing to drop the "${name}" database: give the bench its own`);
  const admin = new Client({ connectionString: serverUrl(config.databaseUrl, 'postgres') });
  await admin.connect();
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount! > 0;
    if (exists && config.reuse) {
      const seeded = await isSeeded(config.databaseUrl);
      if (seeded) {
        log(`re-using the seeded database ${name} (BENCH_REUSE=1)`);
        return false;
      }
    }
    if (exists) {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      await admin.query(`DROP DATABASE "${name}"`);
    }
    await admin.query(`CREATE DATABASE "${name}"`);
    log(`created the database ${name}`);
    return true;
  } finally {
    await admin.end();
  }
}

async function isSeeded(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT to_regclass('rsv_incidents') IS NOT NULL AS ok`);
    if (!rows[0].ok) return false;
    const count = await client.query(`SELECT count(*)::int AS n FROM host_structures WHERE id LIKE 'bench-%'`);
    return count.rows[0].n > 0;
  } finally {
    await client.end();
  }
}

/** The host's and the module's migrations, through the project's own code. */
export async function runMigrations(databaseUrl: string): Promise<void> {
  const db = await openDatabase({ url: databaseUrl });
  try {
    await migrate(db.knex, HOST_MIGRATIONS_TABLE, hostMigrations);
    await migrate(db.knex, MODULE_MIGRATIONS_TABLE, moduleMigrations);
  } finally {
    await db.close();
  }
}

async function seedDirectory(client: Client, s: Sizes): Promise<void> {
  await client.query(
    `INSERT INTO host_structures (id, name)
     SELECT 'bench-' || lpad(i::text, 4, '0'), 'Collège Bench n° ' || i FROM generate_series(1, $1::int) i`,
    [s.schools],
  );
  await client.query(
    `INSERT INTO host_users (id, login, display_name, profile, email)
     SELECT 'u-' || login, login, name, profile, login || '@bench.test'
       FROM (
         SELECT 'bt' || i || '-' || t AS login, 'Enseignant ' || i || '-' || t AS name, 'Teacher' AS profile
           FROM generate_series(1, $1::int) i, generate_series(1, $2::int) t
         UNION ALL
         SELECT 'br' || i || '-' || k, 'Référent ' || i || '-' || k, CASE k WHEN 1 THEN 'Teacher' ELSE 'Personnel' END
           FROM generate_series(1, $1::int) i, generate_series(1, 2) k
         UNION ALL
         SELECT 'bd' || i, 'Direction ' || i, 'Personnel' FROM generate_series(1, $1::int) i
         UNION ALL
         SELECT $3, 'Collectivité (bench)', 'Personnel'
       ) u`,
    [s.schools, s.teachersPerSchool, COLLECTIVITE_LOGIN],
  );
  await client.query(
    `INSERT INTO host_user_structures (user_id, structure_id, is_admin)
     SELECT 'u-' || login, 'bench-' || lpad(i::text, 4, '0'), admin
       FROM (
         SELECT i, 'bt' || i || '-' || t AS login, false AS admin FROM generate_series(1, $1::int) i, generate_series(1, $2::int) t
         UNION ALL SELECT i, 'br' || i || '-' || k, false FROM generate_series(1, $1::int) i, generate_series(1, 2) k
         UNION ALL SELECT i, 'bd' || i, true FROM generate_series(1, $1::int) i
         UNION ALL SELECT i, $3, false FROM generate_series(1, $1::int) i
       ) m`,
    [s.schools, s.teachersPerSchool, COLLECTIVITE_LOGIN],
  );
  // The local authority's group in each school (granted the cross-school statistics after the install).
  await client.query(
    `INSERT INTO host_groups (id, structure_id, name)
     SELECT 'g-' || id || '-collectivite', id, 'Collectivité territoriale' FROM host_structures WHERE id LIKE 'bench-%'`,
  );
  await client.query(
    `INSERT INTO host_group_members (group_id, user_id)
     SELECT 'g-' || id || '-collectivite', 'u-' || $1 FROM host_structures WHERE id LIKE 'bench-%'`,
    [COLLECTIVITE_LOGIN],
  );
}

/** The module's own install, for every school, as a host runs it (through the reference host's hook API). */
async function installModule(databaseUrl: string): Promise<void> {
  const db = await openDatabase({ url: databaseUrl, poolMax: 4 });
  const logger = pino({ level: 'warn' });
  try {
    const referenceHost = new ReferenceHost({ knex: db.knex, kind: db.kind, publicUrl: 'http://127.0.0.1:1', logger, httpLog: false });
    const module = await install(referenceHost.host, { logger, config: { runWorker: false } });
    await module.close();
  } finally {
    await db.close();
  }
}

async function afterInstall(client: Client, s: Sizes): Promise<void> {
  // The referents: delegates of each school's service.informatique (created by the install above).
  await client.query(
    `INSERT INTO host_functional_delegates (account_id, user_id)
     SELECT fa.id, 'u-br' || substring(fa.functional_structure_id from 7)::int || '-' || k
       FROM host_users fa, generate_series(1, 2) k
      WHERE fa.functional_structure_id LIKE 'bench-%' AND fa.login = $1
     ON CONFLICT DO NOTHING`,
    [SERVICE_ACCOUNT_LOGIN],
  );
  await client.query(
    `INSERT INTO host_grants (structure_id, action, subject_kind, subject_id)
     SELECT id, 'stats.viewAcrossStructures', 'group', 'g-' || id || '-collectivite' FROM host_structures WHERE id LIKE 'bench-%'
     ON CONFLICT DO NOTHING`,
  );
  // Equipment: 40 pieces for incidents (type "maintenance") and 20 rooms for bookings (type "rooms") per school.
  await client.query(
    `INSERT INTO rsv_equipment (structure_id, type_id, name, location, responsible_id, position, seed_code)
     SELECT t.structure_id, t.id,
            CASE WHEN t.seed_code = 'rooms' THEN 'Salle ' || (100 + k) ELSE (ARRAY['Vidéoprojecteur', 'TNI', 'Imprimante', 'Poste élève', 'Borne wifi'])[1 + k % 5] || ' ' || k END,
            'Bâtiment ' || chr(65 + k % 4), fa.id, 10 + k,
            CASE WHEN t.seed_code = 'rooms' THEN 'bench-room-' ELSE 'bench-eq-' END || k
       FROM rsv_resource_types t
       JOIN host_users fa ON fa.functional_structure_id = t.structure_id AND fa.login = $3
       CROSS JOIN LATERAL generate_series(1, CASE WHEN t.seed_code = 'rooms' THEN $2::int ELSE $1::int END) k
      WHERE t.structure_id LIKE 'bench-%' AND t.seed_code IN ('rooms', 'maintenance')`,
    [s.equipmentPerSchool, s.roomsPerSchool, SERVICE_ACCOUNT_LOGIN],
  );
}

/** The module's services on the bench database, outside any host (what they need of one: the directory). */
async function withModule<T>(databaseUrl: string, work: (module: ModuleContext) => Promise<T>): Promise<T> {
  const db = await openDatabase({ url: databaseUrl, poolMax: 4 });
  try {
    const module = { knex: db.knex, host: { directory: new HostDirectory(db.knex).hookParts().directory }, logger: pino({ level: 'warn' }) } as unknown as ModuleContext;
    return await work(module);
  } finally {
    await db.close();
  }
}

/** A session-local table of each school's ids, the lookup every bulk insert joins. */
export async function createSchoolLookup(client: Client): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS pg_temp.bs`);
  await client.query(
    `CREATE TEMP TABLE bs AS
     SELECT substring(s.id from 7)::int AS idx, s.id AS sid,
            (SELECT array_agg(e.id ORDER BY e.id) FROM rsv_equipment e WHERE e.structure_id = s.id AND e.seed_code LIKE 'bench-eq-%') AS equip,
            (SELECT array_agg(e.id ORDER BY e.id) FROM rsv_equipment e WHERE e.structure_id = s.id AND e.seed_code LIKE 'bench-room-%') AS rooms,
            (SELECT array_agg(v.id ORDER BY v.position, v.id) FROM rsv_incident_types v WHERE v.structure_id = s.id AND v.retired_at IS NULL) AS types,
            (SELECT array_agg(v.id ORDER BY v.position, v.id) FROM rsv_severities v WHERE v.structure_id = s.id AND v.retired_at IS NULL) AS sevs
       FROM host_structures s WHERE s.id LIKE 'bench-%'`,
  );
  await client.query(`CREATE UNIQUE INDEX ON bs (idx)`);
  await client.query(`ANALYZE bs`);
}

const DESCRIPTIONS = [
  "le vidéoprojecteur ne s'allume plus depuis ce matin",
  "l'ordinateur du bureau ne démarre pas, écran noir",
  'le TNI ne répond plus au stylet, calibrage impossible',
  "plus d'accès à internet dans la salle, le wifi tourne",
  "l'imprimante affiche un bourrage papier permanent",
];

/**
 * Incidents at school times (weekdays 08:00-18:00, Paris) over the last `days` days, ids in time order; the older an
 * incident, the likelier it is closed. School 1 gets `bigShare` of them, the others share the rest at random.
 */
async function seedIncidents(client: Client, s: Sizes, days: number): Promise<void> {
  await client.query(`SELECT setseed(0.42)`);
  await client.query(
    `INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id, assignee_id,
                                status, version, created_at, updated_at, taken_at, resolved_at, last_event_at)
     SELECT y.sid, y.equipment_id, y.type_id, y.severity_id, y.description, y.reporter_id,
            CASE WHEN y.status = 'new' THEN NULL ELSE y.referent_id END, y.status,
            CASE y.status WHEN 'new' THEN 1 WHEN 'taken' THEN 2 ELSE 3 END,
            y.created_at, coalesce(y.resolved_at, y.taken_at, y.created_at), y.taken_at, y.resolved_at,
            coalesce(y.resolved_at, y.taken_at, y.created_at)
       FROM (
         SELECT z.*,
                CASE WHEN z.status <> 'new' THEN least(now(), z.created_at + z.r2 * interval '3 days') END AS taken_at,
                CASE WHEN z.status IN ('closed', 'dismissed') THEN least(now(), z.created_at + z.r2 * interval '3 days' + z.r3 * interval '10 days') END AS resolved_at
           FROM (
             SELECT bs.sid,
                    bs.equip[1 + floor(x.r4 * array_length(bs.equip, 1))::int] AS equipment_id,
                    bs.types[1 + floor(x.r5 * array_length(bs.types, 1))::int] AS type_id,
                    bs.sevs[1 + floor(x.r6 * array_length(bs.sevs, 1))::int] AS severity_id,
                    'Incident ' || x.g || ' : ' || ($5::text[])[1 + x.g % 5] AS description,
                    'u-bt' || bs.idx || '-' || (1 + x.g % $4::int) AS reporter_id,
                    'u-br' || bs.idx || '-' || (1 + x.g % 2) AS referent_id,
                    x.created_at,
                    CASE WHEN now() - x.created_at < interval '2 days' THEN
                           CASE WHEN x.r1 < 0.6 THEN 'new' WHEN x.r1 < 0.85 THEN 'taken' ELSE 'in_progress' END
                         WHEN now() - x.created_at < interval '30 days' THEN
                           CASE WHEN x.r1 < 0.15 THEN 'new' WHEN x.r1 < 0.35 THEN 'taken' WHEN x.r1 < 0.6 THEN 'in_progress' WHEN x.r1 < 0.95 THEN 'closed' ELSE 'dismissed' END
                         ELSE
                           CASE WHEN x.r1 < 0.02 THEN 'taken' WHEN x.r1 < 0.05 THEN 'in_progress' WHEN x.r1 < 0.9 THEN 'closed' ELSE 'dismissed' END
                    END AS status,
                    x.r2, x.r3
               FROM (
                 SELECT w.*, least(now(), ((w.day - CASE extract(isodow FROM w.day) WHEN 6 THEN 1 WHEN 7 THEN 2 ELSE 0 END)::timestamp
                                           + (8 + 10 * random()) * interval '1 hour') AT TIME ZONE '${TIME_ZONE}') AS created_at
                   FROM (
                     SELECT g, CASE WHEN random() < $2::float8 THEN 1 ELSE 2 + floor(random() * ($1::int - 1))::int END AS idx,
                            (now() AT TIME ZONE '${TIME_ZONE}')::date - floor(random() * $6::int)::int AS day,
                            random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6
                       FROM generate_series(1, $3::int) g
                   ) w
               ) x
               JOIN bs ON bs.idx = x.idx
           ) z
       ) y
      ORDER BY y.created_at`,
    [s.schools, s.schools > 1 ? s.bigSchoolShare : 1, s.incidents, s.teachersPerSchool, DESCRIPTIONS, days],
  );
  await insertHistory(client, 0);
}

/** The history of incidents with an id above `afterId`: created, taken and assigned, in progress, resolved. */
async function insertHistory(client: Client, afterId: number | string): Promise<void> {
  await client.query(
    `INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, data, created_at)
     SELECT i.id, i.structure_id, ev.kind, ev.actor_id, ev.from_status, ev.to_status, ev.data, ev.at
       FROM rsv_incidents i
       CROSS JOIN LATERAL (VALUES
         (1, 'created', i.reporter_id, NULL::text, 'new'::text, i.created_at,
             jsonb_build_object('equipmentId', i.equipment_id::text, 'typeId', i.type_id::text, 'severityId', i.severity_id::text)),
         (2, 'status_changed', i.assignee_id, 'new', 'taken', i.taken_at, '{}'::jsonb),
         (3, 'assigned', i.assignee_id, NULL, NULL, i.taken_at, jsonb_build_object('fromAssigneeId', NULL, 'toAssigneeId', i.assignee_id)),
         (4, 'status_changed', i.assignee_id, 'taken', 'in_progress', CASE WHEN i.status = 'in_progress' THEN least(now(), i.taken_at + interval '1 hour') END, '{}'::jsonb),
         (5, 'status_changed', i.assignee_id, 'taken', i.status, CASE WHEN i.status IN ('closed', 'dismissed') THEN i.resolved_at END, '{}'::jsonb)
       ) AS ev(n, kind, actor_id, from_status, to_status, at, data)
      WHERE i.id > $1 AND i.structure_id LIKE 'bench-%' AND ev.at IS NOT NULL AND ev.actor_id IS NOT NULL`,
    [afterId],
  );
}

/**
 * Bookings that never overlap within a room: room r's k-th booking takes slot k * stride + (r mod stride) of a grid of
 * one-hour slots on weekdays, from 52 weeks ago to 52 weeks ahead. One in twenty is cancelled.
 */
async function seedBookings(client: Client, s: Sizes): Promise<void> {
  const rooms = s.schools * s.roomsPerSchool;
  const perRoom = Math.max(1, Math.round(s.bookings / rooms));
  const totalSlots = 104 * 5 * SLOTS_PER_DAY;
  const stride = Math.max(1, Math.floor(totalSlots / perRoom));
  await client.query(
    `INSERT INTO rsv_bookings (structure_id, equipment_id, owner_id, starts_at, ends_at, reason, status, cancelled_by, cancelled_at, created_at, updated_at)
     SELECT r.sid, r.room_id, r.owner_id, t.st, t.st + interval '1 hour', 'Cours ' || r.rn,
            CASE WHEN c.cancelled THEN 'cancelled' ELSE 'validated' END,
            CASE WHEN c.cancelled THEN r.owner_id END, CASE WHEN c.cancelled THEN least(now(), t.st) - interval '1 day' END,
            least(now(), t.st) - interval '7 days', least(now(), t.st) - interval '7 days'
       FROM (SELECT bs.idx, bs.sid, u.room_id, u.rn::int AS rn, 'u-bt' || bs.idx || '-' || (1 + u.rn % $5::int) AS owner_id
               FROM bs CROSS JOIN LATERAL unnest(bs.rooms) WITH ORDINALITY AS u(room_id, rn)) r
      CROSS JOIN generate_series(0, $1::int - 1) k
      CROSS JOIN LATERAL (SELECT k * $2::int + (r.rn * 7 + r.idx) % $2::int AS slot, (k * 7 + r.rn) % 20 = 0 AS cancelled) c
      CROSS JOIN LATERAL (
        SELECT ((date_trunc('week', now() AT TIME ZONE '${TIME_ZONE}')::date - 364 + ((c.slot / $3::int) / 5) * 7 + (c.slot / $3::int) % 5)::timestamp
                + make_interval(hours => $4::int + (c.slot % $3::int)::int)) AT TIME ZONE '${TIME_ZONE}' AS st
      ) t`,
    [perRoom, stride, SLOTS_PER_DAY, FIRST_SLOT_HOUR, s.teachersPerSchool],
  );
  await client.query(
    `INSERT INTO rsv_booking_events (booking_id, structure_id, kind, actor_id, created_at)
     SELECT id, structure_id, 'booked', owner_id, created_at FROM rsv_bookings WHERE structure_id LIKE 'bench-%'`,
  );
}

/**
 * Bulk loading: secondary indexes are dropped and re-built after the load (same definitions, read back from the
 * catalogue), and foreign-key triggers are off for this session (the rows are consistent by construction).
 */
async function withoutIndexes<T>(client: Client, tables: string[], work: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [tables],
  );
  for (const r of rows) await client.query(`DROP INDEX "${r.indexname}"`);
  const result = await work();
  await timed(`re-built ${rows.length} indexes`, async () => {
    for (const r of rows) await client.query(r.indexdef);
  });
  return result;
}

export async function seed(config: BenchConfig): Promise<void> {
  const s = config.sizes;
  await timed('migrations', () => runMigrations(config.databaseUrl));
  const client = new Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    await client.query(`SET synchronous_commit = off`);
    await client.query(`SET maintenance_work_mem = '512MB'`);
    await client.query(`SET work_mem = '256MB'`);
    await timed(`directory: ${s.schools} schools, ${s.schools * (s.teachersPerSchool + 3) + 1} users`, () => seedDirectory(client, s));
    await timed(`module install() in ${s.schools} schools`, () => installModule(config.databaseUrl));
    await timed(`equipment: ${s.equipmentPerSchool} + ${s.roomsPerSchool} rooms per school, referents, grants`, () => afterInstall(client, s));
    await createSchoolLookup(client);
    await client.query(`SET session_replication_role = replica`);
    await withoutIndexes(client, ['rsv_incidents', 'rsv_incident_events', 'rsv_bookings', 'rsv_booking_events'], async () => {
      await timed(`${s.incidents.toLocaleString('en')} incidents with their history`, () => seedIncidents(client, s, config.historyDays));
      await timed(`${s.bookings.toLocaleString('en')} bookings`, () => seedBookings(client, s));
      // The module's own code for what it derives from the rows: the service clock (due times, school hours).
      await timed('service clock of the seeded incidents (backfillServiceClock)', () => withModule(config.databaseUrl, (m) => backfillServiceClock(m.knex, 5000)));
    });
    await client.query(`SET session_replication_role = DEFAULT`);
    await timed('VACUUM ANALYZE', async () => {
      await client.query(`VACUUM (ANALYZE)`);
      await client.query(`CHECKPOINT`);
    });
    // The cross-school view reads a per-school summary of each school year, which the host's job queue keeps fresh.
    await timed('cross-school summaries of the current and previous school years (refreshSummaries)', () =>
      withModule(config.databaseUrl, (m) => refreshSummaries(m, { budgetMs: 4 * 3600_000 })),
    );
  } finally {
    await client.end();
  }
}

/** Data counts, printed and kept in the results. */
export async function dataCounts(client: Client): Promise<Record<string, number>> {
  const { rows } = await client.query(
    `SELECT (SELECT count(*) FROM host_structures WHERE id LIKE 'bench-%')::int AS schools,
            (SELECT count(*) FROM host_users)::int AS users,
            (SELECT count(*) FROM rsv_equipment)::int AS equipment,
            (SELECT reltuples::bigint FROM pg_class WHERE oid = 'rsv_incidents'::regclass)::bigint AS incidents,
            (SELECT reltuples::bigint FROM pg_class WHERE oid = 'rsv_incident_events'::regclass)::bigint AS incident_events,
            (SELECT reltuples::bigint FROM pg_class WHERE oid = 'rsv_bookings'::regclass)::bigint AS bookings,
            pg_database_size(current_database()) AS bytes`,
  );
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
}

/**
 * Fresh incidents in status `new`, for the "take in charge" scenario (each request moves one; none is moved twice).
 * Returns them grouped by school index.
 */
export async function insertFreshIncidents(client: Client, schoolIdxs: number[], perSchool: number): Promise<Array<{ id: string; idx: number }>> {
  await createSchoolLookup(client);
  const before = (await client.query(`SELECT coalesce(max(id), 0) AS id FROM rsv_incidents`)).rows[0].id;
  const { rows } = await client.query<{ id: string; idx: number }>(
    `INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id)
     SELECT bs.sid, bs.equip[1 + g % array_length(bs.equip, 1)], bs.types[1 + g % array_length(bs.types, 1)],
            bs.sevs[1 + g % array_length(bs.sevs, 1)], 'Incident frais ' || g || ' : ' || ($3::text[])[1 + g % 5], 'u-bt' || bs.idx || '-1'
       FROM bs JOIN unnest($1::int[]) AS a(idx) ON a.idx = bs.idx CROSS JOIN generate_series(1, $2::int) g
     RETURNING id, substring(structure_id from 7)::int AS idx`,
    [schoolIdxs, perSchool, DESCRIPTIONS],
  );
  await insertHistory(client, before);
  return rows.map((r) => ({ id: String(r.id), idx: Number(r.idx) }));
}
