import type { Client, TestHost } from './host';

/** Small factories for the incident tests: the ids of a school's lists, and a declared incident. */
export interface SchoolLists {
  equipmentId: string;
  roomId: string;
  typeIds: string[];
  severityIds: string[];
}

export async function schoolLists(h: TestHost, structureId = 'college-a'): Promise<SchoolLists> {
  const knex = h.db.knex;
  const equipment = await knex('rsv_equipment as e')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where('e.structure_id', structureId)
    .select('e.id', 'e.name', 't.purpose')
    .orderBy('e.id');
  const types = await knex('rsv_incident_types').where({ structure_id: structureId }).whereNull('retired_at').orderBy(['position', 'id']).pluck('id');
  const severities = await knex('rsv_severities').where({ structure_id: structureId }).whereNull('retired_at').orderBy(['position', 'id']).pluck('id');
  const projector = equipment.find((e: { name: string }) => e.name.startsWith('Vidéoprojecteur')) ?? equipment.find((e: { purpose: string }) => e.purpose === 'incident');
  const room = equipment.find((e: { purpose: string }) => e.purpose === 'booking');
  return { equipmentId: String(projector.id), roomId: String(room.id), typeIds: types.map(String), severityIds: severities.map(String) };
}

export async function declare(client: Client, lists: SchoolLists, overrides: Record<string, unknown> = {}, structureId = 'college-a') {
  const res = await client.post(`/structures/${structureId}/incidents`, {
    equipmentId: lists.equipmentId,
    typeId: lists.typeIds[0],
    severityId: lists.severityIds[0],
    description: 'Le vidéoprojecteur ne s’allume plus.',
    ...overrides,
  });
  if (res.status !== 201) throw new Error(`declaration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; status: string; version: number };
}

/** Brings a new incident to a status by allowed moves, as a referent would. */
export async function bringTo(referent: Client, id: string, status: string): Promise<void> {
  const path: Record<string, string[]> = { new: [], taken: ['taken'], in_progress: ['in_progress'], dismissed: ['dismissed'], closed: ['closed'] };
  for (const to of path[status]!) {
    const res = await referent.post(`/incidents/${id}/transitions`, { to });
    if (res.status !== 200) throw new Error(`move to ${to} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}
