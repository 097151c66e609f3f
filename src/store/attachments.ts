import type { Knex } from 'knex';
import type { AttachmentType } from '../domain/attachments';

export interface AttachmentRow {
  id: string;
  structure_id: string;
  incident_id: string;
  event_id: string | null;
  uploader_id: string;
  storage_key: string;
  original_name: string;
  content_type: AttachmentType;
  size: number;
  width: number | null;
  height: number | null;
  thumbnail_key: string | null;
  created_at: Date;
}

export type NewAttachment = Omit<AttachmentRow, 'id' | 'created_at'>;

const COLUMNS = [
  'id',
  'structure_id',
  'incident_id',
  'event_id',
  'uploader_id',
  'storage_key',
  'original_name',
  'content_type',
  'size',
  'width',
  'height',
  'thumbnail_key',
  'created_at',
];

/** Locks the incident row (two uploads at once cannot both pass the limit) and counts its files. */
export async function lockAndCountAttachments(trx: Knex.Transaction, structureId: string, incidentId: string): Promise<number | null> {
  const incident = await trx('rsv_incidents').where({ id: incidentId, structure_id: structureId }).forUpdate().first('id');
  if (!incident) return null;
  const row = await trx('rsv_attachments').where({ structure_id: structureId, incident_id: incidentId }).count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

export async function insertAttachments(trx: Knex.Transaction, rows: NewAttachment[]): Promise<AttachmentRow[]> {
  if (!rows.length) return [];
  return trx('rsv_attachments').insert(rows).returning(COLUMNS);
}

export async function listAttachments(knex: Knex, structureId: string, incidentId: string): Promise<AttachmentRow[]> {
  return knex('rsv_attachments').where({ structure_id: structureId, incident_id: incidentId }).orderBy('id').select(COLUMNS);
}

export async function getAttachment(knex: Knex, structureId: string, id: string): Promise<AttachmentRow | undefined> {
  return knex('rsv_attachments').where({ structure_id: structureId, id }).first(COLUMNS);
}
