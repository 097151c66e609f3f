import type { Knex } from 'knex';
import { runScript } from '../src/db';

/**
 * Maintenance windows (an intervention, a room used for exams): periods when equipment cannot be booked.
 * Out of service is not a table: it is an open incident with `out_of_service` set (rsv_incidents), so the equipment
 * comes back into service by itself when that incident is closed or dismissed.
 */
export async function up(knex: Knex): Promise<void> {
  await runScript(knex, `
    CREATE TABLE IF NOT EXISTS rsv_unavailabilities (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      structure_id text NOT NULL,
      equipment_id bigint NOT NULL REFERENCES rsv_equipment(id),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      reason text NOT NULL DEFAULT '',
      series_key text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (ends_at > starts_at)
    );
    CREATE INDEX IF NOT EXISTS rsv_unavailabilities_equipment ON rsv_unavailabilities USING gist (equipment_id, tstzrange(starts_at, ends_at, '[)'));
    CREATE INDEX IF NOT EXISTS rsv_unavailabilities_structure ON rsv_unavailabilities (structure_id, starts_at);
    CREATE INDEX IF NOT EXISTS rsv_incidents_out_of_service ON rsv_incidents (structure_id, equipment_id)
      WHERE out_of_service AND status IN ('new', 'taken', 'in_progress');
  `);
}
