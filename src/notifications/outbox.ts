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
  if (!notificationsOn(trx)) return;
  await trx('rsv_notifications').insert({
    structure_id: input.structureId,
    kind: input.kind,
    subject_type: input.subjectType,
    subject_id: input.subjectId,
    event_id: input.eventId ?? null,
    actor_id: input.actorId,
    data: JSON.stringify(input.data ?? {}),
  });
  wakeAfterCommit(trx);
}

function wakerOf(knex: Knex): OutboxWaker | undefined {
  return (knex.userParams as { outbox?: OutboxWaker } | undefined)?.outbox;
}

/** False when the install tells nothing by mail (NOTIFICATIONS=0): no notification row may be written then. */
export function notificationsOn(knex: Knex): boolean {
  return wakerOf(knex)?.enabled !== false;
}

/**
 * For a statement that wrote notification rows itself (in a CTE, to spare a round trip): wakes the worker once the
 * transaction has committed, or at once when the statement ran on its own (outside a transaction, it has committed).
 */
export function wakeAfterCommit(knex: Knex): void {
  const waker = wakerOf(knex);
  if (!waker) return;
  if (!knex.isTransaction) {
    waker.wake();
    return;
  }
  const committed = (knex as unknown as { executionPromise?: Promise<unknown> }).executionPromise;
  if (committed) committed.then(() => waker.wake(), () => undefined);
}
