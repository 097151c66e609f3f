import { z } from 'zod';
import { DateTime } from 'luxon';
import { page, PageRoute, PageResult, RouteContext } from '../route';
import { actionsOf } from '../request';
import { listEquipment, listResourceTypes } from '../../store/equipment';
import { bookingsInWindow } from '../../store/bookings';
import { schoolCalendar, createBooking, cancelBooking, cancelSeries } from '../../services/bookings';
import { weekOf } from '../../domain/bookings';
import { labelOf } from '../presenters';
import { actorOf, bookingBody, bookingRequestOf, ownersOf, presentBooking } from '../api/bookings';
import { AppError, ValidationError } from '../../errors';
import { errorBody } from '../errors';
import { formatDays } from '../../i18n';
import { enabledServicesOf } from '../../store/settings';
import { outOfServiceOf, windowsOf } from '../../services/availability';

const BOOKING_READERS = ['booking.book', 'booking.validate', 'module.configure'];
const SLOT_MINUTES = 30;

const planningQuery = z
  .object({
    week: z.string().max(10).optional(),
    typeId: z.string().regex(/^\d{1,18}$/).optional(),
    equipmentId: z.string().regex(/^\d{1,18}$/).optional(),
    lang: z.string().optional(),
  })
  .strict();

interface Cell {
  kind: 'free' | 'booking' | 'covered';
  booking?: ReturnType<typeof presentBooking> & { label: string };
  rowspan?: number;
  start?: string;
}

/** The week grid of one room: rows of 30 minutes, a booking spans its rows (rowspan), so no inline style is needed. */
function roomGrid(days: string[], bookings: Array<ReturnType<typeof presentBooking>>, zone: string, firstMinute: number, lastMinute: number) {
  const slots: number[] = [];
  for (let m = firstMinute; m < lastMinute; m += SLOT_MINUTES) slots.push(m);
  const grid: Cell[][] = slots.map(() => days.map(() => ({ kind: 'free' as const })));
  days.forEach((day, d) => {
    for (const b of bookings) {
      const s = DateTime.fromISO(b.startsAt).setZone(zone);
      const e = DateTime.fromISO(b.endsAt).setZone(zone);
      if (s.toISODate() !== day) continue;
      const startMin = s.hour * 60 + s.minute;
      const endMin = e.toISODate() === day ? e.hour * 60 + e.minute : 24 * 60;
      const first = Math.max(0, Math.floor((startMin - firstMinute) / SLOT_MINUTES));
      const last = Math.min(slots.length, Math.ceil((endMin - firstMinute) / SLOT_MINUTES));
      if (last <= first || grid[first]![d]!.kind !== 'free') continue;
      grid[first]![d] = { kind: 'booking', booking: { ...b, label: `${s.toFormat('HH:mm')}–${e.toFormat('HH:mm')}` }, rowspan: last - first };
      for (let r = first + 1; r < last; r++) grid[r]![d] = { kind: 'covered' };
    }
  });
  return slots.map((m, r) => ({
    time: `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`,
    cells: grid[r]!.map((cell) => ({ ...cell, start: `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}` })),
  }));
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

async function bookingFormData(c: RouteContext<unknown, unknown>, values: Record<string, unknown>) {
  const equipment = await listEquipment(c.module.knex, c.structureId, { purpose: 'booking' });
  const [structure] = await c.module.host.directory.getStructures([c.structureId]);
  return {
    structure,
    structureId: c.structureId,
    equipment: equipment.map((e) => ({ id: String(e.id), name: e.name, typeName: labelOf({ name: e.type_name, name_key: e.type_name_key }, c.state.t) })),
    values,
  };
}

function formErrors(error: unknown, t: RouteContext<unknown, unknown>['state']['t'], lang: string) {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, t);
  const details = (body.details ?? {}) as { fields?: Array<{ field: string; message: string }>; conflicts?: Array<{ date: string }> };
  const conflicts = (details.conflicts ?? []).map((c) => ({ ...c, label: formatDays([c.date], lang) }));
  return { message: body.message, fields: details.fields ?? [], conflicts, status: error.status };
}

/** The fields of a form that picks a room and a slot, once or weekly (the booking form, the maintenance window form). */
export const slotFormFields = {
  equipmentId: z.string().max(20).default(''),
  date: z.string().max(10).default(''),
  start: z.string().max(5).default(''),
  end: z.string().max(5).default(''),
  reason: z.string().max(2000).default(''),
  repeat: z.string().optional(),
  until: z.string().max(10).default(''),
};

export const planningPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/planning',
    summary: 'The week planning of one room, or of every room of a type.',
    action: BOOKING_READERS,
    scope: { kind: 'structure' },
    service: 'planning',
    query: planningQuery,
    async handler(c): Promise<PageResult> {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const now = new Date();
      const week = weekOf(c.query.week ?? null, calendar.zone, now);
      const types = (await listResourceTypes(c.module.knex, c.structureId)).filter((t) => t.purpose === 'booking');
      const allEquipment = await listEquipment(c.module.knex, c.structureId, { purpose: 'booking' });
      const equipment = allEquipment.find((e) => String(e.id) === c.query.equipmentId) ?? null;
      const typeId = equipment ? String(equipment.type_id) : (c.query.typeId ?? (types[0] ? String(types[0].id) : undefined));
      const rows = await bookingsInWindow(c.module.knex, c.structureId, {
        from: week.monday.toJSDate(),
        to: week.monday.plus({ days: 7 }).toJSDate(),
        equipmentId: equipment ? String(equipment.id) : undefined,
        typeId: equipment ? undefined : typeId,
      });
      const actor = await actorOf(c.module, c, c.structureId);
      const owners = await ownersOf(c.module, rows);
      const [outOfService, windowRows] = await Promise.all([
        outOfServiceOf(c.module.knex, c.structureId),
        windowsOf(c.module.knex, c.structureId, { from: week.monday.toJSDate(), to: week.monday.plus({ days: 7 }).toJSDate(), equipmentId: equipment ? String(equipment.id) : undefined, limit: 1000 }),
      ]);
      // Maintenance windows sit in the grid like bookings, marked as such (they are not anyone's booking).
      const windowBookings = windowRows.map((w: { id: string; equipment_id: string; starts_at: Date; ends_at: Date; reason: string }) => ({
        id: `w${w.id}`, equipmentId: String(w.equipment_id), equipmentName: null, startsAt: w.starts_at.toISOString(), endsAt: w.ends_at.toISOString(),
        reason: w.reason, status: 'unavailable' as const, seriesId: null, mine: false, owner: null, decisionReason: null, createdAt: w.starts_at.toISOString(),
      }));
      const bookings = [...rows.map((r) => presentBooking(r, actor, owners, calendar.showOwners)), ...windowBookings] as Array<ReturnType<typeof presentBooking>>;
      const periods = Object.values(calendar.openingHours).flat() as Array<[string, string]>;
      const first = Math.min(8 * 60, ...periods.map(([a]) => minutes(a)));
      const last = Math.max(18 * 60, ...periods.map(([, b]) => minutes(b)));
      const showWeekend = bookings.some((b) => DateTime.fromISO(b.startsAt).setZone(calendar.zone).weekday >= 6);
      const days = showWeekend ? week.days : week.days.slice(0, 5);
      const today = DateTime.fromJSDate(now, { zone: calendar.zone }).toISODate();
      const [structure] = await c.module.host.directory.getStructures([c.structureId]);
      const roomsOfType = allEquipment.filter((e) => String(e.type_id) === typeId);
      const t = c.state.t;
      return {
        view: 'pages/planning',
        title: t('planning:title', { school: structure?.name ?? '' }),
        structureId: c.structureId,
        data: {
          structure,
          structureId: c.structureId,
          zone: calendar.zone,
          week: week.isoWeek,
          previousWeek: week.monday.minus({ weeks: 1 }).toFormat("kkkk-'W'WW"),
          nextWeek: week.monday.plus({ weeks: 1 }).toFormat("kkkk-'W'WW"),
          thisWeek: DateTime.fromJSDate(now, { zone: calendar.zone }).toFormat("kkkk-'W'WW"),
          days: days.map((d) => ({ date: d, label: DateTime.fromISO(d).setLocale(c.state.lang).toFormat('cccc d LLLL'), today: d === today, past: d < today! })),
          types: types.map((ty) => ({ id: String(ty.id), name: labelOf(ty, t), color: ty.color })),
          typeId,
          equipmentList: allEquipment.map((e) => ({ id: String(e.id), name: e.name, typeId: String(e.type_id) })),
          equipment: equipment ? { id: String(equipment.id), name: equipment.name, location: equipment.location, description: equipment.description, outOfServiceIncidentId: outOfService.get(String(equipment.id)) ?? null } : null,
          grid: equipment ? roomGrid(days, bookings, calendar.zone, first, last) : null,
          rooms: equipment
            ? null
            : roomsOfType.map((room) => ({
                id: String(room.id),
                name: room.name,
                location: room.location,
                outOfServiceIncidentId: outOfService.get(String(room.id)) ?? null,
                days: days.map((d) =>
                  bookings
                    .filter((b) => b.equipmentId === String(room.id) && DateTime.fromISO(b.startsAt).setZone(calendar.zone).toISODate() === d)
                    .map((b) => ({ ...b, label: `${DateTime.fromISO(b.startsAt).setZone(calendar.zone).toFormat('HH:mm')}–${DateTime.fromISO(b.endsAt).setZone(calendar.zone).toFormat('HH:mm')}` })),
                ),
              })),
          canBook: actor.actions.includes('booking.book'),
          canManage: ['incident.manage', 'booking.validate', 'module.configure'].some((a) => actor.actions.includes(a)),
        },
      };
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/bookings/new',
    summary: 'The booking form, pre-filled from the planning.',
    action: 'booking.book',
    scope: { kind: 'structure' },
    service: 'planning',
    query: z.object({ equipmentId: z.string().regex(/^\d{1,18}$/).optional(), date: z.string().max(10).optional(), start: z.string().max(5).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      const start = /^\d{2}:\d{2}$/.test(c.query.start ?? '') ? c.query.start! : '10:00';
      const end = DateTime.fromFormat(start, 'HH:mm').plus({ hours: 1 }).toFormat('HH:mm');
      const data = await bookingFormData(c, { equipmentId: c.query.equipmentId ?? '', date: c.query.date ?? '', start, end, reason: '', repeat: false, interval: '1', until: '' });
      return { view: 'pages/booking-form', title: c.state.t('planning:form.title'), structureId: c.structureId, data: { ...data, errors: null } };
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/bookings/new',
    summary: 'Books from the form; errors re-render the form with the conflicting occurrences.',
    action: 'booking.book',
    scope: { kind: 'structure' },
    service: 'planning',
    body: z.object({ ...slotFormFields, interval: z.string().max(2).default('1') }).strict(),
    async handler(c) {
      const f = c.body;
      const values = { ...f, repeat: f.repeat === 'on' };
      try {
        const calendar = await schoolCalendar(c.module.knex, c.structureId);
        const parsed = bookingBody.safeParse({
          equipmentId: f.equipmentId,
          startsAt: `${f.date}T${f.start}`,
          endsAt: `${f.date}T${f.end}`,
          reason: f.reason,
          recurrence: f.repeat === 'on' ? { weekly: true, until: f.until, interval: Number(f.interval) || 1 } : undefined,
        });
        if (!parsed.success) {
          throw new ValidationError(
            parsed.error.issues.map((i) => ({ field: i.path.join('.').replace('startsAt', 'start').replace('endsAt', 'end').replace('recurrence.until', 'until'), message: i.message })),
          );
        }
        const request = bookingRequestOf(parsed.data, calendar.zone);
        const actor = await actorOf(c.module, c, c.structureId);
        const result = await createBooking(c.module, c.user, actor, c.structureId, request, new Date(), calendar);
        return { redirect: `${c.module.manifest.prefix}/bookings/mine?created=${result.bookings.length}` };
      } catch (error) {
        const errors = formErrors(error, c.state.t, c.state.lang);
        errors.fields = errors.fields.map((x) => ({ ...x, field: x.field.replace('startsAt', 'start').replace('endsAt', 'end').replace('recurrence.until', 'until') }));
        const data = await bookingFormData(c, values);
        return { view: 'pages/booking-form', title: c.state.t('planning:form.title'), structureId: c.structureId, status: errors.status, data: { ...data, errors } };
      }
    },
  }),
  page({
    method: 'get',
    path: '/bookings/mine',
    summary: "My coming bookings in every school, with a cancel button.",
    action: 'signedIn',
    scope: { kind: 'user' },
    query: z.object({ created: z.string().regex(/^\d{1,3}$/).optional(), cancelled: z.string().regex(/^\d{1,18}$/).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      const rights = await actionsOf(c.module, c.state);
      const services = await enabledServicesOf(c.module.knex, c.user.structures);
      const structures = await c.module.host.directory.getStructures(c.user.structures.filter((s) => services[s]?.planning && (rights[s] ?? []).includes('booking.book')));
      const schools = [];
      for (const s of structures) {
        const calendar = await schoolCalendar(c.module.knex, s.id);
        const rows = await bookingsInWindow(c.module.knex, s.id, { from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 366 * 86400000), ownerId: c.user.id });
        const actor = { id: c.user.id, actions: rights[s.id] ?? [] };
        schools.push({
          ...s,
          bookings: rows.map((r) => ({
            ...presentBooking(r, actor, new Map([[c.user.id, c.user]]), true),
            date: DateTime.fromJSDate(r.starts_at, { zone: calendar.zone }).toISODate(),
            when: DateTime.fromJSDate(r.starts_at, { zone: calendar.zone }).setLocale(c.state.lang).toFormat('cccc d LLLL yyyy, HH:mm') + '–' + DateTime.fromJSDate(r.ends_at, { zone: calendar.zone }).toFormat('HH:mm'),
          })),
        });
      }
      return { view: 'pages/my-bookings', title: c.state.t('planning:mine.title'), data: { schools, created: c.query.created ? Number(c.query.created) : 0, cancelled: Boolean(c.query.cancelled) } };
    },
  }),
  page({
    method: 'post',
    path: '/booking-series/:id/cancel',
    summary: 'Cancels the occurrences of a series from a date on (this one and the following), from "my bookings".',
    action: BOOKING_READERS,
    scope: { kind: 'record', table: 'bookingSeries' },
    service: 'planning',
    body: z.object({ from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }).strict(),
    async handler(c) {
      const actor = await actorOf(c.module, c, c.structureId);
      const cancelled = await cancelSeries(c.module, c.user, actor, c.structureId, c.recordId, c.body.from ?? null);
      return { redirect: `${c.module.manifest.prefix}/bookings/mine?cancelled=${cancelled.length}` };
    },
  }),
  page({
    method: 'post',
    path: '/bookings/:id/cancel',
    summary: 'Cancels a booking from "my bookings" or the planning (no JavaScript needed).',
    action: BOOKING_READERS,
    scope: { kind: 'record', table: 'booking' },
    service: 'planning',
    body: z.object({ returnTo: z.string().max(300).optional() }).strict(),
    async handler(c) {
      const actor = await actorOf(c.module, c, c.structureId);
      await cancelBooking(c.module, c.user, actor, c.structureId, c.recordId);
      const prefix = c.module.manifest.prefix;
      const back = c.body.returnTo && c.body.returnTo.startsWith(`${prefix}/`) && !c.body.returnTo.startsWith('//') ? c.body.returnTo : `${prefix}/bookings/mine?cancelled=${c.recordId}`;
      return { redirect: back };
    },
  }),
];
