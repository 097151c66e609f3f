import { z } from 'zod';
import icalGenerator, { ICalEventStatus } from 'ical-generator';
import { DateTime } from 'luxon';
import { route, ApiRoute, RawResponse, RouteContext } from '../route';
import { actionsOf } from '../request';
import { ValidationError } from '../../errors';
import { parseInstant, isDate } from '../../domain/bookings';
import { Actor, maySeeBookingOwner } from '../../domain/policies';
import { bookingsInWindow, BookingRow } from '../../store/bookings';
import { cancelBooking, cancelSeries, createBooking, decideBooking, schoolCalendar, bookingOf } from '../../services/bookings';
import type { HostUser } from '../../host';
import type { T } from '../../i18n';
import type { ModuleContext } from '../../context';

/** Free text a user typed: no control characters but newline and tab; no HTML tags (it is plain text everywhere). */
export const plainText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), 'control characters are not allowed')
    .refine((s) => !/<\/?[a-z!][^>]*>/i.test(s), 'HTML is not allowed');

export const dbId = z.union([z.string().regex(/^[1-9][0-9]{0,17}$/), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)]).transform(String);
const instant = z.string().max(40);

export const bookingBody = z
  .object({
    equipmentId: dbId,
    startsAt: instant,
    endsAt: instant,
    reason: plainText(500).default(''),
    recurrence: z
      .object({
        weekly: z.literal(true),
        until: z.string().refine(isDate, 'must be a date YYYY-MM-DD'),
        interval: z.number().int().min(1).max(8).default(1),
      })
      .strict()
      .optional()
      .nullable(),
  })
  .strict();

export type BookingBody = z.infer<typeof bookingBody>;

/** Turns a validated body into instants in the school's zone, naming the malformed fields. */
export function bookingRequestOf(body: BookingBody, zone: string) {
  const startsAt = parseInstant(body.startsAt, zone);
  const endsAt = parseInstant(body.endsAt, zone);
  const fields: Array<{ field: string; message: string }> = [];
  if (!startsAt) fields.push({ field: 'startsAt', message: 'not a date-time (ISO 8601)' });
  if (!endsAt) fields.push({ field: 'endsAt', message: 'not a date-time (ISO 8601)' });
  if (fields.length) throw new ValidationError(fields);
  if (endsAt! <= startsAt!) throw new ValidationError([{ field: 'endsAt', message: 'must be after startsAt' }], 'booking:endBeforeStart');
  if (endsAt!.getTime() - startsAt!.getTime() > 14 * 86400000) throw new ValidationError([{ field: 'endsAt', message: 'at most 14 days after startsAt' }]);
  if (body.recurrence && body.recurrence.until < DateTime.fromJSDate(startsAt!, { zone }).toISODate()!) {
    throw new ValidationError([{ field: 'recurrence.until', message: 'must not be before the first occurrence' }]);
  }
  return {
    equipmentId: body.equipmentId,
    startsAt: startsAt!,
    endsAt: endsAt!,
    reason: body.reason.trim(),
    recurrence: body.recurrence ? { intervalWeeks: body.recurrence.interval, until: body.recurrence.until } : null,
  };
}

export async function actorOf(module: ModuleContext, ctx: Pick<RouteContext<unknown, unknown>, 'user' | 'state'>, structureId: string): Promise<Actor> {
  return { id: ctx.user.id, actions: (await actionsOf(module, ctx.state))[structureId] ?? [] };
}

export function presentBooking(row: BookingRow, viewer: Actor, owners: Map<string, HostUser>, showOwners: boolean) {
  const owner = owners.get(row.owner_id);
  return {
    id: String(row.id),
    equipmentId: String(row.equipment_id),
    equipmentName: row.equipment_name ?? null,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    reason: row.reason,
    status: row.status,
    seriesId: row.series_id ? String(row.series_id) : null,
    mine: row.owner_id === viewer.id,
    owner: owner && maySeeBookingOwner(viewer, { ownerId: row.owner_id }, showOwners) ? { id: owner.id, displayName: owner.displayName } : null,
    decisionReason: row.decision_reason,
    createdAt: row.created_at.toISOString(),
  };
}

export async function ownersOf(module: ModuleContext, rows: BookingRow[]): Promise<Map<string, HostUser>> {
  return new Map((await module.host.directory.getUsers([...new Set(rows.map((r) => r.owner_id))])).map((u) => [u.id, u]));
}

const windowQuery = z
  .object({
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
    equipmentId: z.string().regex(/^\d{1,18}$/).optional(),
    typeId: z.string().regex(/^\d{1,18}$/).optional(),
    mine: z.enum(['0', '1']).optional(),
    status: z.enum(['pending', 'validated', 'refused', 'cancelled', 'live']).optional(),
  })
  .strict();

function windowOf(query: z.infer<typeof windowQuery>, zone: string) {
  const parse = (value: string | undefined, field: string, fallback: Date) => {
    if (!value) return fallback;
    const d = isDate(value) ? DateTime.fromISO(value, { zone }).toJSDate() : parseInstant(value, zone);
    if (!d) throw new ValidationError([{ field, message: 'not a date or date-time' }]);
    return d;
  };
  const now = DateTime.now().setZone(zone);
  const from = parse(query.from, 'from', now.startOf('week').toJSDate());
  const to = parse(query.to, 'to', DateTime.fromJSDate(from).plus({ weeks: 1 }).toJSDate());
  if (to <= from) throw new ValidationError([{ field: 'to', message: 'must be after from' }]);
  if (to.getTime() - from.getTime() > 400 * 86400000) throw new ValidationError([{ field: 'to', message: 'the window is at most 400 days' }]);
  return { from, to };
}

function statusesOf(status: string | undefined): string[] | undefined {
  if (!status || status === 'live') return undefined;
  return [status];
}

export const bookingRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/structures/:sid/bookings',
    summary: 'Bookings of the school in a window (default: this week), for one equipment, one type or one\'s own.',
    action: ['booking.book', 'booking.validate', 'module.configure'],
    scope: { kind: 'structure' },
    service: 'planning',
    query: windowQuery,
    async handler(c) {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const { from, to } = windowOf(c.query, calendar.zone);
      const rows = await bookingsInWindow(c.module.knex, c.structureId, {
        from,
        to,
        equipmentId: c.query.equipmentId,
        typeId: c.query.typeId,
        ownerId: c.query.mine === '1' ? c.user.id : undefined,
        statuses: statusesOf(c.query.status),
      });
      const actor = await actorOf(c.module, c, c.structureId);
      const owners = await ownersOf(c.module, rows);
      return rows.map((r) => presentBooking(r, actor, owners, calendar.showOwners));
    },
  }),
  route({
    method: 'post',
    path: '/structures/:sid/bookings',
    summary: 'Books a room or equipment, once or every N weeks until a date (all occurrences or none).',
    action: 'booking.book',
    scope: { kind: 'structure' },
    service: 'planning',
    body: bookingBody,
    status: 201,
    example: { equipmentId: '1', startsAt: '2030-01-08T10:00:00+01:00', endsAt: '2030-01-08T11:00:00+01:00', reason: '4e B, sciences' },
    async handler(c) {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const request = bookingRequestOf(c.body, calendar.zone);
      const actor = await actorOf(c.module, c, c.structureId);
      const result = await createBooking(c.module, c.user, actor, c.structureId, request, new Date(), calendar);
      const owners = new Map([[c.user.id, c.user]]);
      const bookings = result.bookings.map((b) => presentBooking(b, actor, owners, true));
      if (!request.recurrence) return bookings[0];
      return { seriesId: bookings[0]!.seriesId, bookings, skipped: result.skipped };
    },
  }),
  route({
    method: 'post',
    path: '/bookings/:id/cancel',
    summary: "Cancels one's own booking (or any, for a referent or the school admin).",
    action: ['booking.book', 'booking.validate', 'module.configure'],
    scope: { kind: 'record', table: 'booking' },
    service: 'planning',
    body: z.object({}).strict(),
    async handler(c) {
      const actor = await actorOf(c.module, c, c.structureId);
      const updated = await cancelBooking(c.module, c.user, actor, c.structureId, c.recordId);
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      return presentBooking(updated, actor, await ownersOf(c.module, [updated]), calendar.showOwners);
    },
  }),
  route({
    method: 'post',
    path: '/booking-series/:id/cancel',
    summary: 'Cancels a whole series, or its occurrences from a date on.',
    action: ['booking.book', 'booking.validate', 'module.configure'],
    scope: { kind: 'record', table: 'bookingSeries' },
    service: 'planning',
    body: z.object({ from: z.string().refine(isDate, 'must be a date YYYY-MM-DD').optional() }).strict(),
    async handler(c) {
      const actor = await actorOf(c.module, c, c.structureId);
      const cancelled = await cancelSeries(c.module, c.user, actor, c.structureId, c.recordId, c.body.from ?? null);
      return { cancelled: cancelled.map((b) => String(b.id)) };
    },
  }),
  route({
    method: 'post',
    path: '/bookings/:id/validate',
    summary: 'Validates a pending booking (delegates of the responsible account).',
    action: 'booking.validate',
    scope: { kind: 'record', table: 'booking' },
    service: 'planning',
    body: z.object({ reason: plainText(500).default('') }).strict(),
    async handler(c) {
      const updated = await decideBooking(c.module, c.user, c.structureId, c.recordId, 'validated', c.body.reason);
      const actor = await actorOf(c.module, c, c.structureId);
      return presentBooking(updated, actor, await ownersOf(c.module, [updated]), true);
    },
  }),
  route({
    method: 'post',
    path: '/bookings/:id/refuse',
    summary: 'Refuses a pending booking, with a reason told to the owner.',
    action: 'booking.validate',
    scope: { kind: 'record', table: 'booking' },
    service: 'planning',
    body: z.object({ reason: plainText(500).refine((s) => s.trim().length > 0, 'a reason is required') }).strict(),
    example: { reason: 'Salle réservée pour les examens' },
    async handler(c) {
      const updated = await decideBooking(c.module, c.user, c.structureId, c.recordId, 'refused', c.body.reason.trim());
      const actor = await actorOf(c.module, c, c.structureId);
      return presentBooking(updated, actor, await ownersOf(c.module, [updated]), true);
    },
  }),
  route({
    method: 'get',
    path: '/bookings/:id',
    summary: 'One booking.',
    action: ['booking.book', 'booking.validate', 'module.configure'],
    scope: { kind: 'record', table: 'booking' },
    service: 'planning',
    async handler(c) {
      const booking = await bookingOf(c.module, c.structureId, c.recordId);
      const actor = await actorOf(c.module, c, c.structureId);
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      return presentBooking(booking, actor, await ownersOf(c.module, [booking]), calendar.showOwners);
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/bookings.ics',
    summary: "The school's live bookings (or ?mine=1 one's own) as iCalendar (RFC 5545), from 30 days ago to a year ahead.",
    action: ['booking.book', 'booking.validate', 'module.configure'],
    scope: { kind: 'structure' },
    service: 'planning',
    query: z.object({ mine: z.enum(['0', '1']).optional(), equipmentId: z.string().regex(/^\d{1,18}$/).optional() }).strict(),
    async handler(c) {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const now = DateTime.now();
      const rows = await bookingsInWindow(c.module.knex, c.structureId, {
        from: now.minus({ days: 30 }).toJSDate(),
        to: now.plus({ days: 366 }).toJSDate(),
        ownerId: c.query.mine === '1' ? c.user.id : undefined,
        equipmentId: c.query.equipmentId,
      });
      const [structure] = await c.module.host.directory.getStructures([c.structureId]);
      const actor = await actorOf(c.module, c, c.structureId);
      const owners = await ownersOf(c.module, rows);
      const host = new URL(c.module.host.http.publicUrl()).hostname;
      const ics = icalGenerator({ name: `${c.state.t('common:module.name')} – ${structure?.name ?? c.structureId}`, timezone: calendar.zone, prodId: { company: 'reservations-incident', product: 'planning', language: c.state.lang.toUpperCase() } });
      for (const row of rows) {
        const b = presentBooking(row, actor, owners, calendar.showOwners);
        ics.createEvent({
          id: `booking-${b.id}@${host}`,
          start: row.starts_at,
          end: row.ends_at,
          summary: `${b.equipmentName ?? ''}${b.reason ? ` – ${b.reason}` : ''}`,
          description: [b.reason, b.owner ? c.state.t('booking:ics.bookedBy', { name: b.owner.displayName }) : ''].filter(Boolean).join('\n'),
          location: b.equipmentName ?? undefined,
          status: row.status === 'pending' ? ICalEventStatus.TENTATIVE : ICalEventStatus.CONFIRMED,
          stamp: row.created_at,
        });
      }
      return new RawResponse('text/calendar; charset=utf-8', ics.toString(), {
        'Content-Disposition': `attachment; filename="${c.query.mine === '1' ? 'mes-reservations' : 'reservations'}-${c.structureId.replace(/[^a-z0-9-]/gi, '')}.ics"`,
      });
    },
  }),
];

export type { T };
