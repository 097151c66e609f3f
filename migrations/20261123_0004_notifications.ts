import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * The mail outbox. A change writes one notification row in its own transaction (nothing can be lost); the worker
 * expands it into one delivery per recipient and sends each once (a sent delivery is never sent again).
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_notifications (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      -- incident.created, incident.status_changed, incident.comment, booking.pending, ...
      kind text NOT NULL CHECK (kind ~ '^[a-z_]+\\.[a-z_]+$'),
      subject_type text NOT NULL CHECK (subject_type IN ('incident', 'booking', 'equipment')),
      subject_id bigint NOT NULL,
      event_id bigint,
      actor_id text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}'::jsonb,
      expanded_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_notifications_pending ON rsv_notifications (id) WHERE expanded_at IS NULL;
    CREATE INDEX IF NOT EXISTS rsv_notifications_subject ON rsv_notifications (structure_id, subject_type, subject_id);

    CREATE TABLE IF NOT EXISTS rsv_deliveries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      notification_id bigint NOT NULL REFERENCES rsv_notifications(id),
      structure_id text NOT NULL,
      recipient_id text,
      address text NOT NULL,
      language text NOT NULL DEFAULT 'fr',
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      -- A lease: the worker that sends a delivery holds it until then; an expired lease may be taken again.
      locked_until timestamptz,
      message_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      UNIQUE (notification_id, address)
    );
    CREATE INDEX IF NOT EXISTS rsv_deliveries_structure ON rsv_deliveries (structure_id, id DESC);
    CREATE INDEX IF NOT EXISTS rsv_deliveries_pending ON rsv_deliveries (id) WHERE status = 'pending';

    CREATE TABLE IF NOT EXISTS rsv_user_preferences (
      user_id text PRIMARY KEY,
      mail_comments boolean NOT NULL DEFAULT true,
      mail_own_changes boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}
