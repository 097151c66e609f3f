import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * The cross-school summary also keeps whole runs of school years (the previous and the current one together): `span`
 * school years from 1 September of `school_year`. Each row is computed like a school's dashboard for that period, so
 * a two-year view reads one row per school, as a one-year view does.
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    ALTER TABLE rsv_stats_summaries ADD COLUMN IF NOT EXISTS span smallint NOT NULL DEFAULT 1 CHECK (span BETWEEN 1 AND 3);
    ALTER TABLE rsv_stats_summaries DROP CONSTRAINT IF EXISTS rsv_stats_summaries_pkey;
    ALTER TABLE rsv_stats_summaries ADD PRIMARY KEY (structure_id, school_year, span);
  `);
}
