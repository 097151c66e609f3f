import { z } from 'zod';
import { decodeCursor, decodeDueCursor, encodeCursor, encodeDueCursor } from '../../domain/keyset';
import { nextDueAt } from '../../domain/service-clock';
import type { DueKey, IncidentRow } from '../../store/incidents';

/**
 * The order of incident lists (GET /structures/:sid/incidents?sort=, the inbox page): newest first, or by due time
 * (the service clock), each with its own keyset cursor.
 */

export const incidentSort = z.enum(['newest', 'due']);
export type IncidentSort = z.infer<typeof incidentSort>;

function decodeFor(sort: IncidentSort | undefined, cursor: string) {
  return sort === 'due' ? decodeDueCursor(cursor) : decodeCursor(cursor);
}

/** A list query's cursor must be one this API gave for the same order (else 400 naming `cursor`). */
export function checkSortedCursor(q: { sort?: IncidentSort; cursor?: string }, ctx: z.RefinementCtx): void {
  if (q.cursor && !decodeFor(q.sort, q.cursor)) ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'not a cursor given by this API for this sort' });
}

/** Where the page resumes: before an id (newest first) or after a (due time, id) pair (by due time). */
export function sortedCursor(sort: IncidentSort | undefined, cursor: string | undefined): { beforeId?: string; afterDue?: DueKey } {
  if (!cursor) return {};
  if (sort === 'due') return { afterDue: decodeDueCursor(cursor) ?? undefined };
  return { beforeId: decodeCursor(cursor) ?? undefined };
}

export function nextSortedCursor(sort: IncidentSort | undefined, last: Pick<IncidentRow, 'id' | 'status' | 'take_in_charge_due_at' | 'resolve_due_at'>): string {
  if (sort !== 'due') return encodeCursor(last.id);
  const due = nextDueAt({ status: last.status, takeInChargeDueAt: last.take_in_charge_due_at, resolveDueAt: last.resolve_due_at });
  return encodeDueCursor(due ? new Date(due) : null, last.id);
}

