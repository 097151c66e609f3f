import type { Knex } from 'knex';
import { OPEN_STATUSES_SQL } from '../domain/workflow';
import type { StatsScope } from './stats';

/**
 * The due times an open incident `i` still has to meet: taking in charge until it is taken, resolving until it is
 * resolved (NULL once met). One past now is overdue; the next one to come dates a kept dashboard (nextDueTime).
 */
export const TAKE_DUE_SQL = 'CASE WHEN i.taken_at IS NULL THEN i.take_in_charge_due_at END';
export const RESOLVE_DUE_SQL = 'CASE WHEN i.resolved_at IS NULL THEN i.resolve_due_at END';

/**
 * The service clock's figures for the statistics (issue 11), beside the raw wall-clock ones of src/store/stats.ts: the
 * same incidents (declared in the period, each school's period in its own zone), their times to be taken in charge and
 * to be resolved in school hours (stored on each incident by the pure clock, src/domain/service-clock.ts, when it moved),
 * and the reporters' answers once their incident was closed. One scan of the period's incidents per call.
 */

export interface ServiceClockStatsRow {
  /** Null for the total over the scope. */
  structure_id: string | null;
  taken_count: number;
  /** [median, p90] in school hours, or null when none was taken in charge. */
  take_in_charge: [number, number] | null;
  resolved_count: number;
  resolve: [number, number] | null;
  /** Closed now. */
  closed: number;
  /** Closed now, and its reporter confirmed the repair. */
  confirmed_fixed: number;
  /** Reopened by their reporter ("not fixed") at least once. */
  reopened: number;
  /** Closed now, or reopened by their reporter (so closed once): the incidents whose reporter could answer. */
  answerable: number;
  /** Open now and past a due time. */
  overdue: number;
}

export async function serviceClockStats(knex: Knex, scope: StatsScope): Promise<ServiceClockStatsRow[]> {
  if (!scope.structureIds.length) return [];
  const { rows } = await knex.raw<{ rows: ServiceClockStatsRow[] }>(
    `WITH st AS (
       SELECT s.structure_id,
              (?::date)::timestamp AT TIME ZONE s.time_zone AS t0,
              (?::date + 1)::timestamp AT TIME ZONE s.time_zone AS t1
         FROM rsv_structure_settings s
        WHERE s.structure_id = ANY(?)
     )
     SELECT i.structure_id,
            count(i.taken_school_hours)::int AS taken_count,
            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY i.taken_school_hours::float8) AS take_in_charge,
            count(i.resolved_school_hours) FILTER (WHERE i.resolved_at IS NOT NULL)::int AS resolved_count,
            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY CASE WHEN i.resolved_at IS NOT NULL THEN i.resolved_school_hours::float8 END) AS resolve,
            (count(*) FILTER (WHERE i.status = 'closed'))::int AS closed,
            (count(*) FILTER (WHERE i.status = 'closed' AND i.confirmed_fixed))::int AS confirmed_fixed,
            (count(*) FILTER (WHERE r.reopened))::int AS reopened,
            (count(*) FILTER (WHERE i.status = 'closed' OR r.reopened))::int AS answerable,
            (count(*) FILTER (WHERE i.status IN (${OPEN_STATUSES_SQL}) AND (${TAKE_DUE_SQL} < now() OR ${RESOLVE_DUE_SQL} < now())))::int AS overdue
       FROM st
       JOIN rsv_incidents i ON i.structure_id = st.structure_id AND i.created_at >= st.t0 AND i.created_at < st.t1
      CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM rsv_incident_events e WHERE e.incident_id = i.id AND e.kind = 'reopened') AS reopened) r
      GROUP BY GROUPING SETS ((i.structure_id), ())`,
    [scope.from, scope.to, scope.structureIds],
  );
  return rows;
}

export interface DurationInSchoolHours {
  median: number | null;
  p90: number | null;
  count: number;
}

export interface ServiceClockFigures {
  /** Declaration to taken in charge, in school hours (the raw wall-clock figures are takeInChargeHours). */
  takeInChargeSchoolHours: DurationInSchoolHours;
  /** Declaration to closed or dismissed, in school hours. */
  resolveSchoolHours: DurationInSchoolHours;
  confirmations: {
    closed: number;
    confirmedFixed: number;
    reopened: number;
    /** confirmedFixed / closed, or null when none is closed. */
    confirmedShare: number | null;
    /** reopened / (closed now or reopened by their reporter), or null. */
    reopenedShare: number | null;
  };
  /** Open incidents of the period past a due time (now). */
  overdue: number;
}

const round = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Math.round(Number(v) * 10 ** digits) / 10 ** digits);

/** The figures of one row (a school, or the total when structure_id is null); zeros when there is none. */
export function serviceClockFiguresOf(row: ServiceClockStatsRow | undefined): ServiceClockFigures {
  const share = (n: number, d: number) => (d > 0 ? round(n / d, 3) : null);
  return {
    takeInChargeSchoolHours: { median: round(row?.take_in_charge?.[0]), p90: round(row?.take_in_charge?.[1]), count: row?.taken_count ?? 0 },
    resolveSchoolHours: { median: round(row?.resolve?.[0]), p90: round(row?.resolve?.[1]), count: row?.resolved_count ?? 0 },
    confirmations: {
      closed: row?.closed ?? 0,
      confirmedFixed: row?.confirmed_fixed ?? 0,
      reopened: row?.reopened ?? 0,
      confirmedShare: share(row?.confirmed_fixed ?? 0, row?.closed ?? 0),
      reopenedShare: share(row?.reopened ?? 0, row?.answerable ?? 0),
    },
    overdue: row?.overdue ?? 0,
  };
}

/** The service clock's figures over a scope (one school, or the total of several). */
export async function serviceClockFigures(knex: Knex, scope: StatsScope): Promise<ServiceClockFigures> {
  const rows = await serviceClockStats(knex, scope);
  return serviceClockFiguresOf(rows.find((r) => r.structure_id === null));
}
