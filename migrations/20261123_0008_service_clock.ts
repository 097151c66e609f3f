import type { Knex } from 'knex';
import { runScript } from '../src/db';
import { backfillServiceClock } from '../src/services/service-clock';

/**
 * The service clock (issue 11): each incident keeps its due times, computed in school hours when it is declared (and
 * again when it is reopened), so that the inbox sorts by due time with an index; the school hours it took to be taken
 * in charge and resolved (for the statistics); and its reporter's confirmation after it was closed.
 *
 * The inbox's "by due time" order goes by the due time of what is expected next: taking in charge while the incident is
 * new, resolving after. The index is on that expression (the query in src/store/incidents.ts writes the same one), for
 * the open incidents only; an incident without a due time (a school that never opens) sorts last.
 *
 * Existing incidents get their values from the school's calendar as it is now (backfillServiceClock, in batches).
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    ALTER TABLE rsv_incidents ADD COLUMN IF NOT EXISTS take_in_charge_due_at timestamptz;
    ALTER TABLE rsv_incidents ADD COLUMN IF NOT EXISTS resolve_due_at timestamptz;
    ALTER TABLE rsv_incidents ADD COLUMN IF NOT EXISTS taken_school_hours numeric(9,2) CHECK (taken_school_hours >= 0);
    ALTER TABLE rsv_incidents ADD COLUMN IF NOT EXISTS resolved_school_hours numeric(9,2) CHECK (resolved_school_hours >= 0);
    ALTER TABLE rsv_incidents ADD COLUMN IF NOT EXISTS confirmed_at timestamptz;
    ALTER TABLE rsv_incidents ADD COLUMN IF NOT EXISTS confirmed_fixed boolean;
    CREATE INDEX IF NOT EXISTS rsv_incidents_inbox_due ON rsv_incidents
      (structure_id, (coalesce(CASE WHEN status = 'new' THEN take_in_charge_due_at ELSE resolve_due_at END, 'infinity'::timestamptz)), id)
      WHERE status IN ('new', 'taken', 'in_progress');
  `);
  await backfillServiceClock(knex);
}
