import type { ModuleContext } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { tFor } from '../i18n';
import { labelOf } from '../http/presenters';
import { getValue, IncidentListKind, insertValue, listValues, ListValueRow, reorderValues, updateValue } from '../store/incident-lists';

/**
 * A school edits its lists of incident types and severities: add, rename, reorder, retire (and restore). A value is
 * never deleted: old incidents keep it; retired, it is no longer offered on the declaration form.
 */

const normalize = (label: string) => label.trim().toLocaleLowerCase('fr');

/** Two live values of one list may not read the same (in French, the school's language, or as typed). */
async function checkUnique(ctx: ModuleContext, kind: IncidentListKind, structureId: string, label: string, exceptId?: string): Promise<void> {
  const fr = tFor('fr');
  const taken = (await listValues(ctx.knex, kind, structureId)).some((v) => String(v.id) !== exceptId && normalize(labelOf(v, fr)) === normalize(label));
  if (taken) throw new ConflictError('duplicate_label', 'incident:errors.duplicateLabel', { label }, { field: 'label' });
}

export async function createListValue(ctx: ModuleContext, kind: IncidentListKind, structureId: string, label: string): Promise<ListValueRow> {
  await checkUnique(ctx, kind, structureId, label);
  return ctx.knex.transaction((trx) => insertValue(trx, kind, structureId, label));
}

async function existing(ctx: ModuleContext, kind: IncidentListKind, structureId: string, id: string): Promise<ListValueRow> {
  const row = await getValue(ctx.knex, kind, structureId, id);
  if (!row) throw new NotFoundError();
  return row;
}

export async function updateListValue(
  ctx: ModuleContext,
  kind: IncidentListKind,
  structureId: string,
  id: string,
  patch: { label?: string; retired?: boolean },
): Promise<ListValueRow> {
  const row = await existing(ctx, kind, structureId, id);
  // A value coming back from retirement must not duplicate a live one either.
  const label = patch.label ?? (patch.retired === false && row.retired_at ? labelOf(row, tFor('fr')) : undefined);
  if (label !== undefined) await checkUnique(ctx, kind, structureId, label, String(row.id));
  return (await updateValue(ctx.knex, kind, structureId, id, patch))!;
}

/** Moves one value up or down among the school's values (the pages' arrows). */
export async function moveListValue(ctx: ModuleContext, kind: IncidentListKind, structureId: string, id: string, direction: 'up' | 'down'): Promise<void> {
  const ids = (await listValues(ctx.knex, kind, structureId, { includeRetired: true })).map((v) => String(v.id));
  const from = ids.indexOf(String(id));
  if (from < 0) throw new NotFoundError();
  const to = direction === 'up' ? from - 1 : from + 1;
  if (to < 0 || to >= ids.length) return;
  [ids[from], ids[to]] = [ids[to]!, ids[from]!];
  await ctx.knex.transaction((trx) => reorderValues(trx, kind, structureId, ids));
}

/** Sets the order: `ids` first, in that order; the school's other values keep their relative order after them. */
export async function reorderList(ctx: ModuleContext, kind: IncidentListKind, structureId: string, ids: string[]): Promise<ListValueRow[]> {
  const known = new Set((await listValues(ctx.knex, kind, structureId, { includeRetired: true })).map((v) => String(v.id)));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length || new Set(ids).size !== ids.length) {
    throw new ValidationError([{ field: 'ids', message: unknown.length ? `not values of this list: ${unknown.join(', ')}` : 'an id is repeated' }]);
  }
  await ctx.knex.transaction((trx) => reorderValues(trx, kind, structureId, ids));
  return listValues(ctx.knex, kind, structureId, { includeRetired: true });
}
