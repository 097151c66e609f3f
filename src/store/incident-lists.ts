import type { Knex } from 'knex';

/**
 * The per-school lists of incident types and severities (seeded by src/services/install.ts, editable by the school).
 * Both tables share the columns used here; a retired value keeps its row so that old incidents keep their label.
 */
export const INCIDENT_LISTS = {
  incidentType: 'rsv_incident_types',
  severity: 'rsv_severities',
} as const;
export type IncidentListKind = keyof typeof INCIDENT_LISTS;

export interface ListValueRow {
  id: string;
  structure_id: string;
  label: string | null;
  label_key: string | null;
  position: number;
  seed_code: string | null;
  retired_at: Date | null;
  created_at: Date;
}

export async function listValues(knex: Knex, kind: IncidentListKind, structureId: string, opts: { includeRetired?: boolean } = {}): Promise<ListValueRow[]> {
  const q = knex(INCIDENT_LISTS[kind])
    .select('id', 'structure_id', 'label', 'label_key', 'position', 'seed_code', 'retired_at', 'created_at')
    .where({ structure_id: structureId })
    .orderBy([{ column: 'position' }, { column: 'id' }]);
  if (!opts.includeRetired) q.whereNull('retired_at');
  return q;
}

export async function getValue(knex: Knex, kind: IncidentListKind, structureId: string, id: string): Promise<ListValueRow | undefined> {
  return knex(INCIDENT_LISTS[kind])
    .select('id', 'structure_id', 'label', 'label_key', 'position', 'seed_code', 'retired_at', 'created_at')
    .where({ structure_id: structureId, id })
    .first();
}

/** A new value goes to the end of the list. */
export async function insertValue(trx: Knex.Transaction, kind: IncidentListKind, structureId: string, label: string): Promise<ListValueRow> {
  const table = INCIDENT_LISTS[kind];
  const { rows } = await trx.raw<{ rows: ListValueRow[] }>(
    `INSERT INTO ${table} (structure_id, label, position)
     SELECT ?, ?, coalesce(max(position) + 1, 0) FROM ${table} WHERE structure_id = ?
     RETURNING id, structure_id, label, label_key, position, seed_code, retired_at, created_at`,
    [structureId, label, structureId],
  );
  return rows[0]!;
}

export async function updateValue(
  knex: Knex,
  kind: IncidentListKind,
  structureId: string,
  id: string,
  patch: { label?: string; retired?: boolean; position?: number },
): Promise<ListValueRow | undefined> {
  const changes: Record<string, unknown> = {};
  if (patch.label !== undefined) changes.label = patch.label;
  if (patch.position !== undefined) changes.position = patch.position;
  if (patch.retired !== undefined) changes.retired_at = patch.retired ? knex.raw('coalesce(retired_at, now())') : null;
  if (Object.keys(changes).length) await knex(INCIDENT_LISTS[kind]).where({ structure_id: structureId, id }).update(changes);
  return getValue(knex, kind, structureId, id);
}

/** Gives the listed values the positions 0, 1, 2... in that order; values not listed follow, in their old order. */
export async function reorderValues(trx: Knex.Transaction, kind: IncidentListKind, structureId: string, ids: string[]): Promise<void> {
  const table = INCIDENT_LISTS[kind];
  const all: Array<{ id: string }> = await trx(table).select('id').where({ structure_id: structureId }).orderBy([{ column: 'position' }, { column: 'id' }]).forUpdate();
  const listed = new Set(ids);
  const order = [...ids, ...all.map((r) => String(r.id)).filter((id) => !listed.has(id))];
  await trx.raw(
    `UPDATE ${table} AS t SET position = o.position
       FROM unnest(?::bigint[], ?::int[]) AS o(id, position)
      WHERE t.id = o.id AND t.structure_id = ?`,
    [order, order.map((_, i) => i), structureId],
  );
}
