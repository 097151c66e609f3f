import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import { ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors';
import type { Actor } from '../domain/policies';
import { mayComment } from '../domain/incident-policy';
import { MAX_ATTACHMENTS_PER_INCIDENT } from '../domain/attachments';
import { appendIncidentEvent, IncidentEventRow } from '../store/incident-events';
import { getIncidentRow, IncidentRow, isFollower } from '../store/incidents';
import { AttachmentRow, getAttachment, insertAttachments, listAttachments, lockAndCountAttachments } from '../store/attachments';
import { Declaration, declareIncident } from './incidents';
import { fileStorage, newStorageKey } from './file-storage';
import { PreparedFile, prepareFiles } from './images';

/**
 * Files attached to incidents and comments. Every upload runs the same way: each file checked and re-encoded (no I/O
 * yet; one refused file refuses them all) -> the files written to storage under new random keys -> the rows and their
 * history entry in one transaction that also enforces the limit of 5 per incident -> on any failure, the files just
 * written are deleted. So a refused or failed upload leaves no row and no file. The files' keys are written to
 * rsv_pending_files before the files and leave it with the rows' commit: should the process die in between, the
 * sweep (sweepAbandonedFiles) deletes the files later.
 */

export interface StoredFile extends PreparedFile {
  key: string;
  thumbnailKey: string | null;
}

function tooMany(existing: number): PayloadTooLargeError {
  return new PayloadTooLargeError({ max: MAX_ATTACHMENTS_PER_INCIDENT, existing }, 'attachments:errors.tooMany', {
    maxPerIncident: MAX_ATTACHMENTS_PER_INCIDENT,
    existing,
  });
}

function noFile(): ValidationError {
  return new ValidationError([{ field: 'file', message: 'at least one file (multipart/form-data, field "file")' }], 'attachments:errors.noFile');
}

const keysOf = (stored: StoredFile[]): string[] => stored.flatMap((f) => (f.thumbnailKey ? [f.key, f.thumbnailKey] : [f.key]));

/**
 * Deletes files, then their journal entries; returns the keys whose file could not be deleted (their entries stay,
 * for the sweep to try again).
 */
async function deleteFiles(ctx: ModuleContext, keys: string[]): Promise<string[]> {
  const storage = fileStorage(ctx);
  const deleted: string[] = [];
  const kept: string[] = [];
  for (const key of keys) {
    try {
      await storage.delete(key);
      deleted.push(key);
    } catch (error) {
      kept.push(key);
      ctx.logger.error({ err: error, key }, 'an attachment file could not be deleted; the sweep will try again');
    }
  }
  if (deleted.length) await ctx.knex('rsv_pending_files').whereIn('key', deleted).delete();
  return kept;
}

/** Writes the files (and thumbnails); if one write fails, the ones already written are deleted. */
async function storeFiles(ctx: ModuleContext, prepared: PreparedFile[]): Promise<StoredFile[]> {
  const storage = fileStorage(ctx);
  const planned: StoredFile[] = prepared.map((file) => ({ ...file, key: newStorageKey(), thumbnailKey: file.thumbnail ? newStorageKey() : null }));
  const keys = keysOf(planned);
  // Committed before any file is written: a crash from here on leaves keys the sweep finds.
  await ctx.knex('rsv_pending_files').insert(keys.map((key) => ({ key })));
  const attempted: string[] = [];
  const put = (key: string, data: Buffer, contentType: string) => {
    attempted.push(key);
    return storage.put(key, data, contentType);
  };
  try {
    for (const entry of planned) {
      await put(entry.key, entry.data, entry.contentType);
      if (entry.thumbnail && entry.thumbnailKey) await put(entry.thumbnailKey, entry.thumbnail, 'image/webp');
    }
    return planned;
  } catch (error) {
    // The keys written or half-written are deleted (the one that failed may hold part of a file); the ones never
    // written only leave the journal.
    await deleteFiles(ctx, attempted);
    const unwritten = keys.filter((key) => !attempted.includes(key));
    if (unwritten.length) await ctx.knex('rsv_pending_files').whereIn('key', unwritten).delete();
    throw error;
  }
}

/** Stores the files, then runs `write` (the transaction); deletes the files when anything fails. */
async function withStoredFiles<R>(ctx: ModuleContext, files: Array<{ filename: string; data: Buffer }>, write: (stored: StoredFile[]) => Promise<R>): Promise<R> {
  const prepared = await prepareFiles(files);
  const stored = await storeFiles(ctx, prepared);
  try {
    return await write(stored);
  } catch (error) {
    await deleteFiles(ctx, keysOf(stored));
    throw error;
  }
}

/** The rows of stored files, tied to the history entry that added them. */
async function insertRows(trx: Knex.Transaction, structureId: string, incidentId: string, event: IncidentEventRow, uploaderId: string, stored: StoredFile[]): Promise<AttachmentRow[]> {
  // The files are no longer pending once their rows commit: in the same transaction.
  await trx('rsv_pending_files').whereIn('key', keysOf(stored)).delete();
  return insertAttachments(
    trx,
    stored.map((f) => ({
      structure_id: structureId,
      incident_id: String(incidentId),
      event_id: String(event.id),
      uploader_id: uploaderId,
      storage_key: f.key,
      original_name: f.name,
      content_type: f.contentType,
      size: f.data.length,
      width: f.width,
      height: f.height,
      thumbnail_key: f.thumbnailKey,
    })),
  );
}

/**
 * Adds files to an incident, alone (an 'attachment_added' entry) or with a comment (the files belong to it). Who may
 * comment may attach: the managers, the reporter, the followers.
 */
export async function attachToIncident(
  ctx: ModuleContext,
  actor: Actor,
  structureId: string,
  incidentId: string,
  files: Array<{ filename: string; data: Buffer }>,
  options: { comment?: string } = {},
): Promise<{ event: IncidentEventRow; attachments: AttachmentRow[] }> {
  const [row, following] = await Promise.all([getIncidentRow(ctx.knex, structureId, incidentId), isFollower(ctx.knex, structureId, incidentId, actor.id)]);
  if (!row) throw new NotFoundError();
  const facts = { status: row.status, reporterId: row.reporter_id, resolvedAt: row.resolved_at, level: row.level, domain: row.domain };
  if (!mayComment(actor, facts, following)) throw new ForbiddenError('attachments:errors.mayNotAttach');
  if (!files.length) throw noFile();
  if (files.length > MAX_ATTACHMENTS_PER_INCIDENT) throw tooMany(0);
  // Checked once before the work (a sixth file is refused at once), and again under the lock.
  const already = (await listAttachments(ctx.knex, structureId, incidentId)).length;
  if (already + files.length > MAX_ATTACHMENTS_PER_INCIDENT) throw tooMany(already);
  return withStoredFiles(ctx, files, (stored) =>
    ctx.knex.transaction(async (trx) => {
      const existing = await lockAndCountAttachments(trx, structureId, incidentId);
      if (existing === null) throw new NotFoundError();
      if (existing + stored.length > MAX_ATTACHMENTS_PER_INCIDENT) throw tooMany(existing);
      const event = await appendIncidentEvent(trx, {
        incidentId,
        structureId,
        kind: options.comment ? 'comment' : 'attachment_added',
        actorId: actor.id,
        comment: options.comment || null,
        data: { attachments: stored.length },
      });
      return { event, attachments: await insertRows(trx, structureId, incidentId, event, actor.id, stored) };
    }),
  );
}

/** A declaration with its photos: the incident, its 'created' entry, an 'attachment_added' entry and the rows commit together. */
export async function declareWithAttachments(
  ctx: ModuleContext,
  actor: Actor,
  structureId: string,
  input: Declaration,
  files: Array<{ filename: string; data: Buffer }>,
): Promise<{ incident: IncidentRow; attachments: AttachmentRow[] }> {
  if (files.length > MAX_ATTACHMENTS_PER_INCIDENT) throw tooMany(0);
  let attachments: AttachmentRow[] = [];
  const incident = await withStoredFiles(ctx, files, (stored) =>
    declareIncident(ctx, actor, structureId, input, async (trx, created) => {
      const event = await appendIncidentEvent(trx, {
        incidentId: String(created.id),
        structureId,
        kind: 'attachment_added',
        actorId: actor.id,
        data: { attachments: stored.length },
      });
      attachments = await insertRows(trx, structureId, String(created.id), event, actor.id, stored);
    }),
  );
  return { incident, attachments };
}

/** The bytes of a file or of its thumbnail, for who may see its incident (the route's scope and action say who). */
export async function readAttachment(ctx: ModuleContext, structureId: string, id: string, which: 'file' | 'thumbnail'): Promise<{ row: AttachmentRow; data: Buffer }> {
  const row = await getAttachment(ctx.knex, structureId, id);
  if (!row) throw new NotFoundError();
  const key = which === 'file' ? row.storage_key : row.thumbnail_key;
  if (!key) throw new NotFoundError();
  const data = await fileStorage(ctx).get(key);
  if (!data) {
    ctx.logger.error({ attachmentId: id, key }, 'an attachment row names a file the storage does not have');
    throw new NotFoundError();
  }
  return { row, data };
}

export { listAttachments };

/**
 * The files of uploads whose process died between writing them and committing their rows: keys pending for longer
 * than any upload takes (`olderThanMinutes`) are deleted from the storage, then from the journal. A key some
 * attachment row names is never touched (its rows and its journal entry leave together, so this is only a guard). The mail worker's sweep calls it every minute. Returns how many keys were cleared.
 */
export async function sweepAbandonedFiles(ctx: ModuleContext, options: { olderThanMinutes?: number; limit?: number } = {}): Promise<number> {
  const rows: Array<{ key: string }> = await ctx.knex('rsv_pending_files as p')
    .where('p.created_at', '<', ctx.knex.raw(`now() - make_interval(mins => ?)`, [options.olderThanMinutes ?? 60]))
    .whereNotExists((q) => q.select(ctx.knex.raw('1')).from('rsv_attachments as a').whereRaw('a.storage_key = p.key OR a.thumbnail_key = p.key'))
    .orderBy('p.created_at')
    .limit(options.limit ?? 200)
    .select('p.key');
  const keys = rows.map((r) => r.key);
  if (!keys.length) return 0;
  // A file that cannot be deleted now goes to the back of the queue (tried again in an hour), so that it never keeps
  // the sweep from the newer ones.
  const kept = await deleteFiles(ctx, keys);
  if (kept.length) await ctx.knex('rsv_pending_files').whereIn('key', kept).update({ created_at: ctx.knex.fn.now() });
  return keys.length - kept.length;
}
