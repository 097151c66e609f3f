import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { expandOccurrences } from '../domain/bookings';
import { OPEN_STATUSES } from '../domain/workflow';
import { recordNotification } from '../notifications/outbox';
import { schoolCalendar } from './bookings';
import { liveOverlapping } from '../store/bookings';
import type { Hindrances } from '../store/equipment';

/**
 * What makes equipment unbookable besides another booking: an open incident that says it cannot be used (out of
 * service), and maintenance windows. Both are checked when booking, shown on the planning, and told to the owners of
 * the bookings they touch, in the transaction of the change.
 */

export const OUT_OF_SERVICE_NOTICE_DAYS = 14;

export interface OutOfService {
  equipmentId: string;
  incidentId: string;
}

/** The open out-of-service incident of each piece of equipment of a school (one query). */
export async function outOfServiceOf(knex: Knex, structureId: string, equipmentIds?: string[]): Promise<Map<string, string>> {
  const q = knex('rsv_incidents')
    .where({ structure_id: structureId, out_of_service: true })
    .whereIn('status', OPEN_STATUSES)
    .groupBy('equipment_id')
    .select('equipment_id', knex.raw('min(id) AS incident_id'));
  if (equipmentIds) q.whereIn('equipment_id', equipmentIds);
  const rows: Array<{ equipment_id: string; incident_id: string }> = await q;
  return new Map(rows.map((r) => [String(r.equipment_id), String(r.incident_id)]));
}

/** Refuses a booking of equipment that is out of service or inside a maintenance window (409 with the reason). */
export function assertBookable(hindrances: Hindrances): void {
  const incidentId = hindrances.outOfServiceIncidentId;
  if (incidentId) throw new ConflictError('out_of_service', 'availability:outOfService', { number: incidentId }, { incidentId });
  const window = hindrances.window;
  if (window) throw new ConflictError('unavailable', 'availability:unavailable', { reason: window.reason }, { unavailabilityId: String(window.id), startsAt: window.starts_at.toISOString(), endsAt: window.ends_at.toISOString() });
}

interface AffectedBooking {
  id: string;
  owner_id: string;
  starts_at: Date;
  ends_at: Date;
}

/** One notification per owner, listing their bookings. */
async function tellOwners(trx: Knex.Transaction, structureId: string, kind: string, actorId: string, bookings: AffectedBooking[], extra: Record<string, unknown>): Promise<void> {
  const byOwner = new Map<string, AffectedBooking[]>();
  for (const b of bookings) byOwner.set(b.owner_id, [...(byOwner.get(b.owner_id) ?? []), b]);
  for (const list of byOwner.values()) {
    await recordNotification(trx, {
      structureId,
      kind,
      subjectType: 'booking',
      subjectId: String(list[0]!.id),
      actorId,
      data: { ...extra, count: list.length, bookings: list.map((b) => ({ id: String(b.id), startsAt: b.starts_at.toISOString(), endsAt: b.ends_at.toISOString() })) },
    });
  }
}

async function comingBookings(trx: Knex, structureId: string, equipmentId: string, days: number): Promise<AffectedBooking[]> {
  return trx('rsv_bookings')
    .where({ structure_id: structureId, equipment_id: equipmentId })
    .whereIn('status', ['pending', 'validated'])
    .where('ends_at', '>', trx.fn.now())
    .where('starts_at', '<', trx.raw(`now() + make_interval(days => ?)`, [days]))
    .orderBy('starts_at')
    .select('id', 'owner_id', 'starts_at', 'ends_at');
}

/**
 * Called by the incident service in the declaration's transaction when the incident says the equipment cannot be
 * used: the owners of its bookings in the next 14 days are told, with a link to book another room of the same type.
 */
export async function announceOutOfService(trx: Knex.Transaction, structureId: string, equipmentId: string, incidentId: string, actorId: string): Promise<void> {
  const bookings = await comingBookings(trx, structureId, equipmentId, OUT_OF_SERVICE_NOTICE_DAYS);
  await tellOwners(trx, structureId, 'booking.out_of_service', actorId, bookings, { incidentId });
}

/** Called in the transaction that closes or dismisses an out-of-service incident (if no other keeps it out). */
export async function announceBackInService(trx: Knex.Transaction, structureId: string, equipmentId: string, incidentId: string, actorId: string): Promise<void> {
  const still = await trx('rsv_incidents')
    .where({ structure_id: structureId, equipment_id: equipmentId, out_of_service: true })
    .whereIn('status', OPEN_STATUSES)
    .whereNot({ id: incidentId })
    .first('id');
  if (still) return;
  const bookings = await comingBookings(trx, structureId, equipmentId, OUT_OF_SERVICE_NOTICE_DAYS);
  await tellOwners(trx, structureId, 'booking.back_in_service', actorId, bookings, { incidentId });
}

export interface WindowRequest {
  equipmentId: string;
  startsAt: Date;
  endsAt: Date;
  reason: string;
  recurrence: { intervalWeeks: number; until: string } | null;
}

/** Creates a maintenance window (or a weekly series of them) and tells the owners of the bookings it overlaps. */
export async function createWindow(ctx: ModuleContext, structureId: string, actorId: string, input: WindowRequest) {
  const equipment = await ctx.knex('rsv_equipment').where({ structure_id: structureId, id: input.equipmentId }).first('id');
  if (!equipment) throw new ValidationError([{ field: 'equipmentId', message: 'unknown equipment' }]);
  const calendar = await schoolCalendar(ctx.knex, structureId);
  // Windows are not skipped in the holidays: a room may well be closed for works then.
  const { occurrences } = expandOccurrences({ startsAt: input.startsAt, endsAt: input.endsAt, zone: calendar.zone, recurrence: input.recurrence });
  if (!occurrences.length) throw new ValidationError([{ field: 'recurrence.until', message: 'no occurrence' }]);
  return ctx.knex.transaction(async (trx) => {
    const seriesKey = input.recurrence ? crypto.randomUUID() : null;
    const windows = await trx('rsv_unavailabilities')
      .insert(occurrences.map((o) => ({ structure_id: structureId, equipment_id: input.equipmentId, starts_at: o.startsAt, ends_at: o.endsAt, reason: input.reason, series_key: seriesKey, created_by: actorId })))
      .returning('*');
    const affected: AffectedBooking[] = await liveOverlapping(trx, structureId, input.equipmentId, occurrences);
    await tellOwners(trx, structureId, 'booking.unavailable', actorId, affected, { reason: input.reason });
    return { windows, affected };
  });
}

/** A maintenance window's row (`equipment_name` when asked for). */
export interface WindowRow {
  id: string;
  equipment_id: string;
  starts_at: Date;
  ends_at: Date;
  reason: string;
  series_key: string | null;
  created_by: string;
  equipment_name: string;
}

/**
 * The maintenance windows of a school that overlap [from, to) (no end: from `from` on), soonest first, optionally of
 * one piece of equipment, with its name when asked (the list page shows it).
 */
export async function windowsOf(
  knex: Knex,
  structureId: string,
  filter: { from: Date; to?: Date | null; equipmentId?: string; limit: number; withEquipmentName?: boolean },
): Promise<WindowRow[]> {
  const q = knex('rsv_unavailabilities as u').where('u.structure_id', structureId).where('u.ends_at', '>', filter.from).orderBy('u.starts_at').limit(filter.limit);
  if (filter.to) q.where('u.starts_at', '<', filter.to);
  if (filter.equipmentId) q.where('u.equipment_id', filter.equipmentId);
  if (filter.withEquipmentName) q.join('rsv_equipment as e', 'e.id', 'u.equipment_id').select('u.*', 'e.name as equipment_name');
  else q.select('u.*');
  return q;
}

export async function deleteWindow(ctx: ModuleContext, structureId: string, id: string): Promise<void> {
  const n = await ctx.knex('rsv_unavailabilities').where({ structure_id: structureId, id }).delete();
  if (!n) throw new NotFoundError();
}
