import { z } from 'zod';
import { DateTime } from 'luxon';
import { page, PageRoute, PageResult, RouteContext } from '../route';
import { listEquipment } from '../../store/equipment';
import { schoolCalendar } from '../../services/bookings';
import { createWindow, deleteWindow, windowsOf } from '../../services/availability';
import { isDate, parseInstant } from '../../domain/bookings';
import { AppError, ValidationError } from '../../errors';
import { errorBody } from '../errors';
import { plainText } from '../api/bookings';
import { slotFormFields } from './planning';

const MANAGERS = ['incident.manage', 'booking.validate', 'module.configure'];
type Ctx = RouteContext<unknown, unknown>;

const windowForm = z.object(slotFormFields).strict();

async function render(c: Ctx, extra: { errors?: unknown; values?: Record<string, unknown>; done?: string | null; status?: number; affected?: number | null } = {}): Promise<PageResult> {
  const calendar = await schoolCalendar(c.module.knex, c.structureId);
  const [equipment, windows, structures] = await Promise.all([
    listEquipment(c.module.knex, c.structureId, { purpose: 'booking' }),
    windowsOf(c.module.knex, c.structureId, { from: new Date(), limit: 200, withEquipmentName: true }),
    c.module.host.directory.getStructures([c.structureId]),
  ]);
  const fmt = (d: Date) => DateTime.fromJSDate(d, { zone: calendar.zone }).setLocale(c.state.lang);
  return {
    view: 'pages/unavailabilities',
    title: c.state.t('availability:page.title'),
    structureId: c.structureId,
    status: extra.status,
    data: {
      structureId: c.structureId,
      school: structures[0]?.name ?? c.structureId,
      equipment: equipment.map((e) => ({ id: String(e.id), name: e.name })),
      windows: windows.map((w: { id: string; equipment_name: string; starts_at: Date; ends_at: Date; reason: string }) => ({
        id: String(w.id),
        equipment: w.equipment_name,
        when: `${fmt(w.starts_at).toFormat('cccc d LLLL yyyy, HH:mm')} – ${fmt(w.ends_at).toFormat(fmt(w.ends_at).hasSame(fmt(w.starts_at), 'day') ? 'HH:mm' : 'cccc d LLLL yyyy, HH:mm')}`,
        reason: w.reason,
      })),
      values: extra.values ?? { equipmentId: '', date: '', start: '08:00', end: '12:00', reason: '', repeat: false, until: '' },
      errors: extra.errors ?? null,
      done: extra.done ?? null,
      affected: extra.affected ?? null,
    },
  };
}

function errorsOf(error: unknown, c: Ctx) {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, c.state.t);
  return { message: body.message, fields: (body.details as { fields?: Array<{ field: string; message: string }> } | undefined)?.fields ?? [], status: error.status };
}

export const availabilityPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/unavailabilities',
    summary: 'Maintenance windows: the coming ones, and a form to block an equipment for a period.',
    action: MANAGERS,
    scope: { kind: 'structure' },
    service: 'planning',
    query: z.object({ done: z.string().max(10).optional(), affected: z.string().regex(/^\d{1,4}$/).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      return render(c, { done: c.query.done ?? null, affected: c.query.affected ? Number(c.query.affected) : null });
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/unavailabilities',
    summary: 'Creates a maintenance window from the form; the owners of the bookings it overlaps are told.',
    action: MANAGERS,
    scope: { kind: 'structure' },
    service: 'planning',
    body: windowForm,
    async handler(c) {
      const f = c.body;
      const values = { ...f, repeat: f.repeat === 'on' };
      try {
        const calendar = await schoolCalendar(c.module.knex, c.structureId);
        const fields: Array<{ field: string; message: string }> = [];
        if (!/^\d{1,18}$/.test(f.equipmentId)) fields.push({ field: 'equipmentId', message: 'required' });
        const startsAt = parseInstant(`${f.date}T${f.start}`, calendar.zone);
        const endsAt = parseInstant(`${f.date}T${f.end}`, calendar.zone);
        if (!startsAt) fields.push({ field: 'start', message: 'not a date and time' });
        if (!endsAt) fields.push({ field: 'end', message: 'not a date and time' });
        else if (startsAt && endsAt <= startsAt) fields.push({ field: 'end', message: 'must be after the start' });
        if (f.repeat === 'on' && !isDate(f.until)) fields.push({ field: 'until', message: 'must be a date' });
        const reason = plainText(500).safeParse(f.reason.trim());
        if (!reason.success) fields.push({ field: 'reason', message: reason.error.issues[0]!.message });
        if (fields.length) throw new ValidationError(fields);
        const { affected } = await createWindow(c.module, c.structureId, c.user.id, {
          equipmentId: f.equipmentId,
          startsAt: startsAt!,
          endsAt: endsAt!,
          reason: f.reason.trim(),
          recurrence: f.repeat === 'on' ? { intervalWeeks: 1, until: f.until } : null,
        });
        return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/unavailabilities?done=created&affected=${affected.length}` };
      } catch (error) {
        const errors = errorsOf(error, c);
        return render(c, { errors, values, status: errors.status });
      }
    },
  }),
  page({
    method: 'post',
    path: '/unavailabilities/:id/delete',
    summary: 'Removes a maintenance window from the list.',
    action: MANAGERS,
    scope: { kind: 'record', table: 'unavailability' },
    service: 'planning',
    async handler(c) {
      await deleteWindow(c.module, c.structureId, c.recordId);
      return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/unavailabilities?done=deleted` };
    },
  }),
];
