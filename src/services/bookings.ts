import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import type { HostUser } from '../host';
import { ConflictError, ForbiddenError, NotFoundError, RefusedError, ValidationError } from '../errors';
import { expandOccurrences, Holiday, MAX_OCCURRENCES, OpeningHours, Occurrence, ruleViolations, localDate } from '../domain/bookings';
import { Actor, mayCancelBooking, maySeeBookingOwner } from '../domain/policies';
import { bookingFacts } from '../store/equipment';
import { appendBookingEvent, BookingRow, getBooking, insertBookings, liveOverlapping } from '../store/bookings';
import { getSettings } from '../store/settings';
import { assertBookable } from './availability';

export interface BookingRequest {
  equipmentId: string;
  startsAt: Date;
  endsAt: Date;
  reason: string;
  recurrence?: { intervalWeeks: number; until: string } | null;
}

export interface Conflict {
  date: string;
  occurrence: { startsAt: string; endsAt: string };
  booking: { id: string; startsAt: string; endsAt: string; owner: { id: string; displayName: string } | null };
}

export interface SchoolCalendar {
  zone: string;
  holidays: Holiday[];
  openingHours: OpeningHours;
  showOwners: boolean;
}

export async function schoolCalendar(knex: Knex, structureId: string): Promise<SchoolCalendar> {
  const settings = await getSettings(knex, structureId);
  return {
    zone: settings?.time_zone ?? 'Europe/Paris',
    holidays: settings?.holidays ?? [],
    openingHours: settings?.opening_hours ?? {},
    showOwners: (settings as { show_booking_owners?: boolean } | null)?.show_booking_owners ?? true,
  };
}

const PG_EXCLUSION_VIOLATION = '23P01';

async function describeConflicts(
  ctx: ModuleContext,
  actor: Actor,
  calendar: SchoolCalendar,
  structureId: string,
  equipmentId: string,
  occurrences: Occurrence[],
): Promise<Conflict[]> {
  const taken = await liveOverlapping(ctx.knex, structureId, equipmentId, occurrences);
  if (!taken.length) return [];
  const owners = new Map((await ctx.host.directory.getUsers([...new Set(taken.map((b) => b.owner_id))])).map((u) => [u.id, u]));
  const conflicts: Conflict[] = [];
  for (const occurrence of occurrences) {
    for (const b of taken) {
      if (!(b.starts_at < occurrence.endsAt && occurrence.startsAt < b.ends_at)) continue;
      const owner = owners.get(b.owner_id);
      conflicts.push({
        date: occurrence.date,
        occurrence: { startsAt: occurrence.startsAt.toISOString(), endsAt: occurrence.endsAt.toISOString() },
        booking: {
          id: String(b.id),
          startsAt: b.starts_at.toISOString(),
          endsAt: b.ends_at.toISOString(),
          owner: owner && maySeeBookingOwner(actor, { ownerId: b.owner_id }, calendar.showOwners) ? { id: owner.id, displayName: owner.displayName } : null,
        },
      });
    }
  }
  return conflicts;
}

/**
 * Books one slot or a weekly series, all occurrences or none. The exclusion constraint is the last word: two requests
 * racing for one slot both pass the pre-check, one insert fails with 23P01 and that request answers 409 too.
 */
export async function createBooking(
  ctx: ModuleContext,
  user: HostUser,
  actor: Actor,
  structureId: string,
  input: BookingRequest,
  now = new Date(),
  /** The school's calendar when the caller has read it already (one query less). */
  knownCalendar?: SchoolCalendar,
) {
  // The school's calendar is the request's (read with the settings); the equipment with its type's rules and what
  // could hinder the booking are read in one query before any check, which then run in the usual order.
  const calendar = knownCalendar ?? (await schoolCalendar(ctx.knex, structureId));
  const timesValid = input.endsAt > input.startsAt;
  const expanded = timesValid ? expandOccurrences({ startsAt: input.startsAt, endsAt: input.endsAt, zone: calendar.zone, recurrence: input.recurrence, holidays: calendar.holidays }) : null;
  const checkable = expanded && expanded.occurrences.length <= MAX_OCCURRENCES ? expanded.occurrences : [];
  const { equipment, hindrances } = await bookingFacts(ctx.knex, structureId, input.equipmentId, checkable);
  if (!equipment || equipment.retired_at) throw new ValidationError([{ field: 'equipmentId', message: 'unknown equipment' }]);
  if (equipment.purpose !== 'booking') throw new RefusedError('not_bookable', 'booking:notBookable', { name: equipment.name });
  if (!expanded) throw new ValidationError([{ field: 'endsAt', message: 'must be after startsAt' }], 'booking:endBeforeStart');
  // The type's rules come with the equipment (bookingFacts joins them).
  const type = equipment;
  const { occurrences, skipped } = expanded;
  if (occurrences.length === 0) throw new RefusedError('no_occurrence', 'booking:noOccurrence');
  if (occurrences.length > MAX_OCCURRENCES) throw new ValidationError([{ field: 'recurrence.until', message: `at most ${MAX_OCCURRENCES} occurrences` }], 'booking:tooManyOccurrences');

  const rules = { minNoticeMinutes: type.min_notice_minutes, maxNoticeDays: type.max_notice_days, maxLengthMinutes: type.max_length_minutes, withinOpeningHours: type.within_opening_hours };
  const violations = occurrences.flatMap((o) => ruleViolations(o, rules, { now, zone: calendar.zone, openingHours: calendar.openingHours }).map((v) => ({ date: o.date, ...v })));
  if (violations.length) {
    const first = violations[0]!;
    throw new RefusedError('booking_rule', `booking:rule.${first.rule}`, { ...first }, { violations });
  }

  assertBookable(hindrances);
  // A series is checked first, so that every taken date is listed before anything is written. A single slot goes
  // straight to the insert: the exclusion constraint refuses a taken slot (23P01, below) with the same 409, and the
  // common case, a free slot, saves a round trip.
  if (occurrences.length > 1) {
    const conflicts = await describeConflicts(ctx, actor, calendar, structureId, input.equipmentId, occurrences);
    if (conflicts.length) throw conflictError(conflicts, calendar.zone);
  }

  const status = type.needs_validation ? 'pending' : 'validated';
  try {
    const rows = await insertBookings(ctx.knex, { structureId, equipmentId: input.equipmentId, ownerId: user.id, reason: input.reason, status, occurrences, recurrence: input.recurrence });
    return { bookings: rows.map((r) => ({ ...r, equipment_name: equipment.name, type_id: equipment.type_id, color: equipment.color })), skipped };
  } catch (error) {
    if ((error as { code?: string }).code === PG_EXCLUSION_VIOLATION) {
      const raced = await describeConflicts(ctx, actor, calendar, structureId, input.equipmentId, occurrences);
      throw conflictError(raced, calendar.zone);
    }
    throw error;
  }
}

function conflictError(conflicts: Conflict[], zone: string): ConflictError {
  const dates = [...new Set(conflicts.map((c) => c.date))];
  return new ConflictError('conflict', dates.length > 1 ? 'booking:conflictMany' : 'booking:conflict', { dates, count: dates.length, zone }, { conflicts });
}

async function lockBooking(trx: Knex, structureId: string, id: string): Promise<BookingRow> {
  const booking = await trx('rsv_bookings').where({ structure_id: structureId, id }).forUpdate().first();
  if (!booking) throw new NotFoundError();
  return booking;
}

export async function cancelBooking(ctx: ModuleContext, user: HostUser, actor: Actor, structureId: string, id: string): Promise<BookingRow> {
  return ctx.knex.transaction(async (trx) => {
    const booking = await lockBooking(trx, structureId, id);
    if (!mayCancelBooking(actor, { ownerId: booking.owner_id, status: booking.status })) throw new ForbiddenError('booking:notYours');
    if (booking.status === 'cancelled' || booking.status === 'refused') throw new RefusedError('not_live', 'booking:notLive', { status: booking.status });
    const [updated] = await trx('rsv_bookings')
      .where({ id })
      .update({ status: 'cancelled', cancelled_by: user.id, cancelled_at: trx.fn.now(), updated_at: trx.fn.now() })
      .returning('*');
    await appendBookingEvent(trx, { bookingIds: [id], structureId, kind: 'cancelled', actorId: user.id, data: { byOwner: booking.owner_id === user.id } });
    return updated;
  });
}

/** Cancels a whole series, or its occurrences from one date on (in the school's calendar). */
export async function cancelSeries(ctx: ModuleContext, user: HostUser, actor: Actor, structureId: string, seriesId: string, from: string | null): Promise<BookingRow[]> {
  const calendar = await schoolCalendar(ctx.knex, structureId);
  return ctx.knex.transaction(async (trx) => {
    const series = await trx('rsv_booking_series').where({ structure_id: structureId, id: seriesId }).forUpdate().first();
    if (!series) throw new NotFoundError();
    if (!mayCancelBooking(actor, { ownerId: series.owner_id, status: 'validated' })) throw new ForbiddenError('booking:notYours');
    const live: BookingRow[] = await trx('rsv_bookings').where({ series_id: seriesId }).whereIn('status', ['pending', 'validated']).orderBy('starts_at');
    const targets = live.filter((b) => !from || localDate(b.starts_at, calendar.zone) >= from);
    if (!targets.length) return [];
    const ids = targets.map((b) => String(b.id));
    const updated: BookingRow[] = await trx('rsv_bookings')
      .whereIn('id', ids)
      .update({ status: 'cancelled', cancelled_by: user.id, cancelled_at: trx.fn.now(), updated_at: trx.fn.now() })
      .returning('*');
    await appendBookingEvent(trx, { bookingIds: ids, structureId, kind: 'cancelled', actorId: user.id, data: { series: seriesId, from } });
    return updated;
  });
}

/** A validator accepts or refuses a pending booking; the owner is told through the booking's events. */
export async function decideBooking(ctx: ModuleContext, user: HostUser, structureId: string, id: string, decision: 'validated' | 'refused', reason: string): Promise<BookingRow> {
  return ctx.knex.transaction(async (trx) => {
    const booking = await lockBooking(trx, structureId, id);
    if (booking.status !== 'pending') throw new RefusedError('not_pending', 'booking:notPending', { status: booking.status });
    const [updated] = await trx('rsv_bookings')
      .where({ id })
      .update({ status: decision, decided_by: user.id, decided_at: trx.fn.now(), decision_reason: reason || null, updated_at: trx.fn.now() })
      .returning('*');
    await appendBookingEvent(trx, { bookingIds: [id], structureId, kind: decision, actorId: user.id, data: { reason } });
    return updated;
  });
}

export async function bookingOf(ctx: ModuleContext, structureId: string, id: string) {
  const booking = await getBooking(ctx.knex, structureId, id);
  if (!booking) throw new NotFoundError();
  return booking;
}
