import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * The cross-school statistics' summary: each school's figures for a whole school year, computed by the job queue
 * (src/services/stats-summary.ts) from the same SQL aggregates as the school dashboard. The cross-school view of a
 * school year reads one row per school instead of scanning a million incidents; `take_hours` and `resolve_hours` keep
 * each school's raw durations so that the medians over all schools stay exact.
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_stats_summaries (
      structure_id text NOT NULL,
      -- The school year starting on 1 September of this year.
      school_year smallint NOT NULL,
      computed_at timestamptz NOT NULL,
      figures jsonb NOT NULL,
      take_hours float8[] NOT NULL DEFAULT '{}',
      resolve_hours float8[] NOT NULL DEFAULT '{}',
      PRIMARY KEY (structure_id, school_year)
    );
    -- A reporter's "not fixed" reopens an incident with a "reopened" event: the statistics' index of status moves
    -- covers both kinds (it replaces the one of 20261123_0007_stats, on status_changed only).
    CREATE INDEX IF NOT EXISTS rsv_incident_events_moves ON rsv_incident_events (structure_id, created_at)
      WHERE kind IN ('status_changed', 'reopened');
    DROP INDEX IF EXISTS rsv_incident_events_stats;
  `);
}
