import type { Knex } from 'knex';
import { runScript } from '../src/db';

/** Bookings: never two live bookings of one equipment at once, enforced by PostgreSQL itself (EXCLUDE USING gist). */
export async function up(knex: Knex): Promise<void> {
  // btree_gist lets the exclusion constraint mix `=` on a bigint with `&&` on a range. On a shared database it may
  // already exist in another schema (public): then it is visible through the search path and nothing is created.
  const { rows } = await knex.raw(`SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'`);
  if (rows.length === 0) await knex.raw('CREATE EXTENSION IF NOT EXISTS btree_gist');
  await runScript(knex, `
    ALTER TABLE rsv_structure_settings ADD COLUMN IF NOT EXISTS show_booking_owners boolean NOT NULL DEFAULT true;

    CREATE TABLE IF NOT EXISTS rsv_booking_series (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      equipment_id bigint NOT NULL REFERENCES rsv_equipment(id),
      owner_id text NOT NULL,
      interval_weeks smallint NOT NULL DEFAULT 1 CHECK (interval_weeks BETWEEN 1 AND 8),
      until_date date NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_booking_series_structure ON rsv_booking_series (structure_id, owner_id);

    CREATE TABLE IF NOT EXISTS rsv_bookings (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      equipment_id bigint NOT NULL REFERENCES rsv_equipment(id),
      owner_id text NOT NULL,
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      reason text NOT NULL DEFAULT '',
      status text NOT NULL DEFAULT 'validated' CHECK (status IN ('pending', 'validated', 'refused', 'cancelled')),
      series_id bigint REFERENCES rsv_booking_series(id),
      decided_by text,
      decided_at timestamptz,
      decision_reason text,
      cancelled_by text,
      cancelled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (ends_at > starts_at),
      CONSTRAINT rsv_bookings_no_overlap EXCLUDE USING gist (
        equipment_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
      ) WHERE (status IN ('pending', 'validated'))
    );
    CREATE INDEX IF NOT EXISTS rsv_bookings_structure_time ON rsv_bookings (structure_id, starts_at);
    CREATE INDEX IF NOT EXISTS rsv_bookings_owner ON rsv_bookings (structure_id, owner_id, starts_at);
    CREATE INDEX IF NOT EXISTS rsv_bookings_series ON rsv_bookings (series_id) WHERE series_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS rsv_bookings_pending ON rsv_bookings (structure_id, starts_at) WHERE status = 'pending';

    CREATE TABLE IF NOT EXISTS rsv_booking_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      booking_id bigint NOT NULL REFERENCES rsv_bookings(id),
      structure_id text NOT NULL,
      kind text NOT NULL,
      actor_id text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_booking_events_booking ON rsv_booking_events (booking_id, id);
  `);
}
