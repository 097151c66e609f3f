import type { Knex } from 'knex';
import { notificationsOn, recordNotification, wakeAfterCommit } from '../notifications/outbox';

export interface BookingRow {
  id: string;
  structure_id: string;
  equipment_id: string;
  owner_id: string;
  starts_at: Date;
  ends_at: Date;
  reason: string;
  status: 'pending' | 'validated' | 'refused' | 'cancelled';
  series_id: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  cancelled_by: string | null;
  cancelled_at: Date | null;
  created_at: Date;
  equipment_name?: string;
  type_id?: string;
  color?: string;
}

export const LIVE_STATUSES = ['pending', 'validated'] as const;

/** Live bookings of one equipment overlapping any of the intervals, in one round trip. */
export async function liveOverlapping(
  knex: Knex,
  structureId: string,
  equipmentId: string,
  intervals: Array<{ startsAt: Date; endsAt: Date }>,
): Promise<BookingRow[]> {
  if (!intervals.length) return [];
  const { rows } = await knex.raw<{ rows: BookingRow[] }>(
    `SELECT DISTINCT b.* FROM rsv_bookings b
       JOIN unnest(?::timestamptz[], ?::timestamptz[]) AS o(s, e)
         ON tstzrange(b.starts_at, b.ends_at, '[)') && tstzrange(o.s, o.e, '[)')
      WHERE b.structure_id = ? AND b.equipment_id = ? AND b.status IN ('pending', 'validated')
      ORDER BY b.starts_at`,
    [intervals.map((i) => i.startsAt.toISOString()), intervals.map((i) => i.endsAt.toISOString()), structureId, equipmentId],
  );
  return rows;
}

export async function bookingsInWindow(
  knex: Knex,
  structureId: string,
  filter: { from: Date; to: Date; equipmentId?: string; typeId?: string; ownerId?: string; statuses?: string[] },
): Promise<BookingRow[]> {
  const q = knex('rsv_bookings as b')
    .join('rsv_equipment as e', 'e.id', 'b.equipment_id')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where('b.structure_id', structureId)
    .where('b.starts_at', '<', filter.to)
    .where('b.ends_at', '>', filter.from)
    .whereIn('b.status', filter.statuses ?? ['pending', 'validated'])
    .select('b.*', 'e.name as equipment_name', 'e.type_id', 't.color')
    .orderBy([{ column: 'b.starts_at' }, { column: 'b.id' }])
    .limit(5000);
  if (filter.equipmentId) q.where('b.equipment_id', filter.equipmentId);
  if (filter.typeId) q.where('e.type_id', filter.typeId);
  if (filter.ownerId) q.where('b.owner_id', filter.ownerId);
  return q;
}

export async function getBooking(knex: Knex, structureId: string, id: string): Promise<BookingRow | undefined> {
  return knex('rsv_bookings as b')
    .join('rsv_equipment as e', 'e.id', 'b.equipment_id')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where({ 'b.structure_id': structureId, 'b.id': id })
    .first('b.*', 'e.name as equipment_name', 'e.type_id', 't.color');
}

/** Every column of a booking row, by name (a prepared statement's result never depends on the table's layout). */
const BOOKING_COLUMNS = [
  'id', 'structure_id', 'equipment_id', 'owner_id', 'starts_at', 'ends_at', 'reason', 'status', 'series_id',
  'decided_by', 'decided_at', 'decision_reason', 'cancelled_by', 'cancelled_at', 'created_at',
].join(', ');

/**
 * New bookings in one statement, all or none: the series (when recurring), every occurrence, their history entries
 * and the notification (one per change, as appendBookingEvent writes it). A taken slot fails the whole statement on
 * the exclusion constraint (23P01). One statement needs no transaction of its own: one round trip instead of five.
 */
export async function insertBookings(
  knex: Knex,
  input: {
    structureId: string;
    equipmentId: string;
    ownerId: string;
    reason: string;
    status: 'pending' | 'validated';
    occurrences: Array<{ startsAt: Date; endsAt: Date }>;
    recurrence?: { intervalWeeks: number; until: string } | null;
  },
): Promise<BookingRow[]> {
  const kind = input.status === 'pending' ? 'requested' : 'booked';
  const tell = TOLD.has(kind) && notificationsOn(knex);
  const { rows } = await knex.raw<{ rows: BookingRow[] }>(
    `WITH s AS (
       INSERT INTO rsv_booking_series (structure_id, equipment_id, owner_id, interval_weeks, until_date)
       SELECT ?, ?, ?, ?::int, ?::date WHERE ?
       RETURNING id
     ), b AS (
       INSERT INTO rsv_bookings (structure_id, equipment_id, owner_id, starts_at, ends_at, reason, status, series_id)
       SELECT ?, ?, ?, o.s, o.e, ?, ?, (SELECT id FROM s)
         FROM unnest(?::timestamptz[], ?::timestamptz[]) WITH ORDINALITY AS o(s, e, n)
        ORDER BY o.n
       RETURNING ${BOOKING_COLUMNS}
     ), ev AS (
       INSERT INTO rsv_booking_events (booking_id, structure_id, kind, actor_id, data)
       SELECT b.id, b.structure_id, ?, b.owner_id, '{}'::jsonb FROM b
     ), told AS (
       INSERT INTO rsv_notifications (structure_id, kind, subject_type, subject_id, actor_id, data)
       SELECT min(b.structure_id), 'booking.' || ?, 'booking', min(b.id), min(b.owner_id), jsonb_build_object('count', count(*))
         FROM b HAVING ? AND count(*) > 0
     )
     SELECT ${BOOKING_COLUMNS} FROM b ORDER BY starts_at`,
    [
      input.structureId, input.equipmentId, input.ownerId, input.recurrence?.intervalWeeks ?? null, input.recurrence?.until ?? null, Boolean(input.recurrence),
      input.structureId, input.equipmentId, input.ownerId, input.reason, input.status,
      input.occurrences.map((o) => o.startsAt.toISOString()), input.occurrences.map((o) => o.endsAt.toISOString()),
      kind,
      kind, tell,
    ],
  );
  if (tell) wakeAfterCommit(knex);
  return rows;
}

/** The booking changes that are told by mail (the owner, or the validators for a request). */
const TOLD = new Set(['requested', 'validated', 'refused', 'cancelled']);

/**
 * Every change to a booking goes through here, in the change's transaction, with its notification: one per change,
 * however many occurrences of a series it touched.
 */
export async function appendBookingEvent(
  trx: Knex.Transaction,
  event: { bookingIds: string[]; structureId: string; kind: string; actorId: string; data?: Record<string, unknown> },
): Promise<void> {
  if (!event.bookingIds.length) return;
  if (TOLD.has(event.kind)) {
    await recordNotification(trx, {
      structureId: event.structureId,
      kind: `booking.${event.kind}`,
      subjectType: 'booking',
      subjectId: event.bookingIds[0]!,
      actorId: event.actorId,
      data: { ...event.data, count: event.bookingIds.length },
    });
  }
  await trx('rsv_booking_events').insert(
    event.bookingIds.map((bookingId) => ({
      booking_id: bookingId,
      structure_id: event.structureId,
      kind: event.kind,
      actor_id: event.actorId,
      data: JSON.stringify(event.data ?? {}),
    })),
  );
}
