import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * Indexes of the statistics (src/store/stats.ts): every figure reads a range of one school's declarations or status
 * changes by date, so both are indexed on (structure_id, created_at). The status changes' index is partial: comments,
 * assignments and the other kinds of history never count in a figure.
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE INDEX IF NOT EXISTS rsv_incidents_stats ON rsv_incidents (structure_id, created_at);
    CREATE INDEX IF NOT EXISTS rsv_incident_events_stats ON rsv_incident_events (structure_id, created_at)
      WHERE kind = 'status_changed';
  `);
}
