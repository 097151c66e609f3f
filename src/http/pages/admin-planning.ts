import { z } from 'zod';
import { DateTime } from 'luxon';
import { filesOf, page, PageRoute, PageResult, RouteContext } from '../route';
import { actionsOf } from '../request';
import { listEquipment, listResourceTypes } from '../../store/equipment';
import { bookingsInWindow } from '../../store/bookings';
import { labelOf, presentResourceType } from '../presenters';
import {
  createEquipment,
  createResourceType,
  importEquipment,
  reorder,
  setRetired,
  updateEquipment,
  updateResourceType,
} from '../../services/equipment';
import { decideBooking, schoolCalendar } from '../../services/bookings';
import { AppError, ValidationError } from '../../errors';
import { errorBody } from '../errors';
import { ownersOf, presentBooking, plainText } from '../api/bookings';
import { settingsBody } from '../api/settings';
import { forgetSettings } from '../../store/settings';
import { WEEKDAYS } from '../../domain/bookings';
import { HOLIDAY_ZONES, isSchoolYear } from '../../domain/school-calendar';
import { importHolidays, HolidayImportResult, MAX_HOLIDAYS } from '../../services/school-calendar';
import { recomputeOpenDueTimes } from '../../services/service-clock';
import { listValues } from '../../store/incident-lists';

const CONFIGURE = 'module.configure';
type Ctx = RouteContext<unknown, unknown>;

/** Form values arrive as strings: checkboxes are 'on' or absent, empty numbers mean "no limit". */
const checkbox = z.string().optional().transform((v) => v === 'on' || v === 'true');
const optionalInt = (min: number, max: number) =>
  z
    .string()
    .max(8)
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const typeForm = z
  .object({
    name: plainText(120).transform((s) => s.trim()).refine((s) => s.length > 0, 'required'),
    purpose: z.enum(['booking', 'incident']),
    color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour #RRGGBB'),
    needsValidation: checkbox,
    minNoticeMinutes: optionalInt(0, 527040),
    maxNoticeDays: optionalInt(1, 730),
    maxLengthMinutes: optionalInt(5, 20160),
    withinOpeningHours: checkbox,
  })
  .strict();

const equipmentForm = z
  .object({
    name: plainText(120).transform((s) => s.trim()).refine((s) => s.length > 0, 'required'),
    typeId: z.string().regex(/^\d{1,18}$/, 'choose a type'),
    location: plainText(200).default(''),
    description: plainText(1000).default(''),
  })
  .strict();

function adminUrl(c: Ctx, path: string): string {
  return `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/admin${path}`;
}

function errorsOf(error: unknown, c: Ctx) {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, c.state.t);
  return { message: body.message, fields: ((body.details as { fields?: Array<{ field: string; message: string }> } | undefined)?.fields ?? []), status: error.status };
}

async function structureName(c: Ctx): Promise<string> {
  const [s] = await c.module.host.directory.getStructures([c.structureId]);
  return s?.name ?? c.structureId;
}

async function typesPage(c: Ctx, extra: Record<string, unknown> = {}): Promise<PageResult> {
  const rows = await listResourceTypes(c.module.knex, c.structureId, { includeRetired: true });
  return {
    view: 'pages/admin-resource-types',
    title: c.state.t('planningAdmin:types.title'),
    structureId: c.structureId,
    status: (extra.errors as { status?: number } | undefined)?.status,
    data: { structureId: c.structureId, school: await structureName(c), types: rows.map((r) => presentResourceType(r, c.state.t)), errors: null, done: null, ...extra },
  };
}

async function equipmentPage(c: Ctx, extra: Record<string, unknown> = {}): Promise<PageResult> {
  const [types, equipment] = await Promise.all([
    listResourceTypes(c.module.knex, c.structureId),
    listEquipment(c.module.knex, c.structureId, { includeRetired: true }),
  ]);
  const users = new Map((await c.module.host.directory.getUsers([...new Set(equipment.map((e) => e.responsible_id))])).map((u) => [u.id, u]));
  return {
    view: 'pages/admin-equipment',
    title: c.state.t('planningAdmin:equipment.title'),
    structureId: c.structureId,
    status: (extra.errors as { status?: number } | undefined)?.status,
    data: {
      structureId: c.structureId,
      school: await structureName(c),
      types: types.map((t) => ({ id: String(t.id), name: labelOf(t, c.state.t), purpose: t.purpose, color: t.color })),
      equipment: equipment.map((e) => ({
        id: String(e.id),
        name: e.name,
        location: e.location,
        description: e.description,
        typeId: String(e.type_id),
        typeName: labelOf({ name: e.type_name, name_key: e.type_name_key }, c.state.t),
        purpose: e.purpose,
        retired: e.retired_at !== null,
        responsible: users.get(e.responsible_id)?.displayName ?? '',
      })),
      errors: null,
      done: null,
      values: { name: '', typeId: '', location: '', description: '' },
      ...extra,
    },
  };
}

/** Moves one row up or down by rewriting the order of its list (the API's reorder). */
async function move(c: Ctx, table: 'rsv_resource_types' | 'rsv_equipment', id: string, direction: 'up' | 'down', sameGroup?: (row: Record<string, unknown>) => boolean) {
  const rows: Array<Record<string, unknown>> = await c.module.knex(table).where({ structure_id: c.structureId }).orderBy(['position', 'id']).select('id', 'type_id', 'position');
  const group = sameGroup ? rows.filter(sameGroup) : rows;
  const ids = group.map((r) => String(r.id));
  const i = ids.indexOf(id);
  const j = direction === 'up' ? i - 1 : i + 1;
  if (i < 0 || j < 0 || j >= ids.length) return;
  [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  // Positions are per structure: keep the other rows' relative order after the moved group.
  const rest = rows.map((r) => String(r.id)).filter((x) => !ids.includes(x));
  await reorder(c.module, table, c.structureId, [...ids, ...rest]);
}

const moveBody = z.object({ direction: z.enum(['up', 'down']) }).strict();
const retireBody = z.object({ retired: z.enum(['1', '0']) }).strict();

export const planningAdminPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/admin',
    service: 'none',
    summary: "The school admin's home: lists, import, settings, rights.",
    action: CONFIGURE,
    scope: { kind: 'structure' },
    async handler(c) {
      return { view: 'pages/admin-home', title: c.state.t('planningAdmin:home.title'), structureId: c.structureId, data: { structureId: c.structureId, school: await structureName(c) } };
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/admin/resource-types',
    summary: 'Resource types: purpose, colour, validation and booking rules.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    query: z.object({ done: z.string().max(20).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      return typesPage(c, { done: c.query.done ?? null });
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/admin/resource-types',
    summary: 'Creates a resource type from the form.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: typeForm,
    async onInvalid(error, c) {
      return typesPage(c, { errors: errorsOf(error, c) });
    },
    async handler(c) {
      const b = c.body;
      await createResourceType(c.module, c.structureId, { ...b, minNoticeMinutes: b.minNoticeMinutes ?? 0 });
      return { redirect: adminUrl(c, '/resource-types?done=created') };
    },
  }),
  page({
    method: 'post',
    path: '/resource-types/:id/edit',
    summary: 'Edits a resource type from the form.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'resourceType' },
    body: typeForm,
    async onInvalid(error, c) {
      return typesPage(c, { errors: errorsOf(error, c) });
    },
    async handler(c) {
      const b = c.body;
      try {
        await updateResourceType(c.module, c.structureId, c.recordId, { ...b, minNoticeMinutes: b.minNoticeMinutes ?? 0 });
      } catch (error) {
        return typesPage(c, { errors: errorsOf(error, c) });
      }
      return { redirect: adminUrl(c, '/resource-types?done=saved') };
    },
  }),
  page({
    method: 'post',
    path: '/resource-types/:id/retire',
    summary: 'Retires or restores a resource type.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'resourceType' },
    body: retireBody,
    async handler(c) {
      await setRetired(c.module, 'rsv_resource_types', c.structureId, c.recordId, c.body.retired === '1');
      return { redirect: adminUrl(c, `/resource-types?done=${c.body.retired === '1' ? 'retired' : 'restored'}`) };
    },
  }),
  page({
    method: 'post',
    path: '/resource-types/:id/move',
    summary: 'Moves a resource type up or down.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'resourceType' },
    body: moveBody,
    async handler(c) {
      await move(c, 'rsv_resource_types', c.recordId, c.body.direction);
      return { redirect: adminUrl(c, '/resource-types?done=moved') };
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/admin/equipment',
    summary: 'Rooms and equipment: add, edit, order, retire.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    query: z.object({ done: z.string().max(20).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      return equipmentPage(c, { done: c.query.done ?? null });
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/admin/equipment',
    summary: 'Adds a room or equipment from the form.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: equipmentForm,
    async onInvalid(error, c) {
      return equipmentPage(c, { errors: errorsOf(error, c), values: c.body });
    },
    async handler(c) {
      try {
        await createEquipment(c.module, c.structureId, c.body);
      } catch (error) {
        return equipmentPage(c, { errors: errorsOf(error, c), values: c.body });
      }
      return { redirect: adminUrl(c, '/equipment?done=created') };
    },
  }),
  page({
    method: 'get',
    path: '/equipment/:id/edit',
    summary: 'The edit form of one room or equipment.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    async handler(c) {
      const e = await c.module.knex('rsv_equipment').where({ structure_id: c.structureId, id: c.recordId }).first();
      const types = await listResourceTypes(c.module.knex, c.structureId);
      return {
        view: 'pages/admin-equipment-edit',
        title: c.state.t('planningAdmin:equipment.editTitle', { name: e.name }),
        structureId: c.structureId,
        data: { structureId: c.structureId, id: c.recordId, values: { name: e.name, typeId: String(e.type_id), location: e.location, description: e.description }, types: types.map((t) => ({ id: String(t.id), name: labelOf(t, c.state.t) })), errors: null },
      };
    },
  }),
  page({
    method: 'post',
    path: '/equipment/:id/edit',
    summary: 'Saves the edit form of one room or equipment.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    body: equipmentForm,
    async onInvalid(error, c) {
      const types = await listResourceTypes(c.module.knex, c.structureId);
      return { view: 'pages/admin-equipment-edit', title: c.state.t('planningAdmin:equipment.title'), structureId: c.structureId, status: 400, data: { structureId: c.structureId, id: c.recordId, values: c.body, types: types.map((t) => ({ id: String(t.id), name: labelOf(t, c.state.t) })), errors: errorsOf(error, c) } };
    },
    async handler(c) {
      try {
        await updateEquipment(c.module, c.structureId, c.recordId, c.body);
      } catch (error) {
        const types = await listResourceTypes(c.module.knex, c.structureId);
        const errors = errorsOf(error, c);
        return { view: 'pages/admin-equipment-edit', title: c.state.t('planningAdmin:equipment.title'), structureId: c.structureId, status: errors.status, data: { structureId: c.structureId, id: c.recordId, values: c.body, types: types.map((t) => ({ id: String(t.id), name: labelOf(t, c.state.t) })), errors } };
      }
      return { redirect: adminUrl(c, '/equipment?done=saved') };
    },
  }),
  page({
    method: 'post',
    path: '/equipment/:id/retire',
    summary: 'Retires or restores a room or equipment.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    body: retireBody,
    async handler(c) {
      await setRetired(c.module, 'rsv_equipment', c.structureId, c.recordId, c.body.retired === '1');
      return { redirect: adminUrl(c, `/equipment?done=${c.body.retired === '1' ? 'retired' : 'restored'}`) };
    },
  }),
  page({
    method: 'post',
    path: '/equipment/:id/move',
    summary: 'Moves a room or equipment up or down within its type.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    body: moveBody,
    async handler(c) {
      const row = await c.module.knex('rsv_equipment').where({ id: c.recordId }).first('type_id');
      await move(c, 'rsv_equipment', c.recordId, c.body.direction, (r) => String(r.type_id) === String(row.type_id));
      return { redirect: adminUrl(c, '/equipment?done=moved') };
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/admin/equipment/import',
    summary: 'The CSV import form.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    async handler(c) {
      return { view: 'pages/admin-import', title: c.state.t('planningAdmin:import.title'), structureId: c.structureId, data: { structureId: c.structureId, csv: '', result: null, errors: null } };
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/admin/equipment/import',
    summary: 'Previews (then applies) a CSV import; a file input or a pasted text.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    multipart: { maxFileBytes: 90_000, maxFiles: 1 },
    body: z.object({ csv: z.string().max(90_000).default(''), apply: z.string().optional() }).strict(),
    async handler(c) {
      const file = filesOf(c.req)[0];
      const csv = file ? file.data.toString('utf8') : c.body.csv;
      const render = (extra: Record<string, unknown>, status?: number): PageResult => ({
        view: 'pages/admin-import',
        title: c.state.t('planningAdmin:import.title'),
        structureId: c.structureId,
        status,
        data: { structureId: c.structureId, csv, result: null, errors: null, ...extra },
      });
      if (!csv.trim()) return render({ errors: errorsOf(new ValidationError([{ field: 'csv', message: 'empty' }], 'admin:csvEmpty'), c) }, 400);
      try {
        const result = await importEquipment(c.module, c.structureId, csv, c.body.apply === '1');
        if (result.applied) return { redirect: adminUrl(c, '/equipment?done=imported') };
        const lines = result.lines.map((l) => ({ ...l, errors: l.errors.map((k) => c.state.t(k)) }));
        return render({ result: { lines, valid: lines.every((l) => l.errors.length === 0) } }, c.body.apply === '1' ? 422 : 200);
      } catch (error) {
        const errors = errorsOf(error, c);
        return render({ errors }, errors.status);
      }
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/admin/settings',
    service: 'none',
    summary: 'School settings: services on or off, time zone, holidays, opening hours.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    query: z.object({ done: z.string().max(20).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      return settingsPage(c, null, c.query.done ?? null);
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/admin/settings',
    service: 'none',
    summary: 'Saves the school settings from the form.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: z
      .object({
        planning: z.string().optional(),
        incidents: z.string().optional(),
        timeZone: z.string().max(64),
        holidayZone: z.enum(['', ...HOLIDAY_ZONES]).default(''),
        holidays: z.string().max(MAX_HOLIDAYS * 150).default(''),
        reopenDays: z.string().max(4),
        showBookingOwners: z.string().optional(),
        extraMailbox: z.string().max(254).default(''),
        editorEmail: z.string().max(254).default(''),
        ...Object.fromEntries(WEEKDAYS.map((d) => [`hours_${d}`, z.string().max(200).default('')])),
      })
      // The service targets: target_take_<severityId> and target_resolve_<severityId>, nothing else.
      .catchall(z.string().max(20))
      .superRefine((b, ctx) => {
        for (const key of Object.keys(b)) if (!KNOWN_SETTINGS_FIELDS.has(key) && !TARGET_FIELD.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'unknown field' });
      }),
    async handler(c) {
      const f = c.body as Record<string, string | undefined>;
      const holidays = (f.holidays ?? '')
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
          const [from, to, ...label] = line.split(';').map((p) => p.trim());
          return { from: from ?? '', to: to ?? '', label: label.join(';') };
        });
      const openingHours = Object.fromEntries(
        WEEKDAYS.map((d) => [
          d,
          (f[`hours_${d}`] ?? '')
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)
            .map((p) => p.split('-').map((x) => x.trim())),
        ]),
      );
      const serviceTargets: Record<string, { takeInChargeHours: number; resolveHours: number }> = {};
      for (const [key, value] of Object.entries(f)) {
        const m = TARGET_FIELD.exec(key);
        if (!m) continue;
        const target = (serviceTargets[m[2]!] ??= { takeInChargeHours: NaN, resolveHours: NaN });
        const hours = value?.trim() ? Number(value.replace(',', '.')) : NaN;
        if (m[1] === 'take') target.takeInChargeHours = hours;
        else target.resolveHours = hours;
      }
      const parsed = settingsBody.safeParse({
        timeZone: f.timeZone,
        holidayZone: f.holidayZone ? f.holidayZone : null,
        serviceTargets,
        holidays,
        openingHours,
        reopenDays: Number(f.reopenDays),
        showBookingOwners: f.showBookingOwners === 'on',
        extraMailbox: f.extraMailbox?.trim() ? f.extraMailbox.trim() : null,
        editorEmail: f.editorEmail?.trim() ? f.editorEmail.trim() : null,
        services: { planning: f.planning === 'on', incidents: f.incidents === 'on' },
      });
      if (!parsed.success) {
        const error = new ValidationError(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
        return settingsPage(c, errorsOf(error, c), null, f);
      }
      const b = parsed.data;
      await c.module.knex.transaction(async (trx) => {
        for (const [severityId, target] of Object.entries(b.serviceTargets ?? {})) {
          await trx('rsv_severities').where({ structure_id: c.structureId, id: severityId }).update({ take_in_charge_hours: target.takeInChargeHours, resolve_hours: target.resolveHours });
        }
        await trx('rsv_structure_settings').where({ structure_id: c.structureId }).update({
          holiday_zone: b.holidayZone ?? null,
          time_zone: b.timeZone,
          holidays: JSON.stringify([...(b.holidays ?? [])].sort((x, y) => x.from.localeCompare(y.from))),
          opening_hours: JSON.stringify(b.openingHours),
          reopen_days: b.reopenDays,
          show_booking_owners: b.showBookingOwners,
          extra_mailbox: b.extraMailbox ?? null,
          editor_email: b.editorEmail ?? null,
          planning_enabled: b.services!.planning,
          incidents_enabled: b.services!.incidents,
          updated_at: trx.fn.now(),
        });
      });
      // After the commit: a read of the settings in between would have put the old row back in the request's memo.
      forgetSettings(c.structureId);
      // The service clock: the open incidents' due times follow the new calendar and targets.
      await recomputeOpenDueTimes(c.module.knex, c.structureId);
      return { redirect: adminUrl(c, '/settings?done=saved') };
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/admin/holidays/import',
    service: 'none',
    summary: "Imports the school holidays of the school's zone from the ministry's calendar file (iCalendar or open-data CSV), from the settings page.",
    action: CONFIGURE,
    scope: { kind: 'structure' },
    multipart: { maxFileBytes: 2_000_000, maxFiles: 1 },
    body: z
      .object({
        zone: z.enum(['', ...HOLIDAY_ZONES]).default(''),
        schoolYear: z.string().max(9).default(''),
        replace: z.string().max(5).optional(),
      })
      .strict(),
    async handler(c) {
      const file = filesOf(c.req)[0];
      const importValues = { zone: c.body.zone, schoolYear: c.body.schoolYear.trim(), replace: c.body.replace === 'on' ? 'on' : '' };
      try {
        if (!file || !file.data.length) throw new ValidationError([{ field: 'file', message: 'choose the file' }], 'clock:errors.emptyCalendar');
        if (importValues.schoolYear && !isSchoolYear(importValues.schoolYear)) throw new ValidationError([{ field: 'schoolYear', message: 'a school year such as 2025-2026' }]);
        const importResult = await importHolidays(c.module, c.structureId, {
          text: file.data.toString('utf8'),
          zone: importValues.zone || undefined,
          schoolYear: importValues.schoolYear || undefined,
          replace: importValues.replace === 'on',
        });
        return settingsPage(c, null, null, undefined, { importResult, importValues: { ...importValues, zone: importResult.zone } });
      } catch (error) {
        const importErrors = errorsOf(error, c);
        const result = await settingsPage(c, null, null, undefined, { importErrors, importValues });
        return { ...result, status: importErrors.status } as PageResult;
      }
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/bookings/pending',
    summary: 'Bookings waiting for validation, for the delegates of the responsible account.',
    action: 'booking.validate',
    scope: { kind: 'structure' },
    service: 'planning',
    query: z.object({ done: z.string().max(20).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      const calendar = await schoolCalendar(c.module.knex, c.structureId);
      const rows = await bookingsInWindow(c.module.knex, c.structureId, { from: new Date(), to: new Date(Date.now() + 5 * 366 * 86400000), statuses: ['pending'] }); // every pending request to come, however far
      const actor = { id: c.user.id, actions: (await actionsOf(c.module, c.state))[c.structureId] ?? [] };
      const owners = await ownersOf(c.module, rows);
      const fmt = (d: Date) => DateTime.fromJSDate(d, { zone: calendar.zone }).setLocale(c.state.lang);
      const bookings = rows.map((r) => ({ ...presentBooking(r, actor, owners, true), when: `${fmt(r.starts_at).toFormat('cccc d LLLL yyyy, HH:mm')}–${fmt(r.ends_at).toFormat('HH:mm')}` }));
      return { view: 'pages/bookings-pending', title: c.state.t('planningAdmin:pending.title'), structureId: c.structureId, data: { structureId: c.structureId, school: await structureName(c), bookings, done: c.query.done ?? null } };
    },
  }),
  page({
    method: 'post',
    path: '/bookings/:id/decide',
    summary: 'Validates or refuses a pending booking from the list.',
    action: 'booking.validate',
    scope: { kind: 'record', table: 'booking' },
    service: 'planning',
    body: z.object({ decision: z.enum(['validated', 'refused']), reason: plainText(500).default('') }).strict(),
    async handler(c) {
      if (c.body.decision === 'refused' && !c.body.reason.trim()) throw new ValidationError([{ field: 'reason', message: 'a reason is required' }], 'planningAdmin:pending.reasonRequired');
      await decideBooking(c.module, c.user, c.structureId, c.recordId, c.body.decision, c.body.reason.trim());
      return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/bookings/pending?done=${c.body.decision}` };
    },
  }),
];

const KNOWN_SETTINGS_FIELDS = new Set(['planning', 'incidents', 'timeZone', 'holidayZone', 'holidays', 'reopenDays', 'showBookingOwners', 'extraMailbox', 'editorEmail', ...WEEKDAYS.map((d) => `hours_${d}`)]);
const TARGET_FIELD = /^target_(take|resolve)_([1-9][0-9]{0,17})$/;

async function settingsPage(
  c: Ctx,
  errors: unknown,
  done: string | null,
  posted?: Record<string, string | undefined>,
  extra: { importResult?: HolidayImportResult | null; importErrors?: unknown; importValues?: Record<string, string> } = {},
): Promise<PageResult> {
  const s = await c.module.knex('rsv_structure_settings').where({ structure_id: c.structureId }).first();
  const severities = await c.module.knex('rsv_severities').where({ structure_id: c.structureId }).orderBy(['position', 'id']).select('id', 'label', 'label_key', 'retired_at', 'take_in_charge_hours', 'resolve_hours');
  const values = posted ?? {
    holidayZone: s.holiday_zone ?? '',
    ...Object.fromEntries(
      severities.flatMap((v: { id: string; take_in_charge_hours: string; resolve_hours: string }) => [
        [`target_take_${v.id}`, String(Number(v.take_in_charge_hours))],
        [`target_resolve_${v.id}`, String(Number(v.resolve_hours))],
      ]),
    ),
    planning: s.planning_enabled ? 'on' : undefined,
    incidents: s.incidents_enabled ? 'on' : undefined,
    timeZone: s.time_zone,
    holidays: (s.holidays as Array<{ from: string; to: string; label: string }>).map((h) => `${h.from};${h.to};${h.label}`).join('\n'),
    reopenDays: String(s.reopen_days),
    showBookingOwners: s.show_booking_owners ? 'on' : undefined,
    extraMailbox: s.extra_mailbox ?? '',
    editorEmail: s.editor_email ?? '',
    ...Object.fromEntries(WEEKDAYS.map((d) => [`hours_${d}`, ((s.opening_hours[d] ?? []) as Array<[string, string]>).map(([a, b]) => `${a}-${b}`).join(', ')])),
  };
  return {
    view: 'pages/admin-settings',
    title: c.state.t('planningAdmin:settings.title'),
    structureId: c.structureId,
    status: (errors as { status?: number } | null)?.status,
    data: {
      structureId: c.structureId,
      school: await structureName(c),
      values,
      errors,
      done,
      weekdays: WEEKDAYS,
      zones: HOLIDAY_ZONES,
      severities: severities
        .filter((v: { retired_at: Date | null }) => !v.retired_at)
        .map((v: { id: string; label: string | null; label_key: string | null }) => ({ id: String(v.id), label: labelOf(v, c.state.t) })),
      importResult: extra.importResult ?? null,
      importErrors: extra.importErrors ?? null,
      importValues: extra.importValues ?? { zone: s.holiday_zone ?? '', schoolYear: '', replace: '' },
    },
  };
}
