import type { Client } from 'pg';
import type { Knex } from 'knex';
import type { ModuleContext } from '../src/context';
import { HostDirectory } from '../src/hostkit/directory';
import { crossSchoolStats, schoolStats } from '../src/services/stats';
import { schoolYearOf } from '../src/domain/stats';
import { summaryPeriod } from '../src/store/stats';
import { DateTime } from 'luxon';
import { encodeCursor } from '../src/domain/keyset';
import type { BenchConfig } from './config';
import type { HttpRequest, Session } from './http';
import { inTransaction, RawTransaction } from './raw';
import { FIRST_SLOT_HOUR, insertFreshIncidents, schoolId, SLOTS_PER_DAY, TIME_ZONE } from './seed';

/** What the scenarios know of the data and of the signed-in users. */
export interface SchoolData {
  idx: number;
  sid: string;
  equipment: string[];
  rooms: string[];
  types: string[];
  severities: string[];
}

export interface BenchContext {
  config: BenchConfig;
  databaseUrl: string;
  /** A connection for set-up and checks (never used by a measured run). */
  admin: Client;
  schools: Map<number, SchoolData>;
  /** Schools the declaration, inbox, dashboard and move scenarios spread over (school 1, the big one, excluded). */
  activeIdxs: number[];
  bigIdx: number;
  /** bookingSchoolsPerRun schools per booking run, so that every run books in the same conditions (an empty future). */
  bookingIdxs: number[];
  bookingSchoolsPerRun: number;
  teachers: Map<number, Session[]>;
  referents: Map<number, Session>;
  collectivite: Session;
  /** Ids deep in the big school's inbox (its older half): the cursors of the deep-page scenario. */
  deepIds: string[];
  /** The longer statistics period: the previous and the current school year. */
  statsWindow: { from: string; to: string };
  /** For capturing the statements of the statistics services (never used by a measured run). */
  knex: Knex;
  allSchoolIds: string[];
  /** The first booking id of the bench's own bookings (for the double-booking check). */
  bookingMark: string;
  /** Whether the module writes a mail outbox (rsv_notifications): the raw side then writes its rows too. */
  outbox: boolean;
}

export interface RunSlot {
  mode: 'http' | 'raw';
  connections: number;
  /** 0, 1, 2...: the n-th run of this scenario (several schools are used in turn). */
  run: number;
}

export interface Prepared {
  next?: () => HttpRequest;
  tx?: RawTransaction;
}

export interface Scenario {
  name: string;
  label: string;
  /** What the raw side runs, for the table's footnotes. */
  rawIs: string;
  /** Statuses that are a normal answer (anything else is reported, and fails the run if it is a 5xx). */
  expected: number[];
  /** Slow scenarios: this many requests (and raw transactions) at each concurrency instead of a duration. */
  amount?: (connections: number, config: BenchConfig) => number;
  /** Not run in the quick mode (CI): informative figures that only mean something on the full data. */
  fullOnly?: boolean;
  /** Extra environment for the host (e.g. NOTIFICATIONS=0): the harness restarts the host for it. */
  hostEnv?: Record<string, string>;
  /** A request that tells whether the route exists yet (404 means not: the scenario is skipped). */
  probe(ctx: BenchContext): HttpRequest | Promise<HttpRequest>;
  prepare(ctx: BenchContext, slot: RunSlot): Promise<Prepared>;
  /** Called before the runs; the function it returns is called after them and may return a note for the table. */
  verify?(ctx: BenchContext): Promise<() => Promise<string | null>>;
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[rnd(items.length)]!;
export const INBOX_LIMIT = 20;

export async function loadSchools(admin: Client, idxs: number[]): Promise<Map<number, SchoolData>> {
  const { rows } = await admin.query(
    `SELECT s.id AS sid, substring(s.id from 7)::int AS idx,
            (SELECT coalesce(array_agg(e.id::text ORDER BY e.id), '{}') FROM rsv_equipment e WHERE e.structure_id = s.id AND e.seed_code LIKE 'bench-eq-%') AS equipment,
            (SELECT coalesce(array_agg(e.id::text ORDER BY e.id), '{}') FROM rsv_equipment e WHERE e.structure_id = s.id AND e.seed_code LIKE 'bench-room-%') AS rooms,
            (SELECT coalesce(array_agg(v.id::text ORDER BY v.id), '{}') FROM rsv_incident_types v WHERE v.structure_id = s.id AND v.retired_at IS NULL) AS types,
            (SELECT coalesce(array_agg(v.id::text ORDER BY v.id), '{}') FROM rsv_severities v WHERE v.structure_id = s.id AND v.retired_at IS NULL) AS severities
       FROM host_structures s WHERE s.id = ANY($1)`,
    [idxs.map(schoolId)],
  );
  return new Map(rows.map((r) => [r.idx, r as SchoolData]));
}

// ---- the statements the services run, written out for the raw side ------------------------------------------------

/** src/store/incidents.ts listIncidents (one school, newest first): the page by keyset, then its labels. */
const INBOX_SQL = (withCursor: boolean) => `
  SELECT i.*, e.name AS equipment_name, e.type_id AS equipment_type_id, rt.name AS equipment_type_name, rt.name_key AS equipment_type_name_key,
         it.label AS type_label, it.label_key AS type_label_key, it.retired_at AS type_retired_at,
         sv.label AS severity_label, sv.label_key AS severity_label_key, sv.retired_at AS severity_retired_at
    FROM (SELECT i.id, i.structure_id, i.equipment_id, i.type_id, i.severity_id, i.reporter_id, i.assignee_id, i.level, i.domain,
                 i.status, i.version, i.out_of_service, i.created_at, i.updated_at, i.taken_at, i.resolved_at, i.last_event_at,
                 left(i.description, 160) AS description
            FROM rsv_incidents i
           WHERE i.structure_id = $1 ${withCursor ? 'AND i.id < $3' : ''}
           ORDER BY i.id DESC LIMIT $2) i
    JOIN rsv_equipment e ON e.id = i.equipment_id AND e.structure_id IS NOT DISTINCT FROM i.structure_id
    JOIN rsv_resource_types rt ON rt.id = e.type_id AND rt.structure_id IS NOT DISTINCT FROM i.structure_id
    JOIN rsv_incident_types it ON it.id = i.type_id AND it.structure_id IS NOT DISTINCT FROM i.structure_id
    JOIN rsv_severities sv ON sv.id = i.severity_id AND sv.structure_id IS NOT DISTINCT FROM i.structure_id
   ORDER BY i.id DESC`;

/** src/store/incident-events.ts appendIncidentEvent: the event and the incident's last_event_at in one statement. */
const EVENT_SQL = `
  WITH ev AS (
    INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, comment, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
  ), moved AS (
    UPDATE rsv_incidents i SET last_event_at = ev.created_at FROM ev
     WHERE i.id = ev.incident_id AND i.structure_id = ev.structure_id AND ev.kind <> 'created'
  )
  SELECT * FROM ev`;

/** src/notifications/outbox.ts recordNotification: one row per told change, in the change's transaction. */
async function notify(client: Client, sid: string, kind: string, subjectId: string, eventId: string, actorId: string, to: string | null): Promise<void> {
  await client.query(
    // Born expanded: the same row, but the host's mail worker must not work on the raw side's rows meanwhile.
    `INSERT INTO rsv_notifications (actor_id, data, event_id, kind, structure_id, subject_id, subject_type, expanded_at) VALUES ($1, $2, $3, $4, $5, $6, 'incident', now())`,
    [actorId, JSON.stringify({ to, level: null }), eventId, kind, sid, subjectId],
  );
}

/**
 * The statements a statistics service call runs (src/services/stats.ts), captured once through a knex query listener
 * and then replayed verbatim, in order, on the raw side: the same SQL with the same bindings, without HTTP. The service
 * runs them in parallel on several pooled connections; the raw side runs them one after the other on its one.
 */
export interface Captured {
  sql: string;
  bindings: unknown[];
}

async function capture(ctx: BenchContext, run: (module: ModuleContext) => Promise<unknown>): Promise<Captured[]> {
  const statements: Captured[] = [];
  const listener = (q: { sql?: string; bindings?: unknown[] }) => {
    if (q.sql && !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(q.sql)) statements.push({ sql: q.sql, bindings: q.bindings ?? [] });
  };
  const module = { knex: ctx.knex, host: { directory: new HostDirectory(ctx.knex).hookParts().directory } } as unknown as ModuleContext;
  ctx.knex.on('query', listener);
  try {
    await run(module);
  } finally {
    ctx.knex.off('query', listener);
  }
  return statements;
}

async function replay(client: Client, statements: Captured[]): Promise<string> {
  for (const q of statements) await client.query(q.sql, q.bindings);
  return 'ok';
}

/**
 * The longer statistics period of the bench: the previous and the current school year, the longest a dashboard offers
 * at once and one the cross-school summary keeps (span 2).
 */
export function lastTwoSchoolYears(today: string): { from: string; to: string } {
  return summaryPeriod({ year: Number(schoolYearOf(today).from.slice(0, 4)) - 1, span: 2 });
}

/** The query string of a statistics request: the default period (the current school year), or the last two school years. */
function periodQuery(ctx: BenchContext, whole: boolean): string {
  return whole ? `?from=${ctx.statsWindow.from}&to=${ctx.statsWindow.to}` : '';
}
const periodInput = (ctx: BenchContext, whole: boolean) => (whole ? { ...ctx.statsWindow } : {});

function dashboardScenario(whole: boolean): Scenario {
  return {
    name: whole ? 'dashboard-history' : 'dashboard',
    label: whole ? 'school dashboard, 2 school years' : 'school dashboard',
    fullOnly: whole,
    rawIs: `the statements of schoolStats() for the same school, captured and replayed`,
    expected: [200],
    probe: (ctx) => ({ method: 'GET', path: `/structures/${schoolId(ctx.activeIdxs[0]!)}/stats${periodQuery(ctx, whole)}`, session: ctx.referents.get(ctx.activeIdxs[0]!)! }),
    async prepare(ctx, slot) {
      const idxs = ctx.activeIdxs;
      const statements = new Map<number, Captured[]>();
      if (slot.mode === 'raw') {
        for (const idx of idxs) statements.set(idx, await capture(ctx, (m) => schoolStats(m, schoolId(idx), periodInput(ctx, whole))));
      }
      return {
        next: () => {
          const idx = pick(idxs);
          return { method: 'GET', path: `/structures/${schoolId(idx)}/stats${periodQuery(ctx, whole)}`, session: ctx.referents.get(idx)! };
        },
        tx: (client) => replay(client, statements.get(pick(idxs))!),
      };
    },
  };
}

function crossSchoolScenario(whole: boolean): Scenario {
  return {
    name: whole ? 'stats-all-history' : 'stats-all',
    label: whole ? 'cross-school statistics, 2 school years' : 'cross-school statistics',
    fullOnly: whole,
    rawIs: 'the statements of crossSchoolStats() over every school, captured and replayed',
    expected: [200],
    // Tens of milliseconds to a few hundred per request: a few rounds of requests per connection.
    amount: (connections, config) => Math.max(config.quick ? 4 : 12, connections * (config.quick ? 1 : 3)),
    probe: (ctx) => ({ method: 'GET', path: `/stats${periodQuery(ctx, whole)}`, session: ctx.collectivite }),
    async prepare(ctx, slot) {
      const statements = slot.mode === 'raw' ? await capture(ctx, (m) => crossSchoolStats(m, ctx.allSchoolIds, periodInput(ctx, whole))) : [];
      return {
        next: () => ({ method: 'GET', path: `/stats${periodQuery(ctx, whole)}`, session: ctx.collectivite }),
        tx: (client) => replay(client, statements),
      };
    },
  };
}

/** A random one-hour slot on a weekday 4 to 364 days ahead, 08:00-17:00 school time. */
function randomSlot(): { startsAt: DateTime; endsAt: DateTime } {
  let day = DateTime.now().setZone(TIME_ZONE).startOf('day').plus({ days: 4 + rnd(361) });
  if (day.weekday > 5) day = day.plus({ days: 8 - day.weekday });
  const startsAt = day.set({ hour: FIRST_SLOT_HOUR + rnd(SLOTS_PER_DAY) });
  return { startsAt, endsAt: startsAt.plus({ hours: 1 }) };
}

const DECLARATION = "Le vidéoprojecteur s'éteint tout seul au bout de dix minutes, voyant orange.";

function teacherOf(ctx: BenchContext, idx: number): Session {
  return pick(ctx.teachers.get(idx)!);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'inbox-first',
    label: 'inbox, first page',
    rawIs: 'the list query (labels joined, keyset)',
    expected: [200],
    probe: (ctx) => ({ method: 'GET', path: `/structures/${schoolId(ctx.activeIdxs[0]!)}/incidents?limit=${INBOX_LIMIT}`, session: ctx.referents.get(ctx.activeIdxs[0]!)! }),
    async prepare(ctx) {
      const idxs = [ctx.bigIdx, ...ctx.activeIdxs];
      return {
        next: () => {
          const idx = pick(idxs);
          return { method: 'GET', path: `/structures/${schoolId(idx)}/incidents?limit=${INBOX_LIMIT}`, session: ctx.referents.get(idx)! };
        },
        tx: async (client) => {
          await client.query(INBOX_SQL(false), [schoolId(pick(idxs)), INBOX_LIMIT + 1]);
          return 'ok';
        },
      };
    },
  },
  {
    name: 'inbox-deep',
    label: 'inbox, deep page (cursor)',
    rawIs: 'the list query after the cursor',
    expected: [200],
    probe: (ctx) => ({ method: 'GET', path: `/structures/${schoolId(ctx.bigIdx)}/incidents?limit=${INBOX_LIMIT}&cursor=${encodeCursor(ctx.deepIds[0]!)}`, session: ctx.referents.get(ctx.bigIdx)! }),
    async prepare(ctx) {
      const sid = schoolId(ctx.bigIdx);
      return {
        next: () => ({ method: 'GET', path: `/structures/${sid}/incidents?limit=${INBOX_LIMIT}&cursor=${encodeCursor(pick(ctx.deepIds))}`, session: ctx.referents.get(ctx.bigIdx)! }),
        tx: async (client) => {
          await client.query(INBOX_SQL(true), [sid, INBOX_LIMIT + 1, pick(ctx.deepIds)]);
          return 'ok';
        },
      };
    },
  },
  dashboardScenario(false),
  crossSchoolScenario(false),
  declareScenario(true),
  {
    name: 'move',
    label: 'take an incident in charge',
    rawIs: 'read + versioned UPDATE + 2 x (event with last_event_at, outbox row) (one transaction)',
    expected: [200],
    async probe(ctx) {
      const [item] = await insertFreshIncidents(ctx.admin, [ctx.activeIdxs[0]!], 1);
      return { method: 'POST', path: `/incidents/${item!.id}/transitions`, session: ctx.referents.get(item!.idx)!, body: { to: 'taken' } };
    },
    async prepare(ctx, slot) {
      // Fresh incidents in status `new`, never moved twice: more than this run can possibly use.
      const perSchool = Math.ceil((slot.mode === 'raw' ? 6000 : 3000) * (ctx.config.durationSeconds + ctx.config.warmupSeconds + 1) / ctx.activeIdxs.length);
      const fresh = await insertFreshIncidents(ctx.admin, ctx.activeIdxs, perSchool);
      let cursor = 0;
      const take = () => {
        const item = fresh[cursor++];
        if (!item) throw new Error('the move scenario ran out of fresh incidents');
        return item;
      };
      return {
        next: () => {
          const item = take();
          return { method: 'POST', path: `/incidents/${item.id}/transitions`, session: ctx.referents.get(item.idx)!, body: { to: 'taken' } };
        },
        tx: async (client) => {
          const item = take();
          const sid = schoolId(item.idx);
          const actor = ctx.referents.get(item.idx)!.userId;
          return inTransaction(client, async () => {
            const { rows } = await client.query(`SELECT * FROM rsv_incidents WHERE structure_id = $1 AND id = $2 LIMIT 1`, [sid, item.id]);
            const row = rows[0];
            const updated = await client.query(
              `UPDATE rsv_incidents SET status = 'taken', taken_at = now(), assignee_id = $4, version = $3 + 1, updated_at = now()
                WHERE structure_id = $1 AND id = $2 AND version = $3 RETURNING *`,
              [sid, item.id, row.version, actor],
            );
            if (!updated.rowCount) return 'conflict';
            const event = await client.query(EVENT_SQL, [item.id, sid, 'status_changed', actor, 'new', 'taken', null, '{}']);
            if (ctx.outbox) await notify(client, sid, 'incident.status_changed', item.id, event.rows[0].id, actor, 'taken');
            const assigned = await client.query(EVENT_SQL, [item.id, sid, 'assigned', actor, null, null, null, JSON.stringify({ fromAssigneeId: null, toAssigneeId: actor })]);
            if (ctx.outbox) await notify(client, sid, 'incident.assigned', item.id, assigned.rows[0].id, actor, null);
            return 'ok';
          });
        },
      };
    },
  },
  {
    name: 'book',
    label: 'book a room',
    rawIs: 'INSERT booking under the exclusion constraint + INSERT event',
    expected: [201, 409],
    probe: (ctx) => booking(ctx, ctx.bookingIdxs[ctx.bookingIdxs.length - 1]!),
    async prepare(ctx, slot) {
      // Each run books in schools of its own, so every run starts from the same seeded future.
      const per = ctx.bookingSchoolsPerRun;
      const idxs = ctx.bookingIdxs.slice((slot.run * per) % ctx.bookingIdxs.length, (slot.run * per) % ctx.bookingIdxs.length + per);
      // A re-used database (BENCH_REUSE=1) keeps the bookings of earlier runs: they go, the seeded ones stay.
      for (const idx of idxs) {
        const sid = ctx.schools.get(idx)!.sid;
        await ctx.admin.query(`DELETE FROM rsv_booking_events WHERE booking_id IN (SELECT id FROM rsv_bookings WHERE structure_id = $1 AND reason = 'Bench')`, [sid]);
        await ctx.admin.query(`DELETE FROM rsv_bookings WHERE structure_id = $1 AND reason = 'Bench'`, [sid]);
      }
      return {
        next: () => booking(ctx, pick(idxs)),
        tx: async (client) => {
          const idx = pick(idxs);
          const school = ctx.schools.get(idx)!;
          const owner = teacherOf(ctx, idx).userId;
          const { startsAt, endsAt } = randomSlot();
          try {
            return await inTransaction(client, async () => {
              const { rows } = await client.query(
                `INSERT INTO rsv_bookings (structure_id, equipment_id, owner_id, starts_at, ends_at, reason, status, series_id)
                 VALUES ($1, $2, $3, $4, $5, $6, 'validated', NULL) RETURNING *`,
                [school.sid, pick(school.rooms), owner, startsAt.toJSDate(), endsAt.toJSDate(), 'Bench'],
              );
              await client.query(`INSERT INTO rsv_booking_events (booking_id, structure_id, kind, actor_id, data) VALUES ($1, $2, 'booked', $3, '{}')`, [
                rows[0].id,
                school.sid,
                owner,
              ]);
              return 'created';
            });
          } catch (error) {
            if ((error as { code?: string }).code === '23P01') return 'conflict';
            throw error;
          }
        },
      };
    },
  },
  // Last: computed live over every incident, they take seconds per request (and load the host most).
  dashboardScenario(true),
  crossSchoolScenario(true),
];

/**
 * Declaring an incident; `outbox: false` is the same with the host's notifications switched off (NOTIFICATIONS=0), the
 * other half of issue 5's comparison, and a raw side without the outbox row.
 */
export function declareScenario(outbox: boolean): Scenario {
  return {
    name: outbox ? 'declare' : 'declare-notifications-off',
    label: outbox ? 'declare an incident' : 'declare an incident (notifications off)',
    rawIs: outbox ? 'INSERT incident + event + outbox row (one transaction)' : 'INSERT incident + event (one transaction)',
    hostEnv: outbox ? undefined : { NOTIFICATIONS: '0' },
    expected: [201],
    probe: (ctx) => declaration(ctx, ctx.activeIdxs[0]!),
    ...(outbox ? {} : { verify: outboxUnused }),
    async prepare(ctx) {
      return {
        next: () => declaration(ctx, pick(ctx.activeIdxs)),
        tx: async (client) => {
          const school = ctx.schools.get(pick(ctx.activeIdxs))!;
          const reporter = teacherOf(ctx, school.idx).userId;
          const equipmentId = pick(school.equipment);
          const typeId = pick(school.types);
          const severityId = pick(school.severities);
          return inTransaction(client, async () => {
            const { rows } = await client.query(
              `INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
              [school.sid, equipmentId, typeId, severityId, DECLARATION, reporter],
            );
            const event = await client.query(EVENT_SQL, [rows[0].id, school.sid, 'created', reporter, null, 'new', null, JSON.stringify({ equipmentId, typeId, severityId })]);
            if (outbox && ctx.outbox) await notify(client, school.sid, 'incident.created', rows[0].id, event.rows[0].id, reporter, 'new');
            return 'ok';
          });
        },
      };
    },
  };
}

/** Checks that the host honoured NOTIFICATIONS=0: no outbox row may appear during the runs. */
async function outboxUnused(ctx: BenchContext): Promise<() => Promise<string | null>> {
  if (!ctx.outbox) return async () => null;
  const before = (await ctx.admin.query(`SELECT coalesce(max(id), 0) AS id FROM rsv_notifications`)).rows[0].id;
  return async () => {
    const { rows } = await ctx.admin.query(`SELECT count(*)::int AS n FROM rsv_notifications WHERE id > $1`, [before]);
    return rows[0].n > 0 ? `NOTIFICATIONS=0 not honoured by the host: ${rows[0].n} outbox rows written` : null;
  };
}

function declaration(ctx: BenchContext, idx: number): HttpRequest {
  const school = ctx.schools.get(idx)!;
  return {
    method: 'POST',
    path: `/structures/${school.sid}/incidents`,
    session: teacherOf(ctx, idx),
    body: { equipmentId: pick(school.equipment), typeId: pick(school.types), severityId: pick(school.severities), description: DECLARATION },
  };
}

function booking(ctx: BenchContext, idx: number): HttpRequest {
  const school = ctx.schools.get(idx)!;
  const { startsAt, endsAt } = randomSlot();
  return {
    method: 'POST',
    path: `/structures/${school.sid}/bookings`,
    session: teacherOf(ctx, idx),
    body: { equipmentId: pick(school.rooms), startsAt: startsAt.toISO(), endsAt: endsAt.toISO(), reason: 'Bench' },
  };
}

/** Live bookings of the bench that overlap another live booking of the same room: must be 0. */
export async function doubleBookings(admin: Client, sinceId: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n
       FROM rsv_bookings a
       JOIN rsv_bookings b ON b.equipment_id = a.equipment_id AND b.id <> a.id
        AND tstzrange(b.starts_at, b.ends_at, '[)') && tstzrange(a.starts_at, a.ends_at, '[)')
        AND b.status IN ('pending', 'validated')
      WHERE a.id >= $1 AND a.status IN ('pending', 'validated')`,
    [sinceId],
  );
  return rows[0].n;
}
