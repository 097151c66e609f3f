import type { Knex } from 'knex';
import { runScript } from '../src/db';

/** Per-structure settings, the module's own state, resource types, equipment, incident types and severities. */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_module_state (
      key text PRIMARY KEY,
      value text NOT NULL
    );

    CREATE TABLE IF NOT EXISTS rsv_structure_settings (
      structure_id text PRIMARY KEY,
      -- Deployment in waves (source document 001): each service can be switched on or off per school.
      planning_enabled boolean NOT NULL DEFAULT true,
      incidents_enabled boolean NOT NULL DEFAULT true,
      time_zone text NOT NULL DEFAULT 'Europe/Paris',
      holiday_zone text CHECK (holiday_zone IN ('A', 'B', 'C')),
      holidays jsonb NOT NULL DEFAULT '[]'::jsonb,
      opening_hours jsonb NOT NULL DEFAULT '{"mon":[["08:00","18:00"]],"tue":[["08:00","18:00"]],"wed":[["08:00","12:30"]],"thu":[["08:00","18:00"]],"fri":[["08:00","18:00"]],"sat":[],"sun":[]}'::jsonb,
      reopen_days integer NOT NULL DEFAULT 30 CHECK (reopen_days BETWEEN 0 AND 365),
      editor_email text,
      extra_mailbox text,
      installed_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE IF NOT EXISTS rsv_resource_types (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      -- Seeded rows carry a locale key and no name until a school renames them; custom rows carry a name.
      name text,
      name_key text,
      purpose text NOT NULL CHECK (purpose IN ('booking', 'incident')),
      color text NOT NULL DEFAULT '#1f6fb2' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
      needs_validation boolean NOT NULL DEFAULT false,
      min_notice_minutes integer NOT NULL DEFAULT 0 CHECK (min_notice_minutes >= 0),
      max_notice_days integer CHECK (max_notice_days > 0),
      max_length_minutes integer CHECK (max_length_minutes > 0),
      within_opening_hours boolean NOT NULL DEFAULT false,
      position integer NOT NULL DEFAULT 0,
      seed_code text,
      retired_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (name IS NOT NULL OR name_key IS NOT NULL)
    );
    CREATE INDEX IF NOT EXISTS rsv_resource_types_structure ON rsv_resource_types (structure_id, position, id);
    CREATE UNIQUE INDEX IF NOT EXISTS rsv_resource_types_seed ON rsv_resource_types (structure_id, seed_code) WHERE seed_code IS NOT NULL;

    CREATE TABLE IF NOT EXISTS rsv_equipment (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      type_id bigint NOT NULL REFERENCES rsv_resource_types(id),
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      location text NOT NULL DEFAULT '',
      -- The host id of the responsible account, by default the school's service.informatique.
      responsible_id text NOT NULL,
      position integer NOT NULL DEFAULT 0,
      seed_code text,
      retired_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS rsv_equipment_structure ON rsv_equipment (structure_id, type_id, position, id);
    CREATE UNIQUE INDEX IF NOT EXISTS rsv_equipment_name_uq ON rsv_equipment (structure_id, type_id, lower(name)) WHERE retired_at IS NULL;
    CREATE UNIQUE INDEX IF NOT EXISTS rsv_equipment_seed ON rsv_equipment (structure_id, seed_code) WHERE seed_code IS NOT NULL;

    CREATE TABLE IF NOT EXISTS rsv_incident_types (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      label text,
      label_key text,
      position integer NOT NULL DEFAULT 0,
      seed_code text,
      retired_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (label IS NOT NULL OR label_key IS NOT NULL)
    );
    CREATE INDEX IF NOT EXISTS rsv_incident_types_structure ON rsv_incident_types (structure_id, position, id);
    CREATE UNIQUE INDEX IF NOT EXISTS rsv_incident_types_seed ON rsv_incident_types (structure_id, seed_code) WHERE seed_code IS NOT NULL;

    CREATE TABLE IF NOT EXISTS rsv_severities (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      label text,
      label_key text,
      position integer NOT NULL DEFAULT 0,
      -- Service targets in school hours (issue: the service clock).
      take_in_charge_hours numeric(6,2) NOT NULL DEFAULT 8 CHECK (take_in_charge_hours > 0),
      resolve_hours numeric(6,2) NOT NULL DEFAULT 40 CHECK (resolve_hours > 0),
      seed_code text,
      retired_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (label IS NOT NULL OR label_key IS NOT NULL)
    );
    CREATE INDEX IF NOT EXISTS rsv_severities_structure ON rsv_severities (structure_id, position, id);
    CREATE UNIQUE INDEX IF NOT EXISTS rsv_severities_seed ON rsv_severities (structure_id, seed_code) WHERE seed_code IS NOT NULL;
  `);
}
