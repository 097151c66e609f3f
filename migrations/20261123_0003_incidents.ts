import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * Incidents, their append-only history (events) and their followers ("me too").
 *
 * The status and domain lists are written out here on purpose: a migration is frozen once shipped, while
 * src/domain/workflow.ts is the living list the code uses (a test checks both agree).
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_incidents (
      -- The incident number shown to users.
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      equipment_id bigint NOT NULL REFERENCES rsv_equipment(id),
      type_id bigint NOT NULL REFERENCES rsv_incident_types(id),
      severity_id bigint NOT NULL REFERENCES rsv_severities(id),
      description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
      -- Host user ids.
      reporter_id text NOT NULL,
      assignee_id text,
      -- Support levels of document 000: 0 local, 1 referent, 2 expertise, 3 ENT editor; a domain from level 1 on.
      level smallint NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 3),
      domain text CHECK (domain IN ('functional', 'pedagogical', 'technical')),
      status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'taken', 'in_progress', 'dismissed', 'closed')),
      -- Optimistic concurrency: every state change is UPDATE ... WHERE version = <the version read>.
      version integer NOT NULL DEFAULT 1,
      out_of_service boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      -- First time the incident left 'new' (the service clock counts from created_at to taken_at).
      taken_at timestamptz,
      -- Closed or dismissed; cleared on reopening.
      resolved_at timestamptz,
      last_event_at timestamptz NOT NULL DEFAULT now(),
      CHECK (level = 0 OR domain IS NOT NULL)
    );
    -- The inbox: newest first by keyset on id, all statuses or only the open ones.
    CREATE INDEX IF NOT EXISTS rsv_incidents_inbox ON rsv_incidents (structure_id, id DESC);
    CREATE INDEX IF NOT EXISTS rsv_incidents_inbox_open ON rsv_incidents (structure_id, id DESC)
      WHERE status IN ('new', 'taken', 'in_progress');
    -- One status tab, and the counts per status (an index-only scan).
    CREATE INDEX IF NOT EXISTS rsv_incidents_status ON rsv_incidents (structure_id, status, id DESC);
    -- "My incidents" and "assigned to me".
    CREATE INDEX IF NOT EXISTS rsv_incidents_reporter ON rsv_incidents (structure_id, reporter_id, id DESC);
    CREATE INDEX IF NOT EXISTS rsv_incidents_assignee ON rsv_incidents (structure_id, assignee_id, id DESC);
    -- The open incidents of one equipment: "me too" on the declaration form, out of service.
    CREATE INDEX IF NOT EXISTS rsv_incidents_equipment_open ON rsv_incidents (structure_id, equipment_id, id DESC)
      WHERE status IN ('new', 'taken', 'in_progress');

    CREATE TABLE IF NOT EXISTS rsv_incident_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      incident_id bigint NOT NULL REFERENCES rsv_incidents(id),
      structure_id text NOT NULL,
      -- created, status_changed, comment, assigned, escalated, follower_added; later issues add kinds, so no CHECK.
      kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
      actor_id text NOT NULL,
      from_status text,
      to_status text,
      comment text CHECK (comment IS NULL OR length(comment) <= 5000),
      data jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_incident_events_incident ON rsv_incident_events (incident_id, id);

    CREATE TABLE IF NOT EXISTS rsv_incident_followers (
      incident_id bigint NOT NULL REFERENCES rsv_incidents(id),
      user_id text NOT NULL,
      structure_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (incident_id, user_id)
    );
    CREATE INDEX IF NOT EXISTS rsv_incident_followers_user ON rsv_incident_followers (structure_id, user_id, incident_id DESC);
  `);
}
