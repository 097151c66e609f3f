import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * A school's dashboard for its default period (the current school year), kept as computed (src/services/stats.ts):
 * served again only while provably fresh, i.e. while no data it reads has changed since. The two indexes make that
 * check a couple of index probes: the latest change of a school's incidents (an update moves updated_at, an event
 * last_event_at) and of its bookings (a decision or a cancellation moves updated_at).
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_stats_dashboards (
      structure_id text PRIMARY KEY,
      period_from date NOT NULL,
      period_to date NOT NULL,
      -- "Today" in the school's zone when computed: the weeks so far and the backlog move on with the days.
      day date NOT NULL,
      -- The latest change the figures include (kept only when no change was dated within the settling margin).
      changed_at timestamptz,
      -- The first due time of an open incident after the computation (the overdue count changes then), or infinity.
      valid_until timestamptz NOT NULL,
      last_incident_id bigint,
      -- md5 of the small tables the figures read (equipment, types, severities, settings).
      lists text NOT NULL,
      figures jsonb NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rsv_incidents_changed ON rsv_incidents (structure_id, (greatest(updated_at, last_event_at)));
    CREATE INDEX IF NOT EXISTS rsv_bookings_changed ON rsv_bookings (structure_id, updated_at);
  `);
}
