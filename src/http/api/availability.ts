import { z } from 'zod';
import { DateTime } from 'luxon';
import { route, ApiRoute } from '../route';
import { ValidationError } from '../../errors';
import { isDate, parseInstant } from '../../domain/bookings';
import { createWindow, deleteWindow, windowsOf } from '../../services/availability';
import { schoolCalendar } from '../../services/bookings';
import { dbId, plainText } from './bookings';

/** Referents and the school admin set maintenance windows. */
const MANAGERS = ['incident.manage', 'booking.validate', 'module.configure'];

const windowBody = z
  .object({
    equipmentId: dbId,
    startsAt: z.string().max(40),
    endsAt: z.string().max(40),
    reason: plainText(500).default(''),
    recurrence: z
      .object({ weekly: z.literal(true), until: z.string().refine(isDate, 'must be a date YYYY-MM-DD'), interval: z.number().int().min(1).max(8).default(1) })
      .strict()
      .optional()
      .nullable(),
  })
  .strict();

function presentWindow(w: { id: string; equipment_id: string; starts_at: Date; ends_at: Date; reason: string; series_key: string | null; created_by: string }) {
  return { id: String(w.id), equipmentId: String(w.equipment_id), startsAt: w.starts_at.toISOString(), endsAt: w.ends_at.toISOString(), reason: w.reason, seriesKey: w.series_key, createdBy: w.created_by };
}

export const availabilityRoutes: ApiRoute[] = [
  route({
    method: 'post',
    path: '/structures/:sid/unavailabilities',
    summary: 'Blocks an equipment for a period (an intervention, exams), once or weekly; lists the bookings it overlaps, whose owners are told.',
    action: MANAGERS,
    scope: { kind: 'structure' },
    service: 'planning',
    body: windowBody,
    status: 201,
    example: { equipmentId: '1', startsAt: '2030-01-08T08:00:00+01:00', endsAt: '2030-01-08T12:00:00+01:00', reason: 'Intervention du prestataire' },
    async handler(c) {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const startsAt = parseInstant(c.body.startsAt, calendar.zone);
      const endsAt = parseInstant(c.body.endsAt, calendar.zone);
      const fields = [];
      if (!startsAt) fields.push({ field: 'startsAt', message: 'not a date-time (ISO 8601)' });
      if (!endsAt) fields.push({ field: 'endsAt', message: 'not a date-time (ISO 8601)' });
      else if (startsAt && endsAt <= startsAt) fields.push({ field: 'endsAt', message: 'must be after startsAt' });
      if (fields.length) throw new ValidationError(fields);
      const recurrence = c.body.recurrence ? { intervalWeeks: c.body.recurrence.interval, until: c.body.recurrence.until } : null;
      if (recurrence && recurrence.until < DateTime.fromJSDate(startsAt!, { zone: calendar.zone }).toISODate()!) {
        throw new ValidationError([{ field: 'recurrence.until', message: 'must not be before the first occurrence' }]);
      }
      const { windows, affected } = await createWindow(c.module, c.structureId, c.user.id, { equipmentId: c.body.equipmentId, startsAt: startsAt!, endsAt: endsAt!, reason: c.body.reason.trim(), recurrence });
      const first = presentWindow(windows[0]);
      return {
        ...first,
        windows: windows.map(presentWindow),
        affectedBookings: affected.map((b) => ({ id: String(b.id), ownerId: b.owner_id, startsAt: b.starts_at.toISOString(), endsAt: b.ends_at.toISOString() })),
      };
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/unavailabilities',
    summary: 'Maintenance windows in a period (default: from now on), optionally for one equipment.',
    action: ['booking.book', ...MANAGERS],
    scope: { kind: 'structure' },
    service: 'planning',
    query: z.object({ from: z.string().max(40).optional(), to: z.string().max(40).optional(), equipmentId: z.string().regex(/^\d{1,18}$/).optional() }).strict(),
    async handler(c) {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const parse = (v: string | undefined, field: string) => {
        if (!v) return null;
        const d = isDate(v) ? DateTime.fromISO(v, { zone: calendar.zone }).toJSDate() : parseInstant(v, calendar.zone);
        if (!d) throw new ValidationError([{ field, message: 'not a date or date-time' }]);
        return d;
      };
      const from = parse(c.query.from, 'from') ?? new Date();
      const to = parse(c.query.to, 'to');
      return (await windowsOf(c.module.knex, c.structureId, { from, to, equipmentId: c.query.equipmentId, limit: 1000 })).map(presentWindow);
    },
  }),
  route({
    method: 'delete',
    path: '/unavailabilities/:id',
    summary: 'Removes a maintenance window.',
    action: MANAGERS,
    scope: { kind: 'record', table: 'unavailability' },
    service: 'planning',
    async handler(c) {
      await deleteWindow(c.module, c.structureId, c.recordId);
      return undefined;
    },
  }),
];
