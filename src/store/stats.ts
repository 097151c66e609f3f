import type { Knex } from 'knex';
import { OPEN_STATUSES_SQL, RESOLVED_STATUSES, IncidentStatus } from '../domain/workflow';
import { RESOLVE_DUE_SQL, TAKE_DUE_SQL } from './service-clock-stats';
import type { Period } from '../domain/stats';

/**
 * Statistics as SQL aggregates: PostgreSQL groups, counts and sorts; Node only receives the figures (a few hundred
 * rows at most, whatever the number of incidents). Every query is scoped to a list of structures, and every instant is
 * bucketed in each school's own zone (rsv_structure_settings.time_zone): a period is a range of calendar days there,
 * `[from 00:00, to + 1 day 00:00)` local time, whatever the daylight-saving changes in between.
 *
 * The same queries serve one school (a list of one) and the cross-school view (the user's list): grouping sets give the
 * per-school rows and the totals in one scan.
 */

export interface StatsScope extends Period {
  structureIds: string[];
}

const sqlList = (values: readonly string[]) => values.map((s) => `'${s}'`).join(', ');
/** Written out from the workflow's lists: literal IN lists, so that the planner can use the partial "open" indexes. */
const RESOLVED_SQL = sqlList(RESOLVED_STATUSES);
/**
 * The history kinds that move an incident's status: a referent's move, and the reporter's "not fixed" that reopens it
 * (src/store/incident-events.ts). Written as the partial index rsv_incident_events_moves says, so that it is used.
 */
const MOVE_KINDS_SQL = `kind IN ('status_changed', 'reopened')`;

/**
 * The scope's structures with the instants of the period in each one's zone. `t0` is the first instant of the period,
 * `t1` the first instant after it. Bindings: from, to, structureIds.
 */
const SCOPE_CTE = `
  st AS (
    SELECT s.structure_id, s.time_zone AS tz, s.opening_hours, s.holidays,
           (?::date)::timestamp AT TIME ZONE s.time_zone AS t0,
           (?::date + 1)::timestamp AT TIME ZONE s.time_zone AS t1
      FROM rsv_structure_settings s
     WHERE s.structure_id = ANY(?)
  )`;

const scopeBindings = (scope: StatsScope) => [scope.from, scope.to, scope.structureIds];

async function rows<T>(knex: Knex, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  const result = await knex.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[]);
  return result.rows;
}

export interface IncidentCountRow {
  /** Set for the per-school sets (status, type, severity); null for the weekday/hour/week sets. */
  structure_id: string | null;
  status: IncidentStatus | null;
  type_id: string | null;
  severity_id: string | null;
  weekday: number | null;
  hour: number | null;
  week: string | null;
  count: number;
}

/**
 * Incidents declared in the period, counted by status, type and severity per school, and by weekday, hour and week of
 * declaration (local time) over the whole scope, in one scan of the (structure_id, created_at) index. Each row belongs
 * to one grouping set: the non-null column says which (no grouped column is ever null in the data).
 */
export async function incidentCounts(knex: Knex, scope: StatsScope): Promise<IncidentCountRow[]> {
  if (!scope.structureIds.length) return [];
  return rows<IncidentCountRow>(
    knex,
    `WITH ${SCOPE_CTE},
     i AS (
       SELECT i.structure_id, i.status, i.type_id::text AS type_id, i.severity_id::text AS severity_id,
              extract(isodow FROM i.created_at AT TIME ZONE st.tz)::int AS weekday,
              extract(hour FROM i.created_at AT TIME ZONE st.tz)::int AS hour,
              to_char(date_trunc('week', i.created_at AT TIME ZONE st.tz), 'YYYY-MM-DD') AS week
         FROM st
         JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0 AND i.created_at < st.t1
     )
     SELECT structure_id, status, type_id, severity_id, weekday, hour, week, count(*)::int AS count
       FROM i
      GROUP BY GROUPING SETS ((structure_id, status), (structure_id, type_id), (structure_id, severity_id), (weekday), (hour), (week))`,
    scopeBindings(scope),
  );
}

export interface HandlingRow {
  weekday: number | null;
  hour: number | null;
  week: string | null;
  /** First moves out of `new` (the incident is taken in charge, whatever the move). */
  taken: number;
  /** Moves to closed or dismissed. */
  resolved: number;
  /** Every status change. */
  moves: number;
}

/**
 * The referents' work in the period: status changes made in it (whenever the incident was declared), by weekday, hour
 * and week of the move, local time. "Taken" is the move out of `new`, which happens once per incident (taken_at).
 */
export async function handlingCounts(knex: Knex, scope: StatsScope): Promise<HandlingRow[]> {
  if (!scope.structureIds.length) return [];
  return rows<HandlingRow>(
    knex,
    `WITH ${SCOPE_CTE},
     e AS (
       SELECT e.from_status, e.to_status,
              extract(isodow FROM e.created_at AT TIME ZONE st.tz)::int AS weekday,
              extract(hour FROM e.created_at AT TIME ZONE st.tz)::int AS hour,
              to_char(date_trunc('week', e.created_at AT TIME ZONE st.tz), 'YYYY-MM-DD') AS week
         FROM st
         JOIN rsv_incident_events e ON e.structure_id = st.structure_id AND e.${MOVE_KINDS_SQL}
                                   AND e.created_at >= st.t0 AND e.created_at < st.t1
     )
     SELECT weekday, hour, week,
            (count(*) FILTER (WHERE from_status = 'new'))::int AS taken,
            (count(*) FILTER (WHERE to_status IN (${RESOLVED_SQL})))::int AS resolved,
            count(*)::int AS moves
       FROM e
      GROUP BY GROUPING SETS ((weekday), (hour), (week))`,
    scopeBindings(scope),
  );
}

export interface DurationRow {
  /** Null for the total over the scope. */
  structure_id: string | null;
  taken_count: number;
  /** [median, p90] in hours, or null when no incident was taken in charge. */
  take_in_charge: [number, number] | null;
  resolved_count: number;
  resolve: [number, number] | null;
}

/**
 * Median and 90th percentile of the raw (wall-clock) times of the incidents declared in the period: declaration to
 * first taken in charge (taken_at), and declaration to resolution (resolved_at: closed or dismissed, the last time if
 * it was reopened; an incident open again counts as not resolved). One sort per figure, per school and in total.
 *
 * The service clock (issue 11) will add the same figures in school hours beside these (e.g. a
 * `takeInChargeSchoolHours` computed from the opening hours and holidays); the raw ones keep their names.
 */
export async function durationPercentiles(knex: Knex, scope: StatsScope): Promise<DurationRow[]> {
  if (!scope.structureIds.length) return [];
  return rows<DurationRow>(
    knex,
    `WITH ${SCOPE_CTE}
     SELECT i.structure_id,
            count(i.taken_at)::int AS taken_count,
            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM i.taken_at - i.created_at) / 3600.0) AS take_in_charge,
            count(i.resolved_at)::int AS resolved_count,
            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM i.resolved_at - i.created_at) / 3600.0) AS resolve
       FROM st
       JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0 AND i.created_at < st.t1
      GROUP BY GROUPING SETS ((i.structure_id), ())`,
    scopeBindings(scope),
  );
}

export interface EquipmentCountRow {
  structure_id: string;
  equipment_id: string;
  name: string;
  location: string;
  count: number;
  open: number;
  /** Rank in its school, and over the whole scope (1 = fails most). */
  rank_in_structure: number;
  rank_overall: number;
}

/**
 * The equipment that fails most: incidents declared in the period per equipment (and how many are still open), the
 * first `perStructure` of each school and the first `overall` of the whole scope.
 */
export async function equipmentCounts(knex: Knex, scope: StatsScope, limits: { perStructure: number; overall: number }): Promise<EquipmentCountRow[]> {
  if (!scope.structureIds.length) return [];
  return rows<EquipmentCountRow>(
    knex,
    `WITH ${SCOPE_CTE},
     counted AS (
       SELECT i.structure_id, i.equipment_id, count(*)::int AS count,
              (count(*) FILTER (WHERE i.status IN (${OPEN_STATUSES_SQL})))::int AS open,
              (row_number() OVER (PARTITION BY i.structure_id ORDER BY count(*) DESC, i.equipment_id))::int AS rank_in_structure,
              (row_number() OVER (ORDER BY count(*) DESC, i.structure_id, i.equipment_id))::int AS rank_overall
         FROM st
         JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0 AND i.created_at < st.t1
        GROUP BY i.structure_id, i.equipment_id
     )
     SELECT c.structure_id, c.equipment_id::text AS equipment_id, e.name, e.location, c.count, c.open, c.rank_in_structure, c.rank_overall
       FROM counted c
       JOIN rsv_equipment e ON e.id = c.equipment_id AND e.structure_id = c.structure_id
      WHERE c.rank_in_structure <= ? OR c.rank_overall <= ?
      ORDER BY c.rank_overall`,
    [...scopeBindings(scope), limits.perStructure, limits.overall],
  );
}

export interface BacklogRow {
  /** Set on the per-week total rows. */
  week: string | null;
  /** Set on the per-school rows (open at the end of the period, or now if the period runs on). */
  structure_id: string | null;
  backlog: number;
}

/**
 * The open backlog: how many incidents were open at the end of each week of the period (or at the end of the period,
 * or now, whichever comes first), summed over the scope; and per school at the end of the period.
 *
 * Counting from the present backwards keeps it cheap: the incidents open now (the partial "open" index), minus what
 * changed the open count since the start of the period (declarations +1; each status change +1 when it reopens,
 * -1 when it resolves). Only the period's declarations and moves are read, never the whole history.
 * It relies on the rule that every status change writes its event (status_changed, or reopened by the reporter).
 */
export async function backlog(knex: Knex, scope: StatsScope): Promise<BacklogRow[]> {
  if (!scope.structureIds.length) return [];
  const openCase = (column: string) => `CASE WHEN ${column} IN (${OPEN_STATUSES_SQL}) THEN 1 ELSE 0 END`;
  return rows<BacklogRow>(
    knex,
    `WITH ${SCOPE_CTE},
     weeks AS (
       SELECT st.structure_id, w::date AS week
         FROM st, generate_series(date_trunc('week', (?::date)::timestamp), (?::date)::timestamp, interval '1 week') AS w
        WHERE w::timestamp AT TIME ZONE st.tz < least(st.t1, now())
     ),
     open_now AS (
       SELECT i.structure_id, count(*)::int AS n
         FROM st JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.status IN (${OPEN_STATUSES_SQL})
        GROUP BY i.structure_id
     ),
     changes AS (
       SELECT i.structure_id, i.created_at AS at, 1 AS delta
         FROM st JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0
       UNION ALL
       SELECT e.structure_id, e.created_at, ${openCase('e.to_status')} - ${openCase('e.from_status')}
         FROM st JOIN rsv_incident_events e ON e.structure_id = st.structure_id AND e.${MOVE_KINDS_SQL} AND e.created_at >= st.t0
     ),
     -- A week bucket for the changes inside the period; NULL for those after it.
     bucketed AS (
       SELECT c.structure_id,
              CASE WHEN c.at < st.t1 THEN date_trunc('week', c.at AT TIME ZONE st.tz)::date END AS week,
              sum(c.delta)::int AS delta
         FROM changes c JOIN st ON st.structure_id = c.structure_id
        GROUP BY 1, 2
     ),
     since_start AS (
       SELECT structure_id, sum(delta) AS total, sum(delta) FILTER (WHERE week IS NOT NULL) AS in_period FROM bucketed GROUP BY structure_id
     ),
     at_start AS (
       SELECT st.structure_id, coalesce(o.n, 0) - coalesce(c.total, 0) AS n, coalesce(c.in_period, 0) AS in_period
         FROM st
         LEFT JOIN open_now o ON o.structure_id = st.structure_id
         LEFT JOIN since_start c ON c.structure_id = st.structure_id
     ),
     per_week AS (
       SELECT w.structure_id, w.week,
              s.n + sum(coalesce(b.delta, 0)) OVER (PARTITION BY w.structure_id ORDER BY w.week) AS backlog
         FROM weeks w
         JOIN at_start s ON s.structure_id = w.structure_id
         LEFT JOIN bucketed b ON b.structure_id = w.structure_id AND b.week = w.week
     )
     SELECT to_char(week, 'YYYY-MM-DD') AS week, NULL AS structure_id, sum(backlog)::int AS backlog FROM per_week GROUP BY week
     UNION ALL
     SELECT NULL, s.structure_id, (s.n + s.in_period)::int FROM at_start s
     ORDER BY 1, 2`,
    [...scopeBindings(scope), scope.from, scope.to],
  );
}

/**
 * The opening periods of each school day of the period, as instants: the weekday's periods of
 * settings.opening_hours, on every day that is not in a holiday period. "24:00" is the next midnight.
 */
const OPENING_CTE = `
  opening AS (
    SELECT st.structure_id, d::date AS day,
           (d::date + (p ->> 0)::time) AT TIME ZONE st.tz AS o0,
           (d::date + (p ->> 1)::time) AT TIME ZONE st.tz AS o1
      FROM st
     CROSS JOIN generate_series((?::date)::timestamp, (?::date)::timestamp, interval '1 day') AS d
     CROSS JOIN LATERAL jsonb_array_elements(coalesce(st.opening_hours -> (ARRAY['sun','mon','tue','wed','thu','fri','sat'])[extract(dow FROM d)::int + 1], '[]'::jsonb)) AS p
     WHERE NOT EXISTS (
       SELECT 1 FROM jsonb_array_elements(st.holidays) h
        WHERE d::date BETWEEN (h ->> 'from')::date AND (h ->> 'to')::date)
  ),
  rooms AS (
    SELECT e.structure_id, e.id, e.name, e.type_id
      FROM st
      JOIN rsv_equipment e ON e.structure_id = st.structure_id AND (e.retired_at IS NULL OR e.retired_at > st.t0)
      JOIN rsv_resource_types t ON t.id = e.type_id AND t.structure_id = e.structure_id AND t.purpose = 'booking'
  ),
  -- Validated bookings, one row per school day they span (a booking lasts 14 days at most, hence the lower bound on
  -- starts_at that keeps the index range short). Pending, refused and cancelled ones do not count. Materialized, so
  -- that the join below is an equality on (school, day), never a comparison of every booking with every opening.
  booking_days AS MATERIALIZED (
    SELECT b.structure_id, b.equipment_id, b.starts_at, b.ends_at, g.d::date AS day
      FROM st
      JOIN rsv_bookings b ON b.structure_id = st.structure_id AND b.status = 'validated'
                         AND b.starts_at < st.t1 AND b.ends_at > st.t0 AND b.starts_at > st.t0 - interval '15 days'
      JOIN rooms r ON r.id = b.equipment_id AND r.structure_id = b.structure_id
     CROSS JOIN LATERAL generate_series((b.starts_at AT TIME ZONE st.tz)::date::timestamp, (b.ends_at AT TIME ZONE st.tz)::date::timestamp, interval '1 day') AS g(d)
  ),
  -- The bookings cut to the opening periods of their days.
  pieces AS (
    SELECT bd.structure_id, bd.equipment_id, o.day,
           extract(epoch FROM least(bd.ends_at, o.o1) - greatest(bd.starts_at, o.o0)) AS seconds
      FROM booking_days bd
      JOIN opening o ON o.structure_id = bd.structure_id AND o.day = bd.day
     WHERE bd.starts_at < o.o1 AND bd.ends_at > o.o0
  )`;

const openingBindings = (scope: StatsScope) => [...scopeBindings(scope), scope.from, scope.to];

export interface OccupancyRow {
  /** Per school when set; else the total over the scope. */
  structure_id: string | null;
  /** Per week when set. */
  week: string | null;
  rooms: number;
  booked_seconds: number;
  /** Opening seconds times the rooms: what could have been booked. */
  capacity_seconds: number;
}

/** Occupancy per school, per week (over the scope) and in total: booked seconds inside opening hours, and capacity. */
export async function occupancy(knex: Knex, scope: StatsScope): Promise<OccupancyRow[]> {
  if (!scope.structureIds.length) return [];
  return rows<OccupancyRow>(
    knex,
    `WITH ${SCOPE_CTE}, ${OPENING_CTE},
     room_count AS (SELECT structure_id, count(*)::int AS n FROM rooms GROUP BY structure_id),
     open_week AS (
       SELECT structure_id, date_trunc('week', day)::date AS week, sum(extract(epoch FROM o1 - o0)) AS seconds
         FROM opening GROUP BY 1, 2
     ),
     booked_week AS (
       SELECT structure_id, date_trunc('week', day)::date AS week, sum(seconds) AS seconds FROM pieces GROUP BY 1, 2
     ),
     cells AS (
       SELECT w.structure_id, w.week, coalesce(r.n, 0) AS rooms, coalesce(b.seconds, 0) AS booked, w.seconds * coalesce(r.n, 0) AS capacity
         FROM open_week w
         LEFT JOIN room_count r ON r.structure_id = w.structure_id
         LEFT JOIN booked_week b ON b.structure_id = w.structure_id AND b.week = w.week
     )
     SELECT structure_id, to_char(week, 'YYYY-MM-DD') AS week,
            (CASE WHEN GROUPING(structure_id) = 0 THEN max(rooms)
                  WHEN GROUPING(week) = 0 THEN sum(rooms)
                  ELSE (SELECT coalesce(sum(n), 0) FROM room_count) END)::int AS rooms,
            coalesce(sum(booked), 0)::float8 AS booked_seconds, coalesce(sum(capacity), 0)::float8 AS capacity_seconds
       FROM cells
      GROUP BY GROUPING SETS ((structure_id), (week), ())`,
    openingBindings(scope),
  );
}

export interface RoomOccupancyRow {
  structure_id: string;
  equipment_id: string;
  name: string;
  type_id: string;
  booked_seconds: number;
  open_seconds: number;
}

/** Per room of one school (or a few): booked seconds inside opening hours and the school's opening seconds. */
export async function roomOccupancy(knex: Knex, scope: StatsScope): Promise<RoomOccupancyRow[]> {
  if (!scope.structureIds.length) return [];
  return rows<RoomOccupancyRow>(
    knex,
    `WITH ${SCOPE_CTE}, ${OPENING_CTE},
     open_total AS (SELECT structure_id, sum(extract(epoch FROM o1 - o0)) AS seconds FROM opening GROUP BY structure_id),
     booked AS (SELECT structure_id, equipment_id, sum(seconds) AS seconds FROM pieces GROUP BY 1, 2)
     SELECT r.structure_id, r.id::text AS equipment_id, r.name, r.type_id::text AS type_id,
            coalesce(b.seconds, 0)::float8 AS booked_seconds, coalesce(o.seconds, 0)::float8 AS open_seconds
       FROM rooms r
       LEFT JOIN booked b ON b.structure_id = r.structure_id AND b.equipment_id = r.id
       LEFT JOIN open_total o ON o.structure_id = r.structure_id
      ORDER BY r.structure_id, r.name`,
    openingBindings(scope),
  );
}

export interface ListValueRow {
  id: string;
  structure_id: string;
  label: string | null;
  label_key: string | null;
  position: number;
  retired: boolean;
}

/** Incident types or severities of the scope's schools, to label the counts (and to show the values never used). */
export async function listValues(knex: Knex, table: 'rsv_incident_types' | 'rsv_severities', structureIds: string[]): Promise<ListValueRow[]> {
  if (!structureIds.length) return [];
  return knex(table)
    .select(knex.raw('id::text AS id'), 'structure_id', 'label', 'label_key', 'position', knex.raw('retired_at IS NOT NULL AS retired'))
    .whereIn('structure_id', structureIds)
    .orderBy(['structure_id', 'position', 'id']);
}

export interface IncidentExportRow {
  id: string;
  created_at: Date;
  equipment_name: string;
  equipment_location: string;
  type_label: string | null;
  type_label_key: string | null;
  severity_label: string | null;
  severity_label_key: string | null;
  status: IncidentStatus;
  description: string;
  level: number;
  domain: string | null;
  taken_at: Date | null;
  resolved_at: Date | null;
  comments: number;
  reopenings: number;
  /** The status changes, oldest first. */
  moves: Array<{ at: string; from: IncidentStatus | null; to: IncidentStatus | null }>;
}

/**
 * The incidents declared in the period, oldest first, each with a summary of its history made by PostgreSQL (status
 * changes, comments, reopenings). An export is the one place where rows leave one by one: a school's period has
 * hundreds of incidents, not millions, and the cross-school view never exports incidents.
 */
export async function incidentsForExport(knex: Knex, structureId: string, period: Period): Promise<IncidentExportRow[]> {
  return rows<IncidentExportRow>(
    knex,
    `WITH ${SCOPE_CTE}
     SELECT i.id::text AS id, i.created_at, e.name AS equipment_name, e.location AS equipment_location,
            it.label AS type_label, it.label_key AS type_label_key, sv.label AS severity_label, sv.label_key AS severity_label_key,
            i.status, i.description, i.level, i.domain, i.taken_at, i.resolved_at,
            coalesce(h.comments, 0)::int AS comments, coalesce(h.reopenings, 0)::int AS reopenings, coalesce(h.moves, '[]'::json) AS moves
       FROM st
       JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0 AND i.created_at < st.t1
       JOIN rsv_equipment e ON e.id = i.equipment_id AND e.structure_id = i.structure_id
       JOIN rsv_incident_types it ON it.id = i.type_id AND it.structure_id = i.structure_id
       JOIN rsv_severities sv ON sv.id = i.severity_id AND sv.structure_id = i.structure_id
       LEFT JOIN LATERAL (
         SELECT (count(*) FILTER (WHERE ev.kind = 'comment'))::int AS comments,
                (count(*) FILTER (WHERE ev.${MOVE_KINDS_SQL} AND ev.from_status IN (${RESOLVED_SQL})))::int AS reopenings,
                json_agg(json_build_object('at', ev.created_at, 'from', ev.from_status, 'to', ev.to_status) ORDER BY ev.id)
                  FILTER (WHERE ev.${MOVE_KINDS_SQL}) AS moves
           FROM rsv_incident_events ev
          WHERE ev.incident_id = i.id AND ev.structure_id = i.structure_id
       ) h ON true
      ORDER BY i.created_at, i.id`,
    [period.from, period.to, [structureId]],
  );
}

// ---- the cross-school summary (rsv_stats_summaries) ----------------------------------------------------------

export interface SummaryRow<F> {
  structure_id: string;
  computed_at: Date;
  version: string;
  figures: F;
}

/** A summarised period: `span` whole school years from 1 September of `year`. */
export interface SummaryKey {
  year: number;
  span: number;
}

export function summaryPeriod(key: SummaryKey): Period {
  return { from: `${key.year}-09-01`, to: `${key.year + key.span}-08-31` };
}

/**
 * Stores one school's figures for a summarised period, with its raw durations read in the same statement (the figures
 * come from the same aggregates as the dashboard; the durations let the medians over many schools stay exact).
 */
export async function upsertSummary(knex: Knex, structureId: string, key: SummaryKey, computedAt: Date, figures: unknown): Promise<void> {
  const period = summaryPeriod(key);
  await knex.raw(
    `WITH ${SCOPE_CTE}
     INSERT INTO rsv_stats_summaries (structure_id, school_year, span, computed_at, figures, take_hours, resolve_hours)
     SELECT ?, ?, ?, ?, ?::jsonb,
            coalesce(array_agg(extract(epoch FROM i.taken_at - i.created_at) / 3600.0) FILTER (WHERE i.taken_at IS NOT NULL), '{}'),
            coalesce(array_agg(extract(epoch FROM i.resolved_at - i.created_at) / 3600.0) FILTER (WHERE i.resolved_at IS NOT NULL), '{}')
       FROM st
       LEFT JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0 AND i.created_at < st.t1
     ON CONFLICT (structure_id, school_year, span) DO UPDATE
        SET computed_at = EXCLUDED.computed_at, figures = EXCLUDED.figures, take_hours = EXCLUDED.take_hours, resolve_hours = EXCLUDED.resolve_hours`,
    [period.from, period.to, [structureId], structureId, key.year, key.span, computedAt, JSON.stringify(figures)],
  );
}

/**
 * Which version of each school's row the summary holds: `version` is the row's xmin, the transaction that wrote it,
 * so that a row written again says so even with the same computed_at. A few bytes per school: read at every request,
 * the rows themselves only when a version changed.
 */
export async function summaryVersions(knex: Knex, structureIds: string[], key: SummaryKey): Promise<Array<Omit<SummaryRow<never>, 'figures'>>> {
  return summaryRows(knex, structureIds, key, '');
}

export async function readSummaries<F>(knex: Knex, structureIds: string[], key: SummaryKey): Promise<Array<SummaryRow<F>>> {
  return summaryRows(knex, structureIds, key, ', figures');
}

async function summaryRows<R>(knex: Knex, structureIds: string[], key: SummaryKey, more: '' | ', figures'): Promise<R[]> {
  if (!structureIds.length) return [];
  return rows(
    knex,
    `SELECT structure_id, computed_at, xmin::text AS version${more} FROM rsv_stats_summaries WHERE structure_id = ANY(?) AND school_year = ? AND span = ?`,
    [structureIds, key.year, key.span],
  );
}

/**
 * Median and p90 over the stored durations of all the schools given: exact, as if read from the incidents. The two
 * columns are sorted at once, on two connections, each in memory (a department's year is a few hundred thousand
 * durations: work_mem is raised for that transaction only).
 */
export async function summaryPercentiles(knex: Knex, structureIds: string[], key: SummaryKey): Promise<DurationRow> {
  const [take, resolve] = await Promise.all(
    (['take_hours', 'resolve_hours'] as const).map((column) =>
      knex.transaction(async (trx) => {
        await trx.raw(`SET LOCAL work_mem = '64MB'`);
        const [row] = await rows<{ n: number; p: [number, number] | null }>(
          trx,
          `SELECT count(h)::int AS n, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY h) AS p
             FROM rsv_stats_summaries s CROSS JOIN LATERAL unnest(s.${column}) AS h
            WHERE s.structure_id = ANY(?) AND s.school_year = ? AND s.span = ?`,
          [structureIds, key.year, key.span],
        );
        return row ?? { n: 0, p: null };
      }),
    ),
  );
  return { structure_id: null, taken_count: take!.n, take_in_charge: take!.p, resolved_count: resolve!.n, resolve: resolve!.p };
}

/**
 * The schools whose summary of a period is missing, older than `maxAgeBefore`, or older than a change of their
 * data: a move or a declaration (last_event_at), a booking (updated_at), their settings. Oldest first.
 */
export async function staleSummaries(knex: Knex, key: SummaryKey, maxAgeBefore: Date, limit: number, except: string[] = []): Promise<string[]> {
  const result = await rows<{ structure_id: string }>(
    knex,
    `SELECT s.structure_id
       FROM rsv_structure_settings s
       LEFT JOIN rsv_stats_summaries m ON m.structure_id = s.structure_id AND m.school_year = ? AND m.span = ?
      WHERE NOT (s.structure_id = ANY(?))
        AND (m.structure_id IS NULL
         OR m.computed_at < ?
         OR s.updated_at > m.computed_at
         OR EXISTS (SELECT 1 FROM rsv_incidents i WHERE i.structure_id = s.structure_id AND (i.last_event_at > m.computed_at OR i.updated_at > m.computed_at))
         OR EXISTS (SELECT 1 FROM rsv_bookings b WHERE b.structure_id = s.structure_id AND b.updated_at > m.computed_at))
      ORDER BY m.computed_at NULLS FIRST, s.structure_id
      LIMIT ?`,
    [key.year, key.span, except, maxAgeBefore, limit],
  );
  return result.map((r) => r.structure_id);
}

// ---- a school's dashboard kept for its default period (rsv_stats_dashboards) -----------------------------------

/** What the figures of a school read, as it stands: the latest change of its incidents, moves and bookings. */
export interface DashboardState {
  /** Now, in the database's clock. */
  now: Date;
  /** The latest change dated by the database (an incident updated or with a new event, a booking): as text, so that
   * it is stored to the microsecond. */
  changed_at: string | null;
  /** No change dated after now() minus the settling margin: figures read now can be kept. */
  settled: boolean;
  /** An incident inserted with an earlier date (an import) still changes the last id. */
  last_incident_id: string | null;
  /** md5 of the figures' version and of the equipment, resource types, incident types, severities (with their
   * service targets) and settings of the school. */
  lists: string;
}

/**
 * The shape and meaning of the kept figures: part of the `lists` hash, so that a release that changes what the
 * dashboard computes never serves figures kept by the one before. Bump it with any such change.
 */
const DASHBOARD_FIGURES_VERSION = 'dashboard-1';

export interface DashboardRow<F> extends DashboardState {
  /** Set when the kept figures are for this key and fresh. */
  figures: F | null;
}

/**
 * The kept dashboard of a school when it is fresh, with the state it was checked against, in one statement of index
 * probes: figures for the same period and day, read before a due time passed (valid_until), the same latest change
 * (kept only when settled: so no change since), the same last incident and the same small tables (hashed: tens of
 * rows). An event always moves its incident's last_event_at in the same statement (appendIncidentEvent): the
 * incidents' dates cover the history.
 */
export async function freshDashboard<F>(knex: Knex, structureId: string, key: { from: string; to: string; day: string }, settleSeconds: number): Promise<DashboardRow<F>> {
  const [row] = await rows<DashboardRow<F>>(
    knex,
    `WITH k AS (SELECT ?::text AS sid, ?::date AS period_from, ?::date AS period_to, ?::date AS day, now() - make_interval(secs => ?) AS as_of),
     state AS MATERIALIZED (
       SELECT now() AS now, k.as_of,
              greatest(
                (SELECT max(greatest(i.updated_at, i.last_event_at)) FROM rsv_incidents i WHERE i.structure_id = k.sid),
                (SELECT max(b.updated_at) FROM rsv_bookings b WHERE b.structure_id = k.sid)
              ) AS changed_at,
              (SELECT max(i.id) FROM rsv_incidents i WHERE i.structure_id = k.sid)::text AS last_incident_id,
              md5(concat_ws('|', '${DASHBOARD_FIGURES_VERSION}',
                (SELECT string_agg(ROW(e.id, e.type_id, e.name, e.location, e.retired_at)::text, ';' ORDER BY e.id) FROM rsv_equipment e WHERE e.structure_id = k.sid),
                (SELECT string_agg(ROW(t.id, t.purpose, t.retired_at)::text, ';' ORDER BY t.id) FROM rsv_resource_types t WHERE t.structure_id = k.sid),
                (SELECT string_agg(ROW(v.id, v.label, v.label_key, v.position, v.retired_at)::text, ';' ORDER BY v.id) FROM rsv_incident_types v WHERE v.structure_id = k.sid),
                (SELECT string_agg(ROW(v.id, v.label, v.label_key, v.position, v.retired_at, v.take_in_charge_hours, v.resolve_hours)::text, ';' ORDER BY v.id) FROM rsv_severities v WHERE v.structure_id = k.sid),
                (SELECT ROW(s.time_zone, s.opening_hours, s.holidays)::text FROM rsv_structure_settings s WHERE s.structure_id = k.sid)
              )) AS lists
         FROM k
     )
     SELECT state.now, state.changed_at::text AS changed_at,
            state.changed_at IS NULL OR state.changed_at < state.as_of AS settled, state.last_incident_id, state.lists,
            (SELECT d.figures FROM rsv_stats_dashboards d
              WHERE d.structure_id = k.sid AND d.period_from = k.period_from AND d.period_to = k.period_to AND d.day = k.day
                AND state.now < d.valid_until
                AND d.changed_at IS NOT DISTINCT FROM state.changed_at
                AND d.last_incident_id IS NOT DISTINCT FROM state.last_incident_id::bigint
                AND d.lists = state.lists) AS figures
       FROM state, k`,
    [structureId, key.from, key.to, key.day, settleSeconds],
  );
  return row!;
}

/**
 * The first instant after `after` when an open incident of the school passes a due time (the overdue count changes
 * then with no change of data), or null.
 */
export async function nextDueTime(knex: Knex, structureId: string, after: Date): Promise<Date | null> {
  const [row] = await rows<{ at: Date | null }>(
    knex,
    `SELECT min(v.at) AS at
       FROM rsv_incidents i
      CROSS JOIN LATERAL (VALUES (${TAKE_DUE_SQL}), (${RESOLVE_DUE_SQL})) AS v(at)
      WHERE i.structure_id = ? AND i.status IN (${OPEN_STATUSES_SQL}) AND v.at > ?`,
    [structureId, after],
  );
  return row?.at ?? null;
}

export async function keepDashboard(
  knex: Knex,
  structureId: string,
  key: { from: string; to: string; day: string },
  kept: { validUntil: Date | null; changedAt: string | null; lastIncidentId: string | null; lists: string },
  figures: unknown,
): Promise<void> {
  await knex.raw(
    `INSERT INTO rsv_stats_dashboards (structure_id, period_from, period_to, day, changed_at, valid_until, last_incident_id, lists, figures)
     VALUES (?, ?, ?, ?, ?::timestamptz, coalesce(?::timestamptz, 'infinity'), ?, ?, ?::jsonb)
     ON CONFLICT (structure_id) DO UPDATE
        SET period_from = EXCLUDED.period_from, period_to = EXCLUDED.period_to, day = EXCLUDED.day,
            changed_at = EXCLUDED.changed_at, valid_until = EXCLUDED.valid_until, last_incident_id = EXCLUDED.last_incident_id,
            lists = EXCLUDED.lists, figures = EXCLUDED.figures`,
    [structureId, key.from, key.to, key.day, kept.changedAt, kept.validUntil, kept.lastIncidentId, kept.lists, JSON.stringify(figures)],
  );
}
