import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * The keys of attachment files being uploaded, written (and committed) before the files themselves and removed by the
 * transaction that commits their rows. A process that dies between the file writes and that commit leaves its keys
 * here: the sweep deletes those files later, on any storage (the host's storage capability cannot list its files).
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_pending_files (
      key text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{32}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_pending_files_created ON rsv_pending_files (created_at);
  `);
}
