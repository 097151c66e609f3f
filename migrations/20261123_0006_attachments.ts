import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * Photos and files of incidents and their comments. The bytes live in the host's storage (or the module's folder)
 * under `storage_key`, a random key the module chose; the user's file name is kept for display only. Images are
 * stored re-encoded (metadata stripped), with a thumbnail under `thumbnail_key`.
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_attachments (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      incident_id bigint NOT NULL REFERENCES rsv_incidents(id),
      -- The history entry that added it: the comment it belongs to, or its own attachment_added event.
      event_id bigint REFERENCES rsv_incident_events(id),
      -- Host user id.
      uploader_id text NOT NULL,
      storage_key text NOT NULL UNIQUE CHECK (storage_key ~ '^[0-9a-f]{32}$'),
      original_name text NOT NULL CHECK (length(original_name) BETWEEN 1 AND 255),
      -- The type found in the content (magic bytes), never the one the browser declared.
      content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
      size integer NOT NULL CHECK (size > 0),
      width integer CHECK (width IS NULL OR width > 0),
      height integer CHECK (height IS NULL OR height > 0),
      thumbnail_key text UNIQUE CHECK (thumbnail_key IS NULL OR thumbnail_key ~ '^[0-9a-f]{32}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_attachments_incident ON rsv_attachments (structure_id, incident_id, id);
  `);
}
