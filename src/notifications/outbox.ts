import type { Knex } from 'knex';

export interface NotificationInput {
  structureId: string;
  kind: string;
  subjectType: 'incident' | 'booking' | 'equipment';
  subjectId: string;
  eventId?: string | null;
  actorId: string;
  data?: Record<string, unknown>;
}

/** What the worker side offers a transaction: a wake-up once it has committed. */
export interface OutboxWaker {
  wake(): void;
  /** False when the install tells nothing by mail (NOTIFICATIONS=0). */
  readonly enabled: boolean;
}

/**
 * Writes a notification in the transaction of the change it tells (both commit, or neither). Once the transaction has
 * committed, the worker is woken; if the process dies first, the minute sweep finds the row anyway.
 * The waker travels with the knex instance (`knex.withUserParams({ outbox })`), so callers pass nothing more than
 * their transaction.
 */
export async function recordNotification(trx: Knex.Transaction, input: NotificationInput): Promise<void> {
  const waker = (trx.userParams as { outbox?: OutboxWaker } | undefined)?.outbox;
  if (waker && !waker.enabled) return;
  await trx('rsv_notifications').insert({
    structure_id: input.structureId,
    kind: input.kind,
    subject_type: input.subjectType,
    subject_id: input.subjectId,
    event_id: input.eventId ?? null,
    actor_id: input.actorId,
    data: JSON.stringify(input.data ?? {}),
  });
  const committed = (trx as unknown as { executionPromise?: Promise<unknown> }).executionPromise;
  if (waker && committed) committed.then(() => waker.wake(), () => undefined);
}
