import { z } from 'zod';
import { IANAZone } from 'luxon';
import { route, ApiRoute } from '../route';
import { forgetSettings, getSettings, StructureSettingsRow } from '../../store/settings';
import { isDate, WEEKDAYS } from '../../domain/bookings';
import { plainText } from './bookings';
import { ValidationError } from '../../errors';
import { MAX_HOLIDAYS } from '../../services/school-calendar';
import { recomputeOpenDueTimes } from '../../services/service-clock';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM');
const period = z.tuple([hhmm, hhmm]).refine(([a, b]) => a < b, 'the period must end after it starts');
const openingHours = z.object(Object.fromEntries(WEEKDAYS.map((d) => [d, z.array(period).max(4).default([])])) as Record<(typeof WEEKDAYS)[number], z.ZodDefault<z.ZodArray<typeof period>>>).strict();

export const settingsBody = z
  .object({
    timeZone: z.string().max(64).refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone such as Europe/Paris'),
    holidayZone: z.enum(['A', 'B', 'C']).nullable(),
    holidays: z
      .array(
        z
          .object({ from: z.string().refine(isDate, 'YYYY-MM-DD'), to: z.string().refine(isDate, 'YYYY-MM-DD'), label: plainText(120).refine((s) => s.trim().length > 0, 'required') })
          .strict()
          .refine((h) => h.from <= h.to, { message: 'from must not be after to', path: ['to'] }),
      )
      .max(MAX_HOLIDAYS),
    openingHours,
    serviceTargets: z.record(z.string().regex(/^\d{1,18}$/), z.object({ takeInChargeHours: z.number().positive().max(2000), resolveHours: z.number().positive().max(10000) }).strict()),
    reopenDays: z.number().int().min(0).max(365),
    showBookingOwners: z.boolean(),
    /** A second address for the referents' shared mailbox. */
    extraMailbox: z.string().max(254).email('an e-mail address').nullable(),
    /** Where level-3 escalations (the ENT editor) are mailed. */
    editorEmail: z.string().max(254).email('an e-mail address').nullable(),
    services: z.object({ planning: z.boolean(), incidents: z.boolean() }).strict(),
  })
  .partial()
  .strict();

async function present(knex: import('knex').Knex, structureId: string) {
  const s = (await getSettings(knex, structureId)) as StructureSettingsRow & { show_booking_owners: boolean };
  const severities = await knex('rsv_severities').where({ structure_id: structureId }).orderBy(['position', 'id']);
  return {
    timeZone: s.time_zone,
    holidayZone: s.holiday_zone,
    holidays: s.holidays,
    openingHours: s.opening_hours,
    serviceTargets: Object.fromEntries(
      severities.map((v: { id: string; take_in_charge_hours: string; resolve_hours: string }) => [String(v.id), { takeInChargeHours: Number(v.take_in_charge_hours), resolveHours: Number(v.resolve_hours) }]),
    ),
    reopenDays: s.reopen_days,
    showBookingOwners: s.show_booking_owners,
    extraMailbox: s.extra_mailbox,
    editorEmail: s.editor_email,
    services: { planning: s.planning_enabled, incidents: s.incidents_enabled },
  };
}

export const settingsRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/structures/:sid/settings',
    summary: "The school's settings: time zone, holidays, opening hours, service targets per severity, services on or off.",
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    async handler(c) {
      return present(c.module.knex, c.structureId);
    },
  }),
  route({
    method: 'put',
    path: '/structures/:sid/settings',
    summary:
      'Changes some of the settings (the fields given). Switching a service off hides it at once (no restart). A new calendar (time zone, opening hours, ' +
      'holidays) or new service targets count the open incidents\' due times again.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    body: settingsBody,
    example: { timeZone: 'Europe/Paris', holidays: [{ from: '2027-02-13', to: '2027-03-01', label: "Vacances d'hiver" }] },
    async handler(c) {
      const b = c.body;
      await c.module.knex.transaction(async (trx) => {
        const patch: Record<string, unknown> = { updated_at: trx.fn.now() };
        if (b.timeZone !== undefined) patch.time_zone = b.timeZone;
        if (b.holidayZone !== undefined) patch.holiday_zone = b.holidayZone;
        if (b.holidays !== undefined) patch.holidays = JSON.stringify([...b.holidays].sort((x, y) => x.from.localeCompare(y.from)));
        if (b.openingHours !== undefined) patch.opening_hours = JSON.stringify(b.openingHours);
        if (b.reopenDays !== undefined) patch.reopen_days = b.reopenDays;
        if (b.showBookingOwners !== undefined) patch.show_booking_owners = b.showBookingOwners;
        if (b.extraMailbox !== undefined) patch.extra_mailbox = b.extraMailbox;
        if (b.editorEmail !== undefined) patch.editor_email = b.editorEmail;
        if (b.services !== undefined) {
          patch.planning_enabled = b.services.planning;
          patch.incidents_enabled = b.services.incidents;
        }
        await trx('rsv_structure_settings').where({ structure_id: c.structureId }).update(patch);
        for (const [severityId, target] of Object.entries(b.serviceTargets ?? {})) {
          const n = await trx('rsv_severities').where({ structure_id: c.structureId, id: severityId }).update({ take_in_charge_hours: target.takeInChargeHours, resolve_hours: target.resolveHours });
          if (!n) throw new ValidationError([{ field: `serviceTargets.${severityId}`, message: 'unknown severity' }]);
        }
      });
      // After the commit: a read of the settings in between would have put the old row back in the request's memo.
      forgetSettings(c.structureId);
      // The service clock: the open incidents' due times follow the new calendar or targets.
      if ([b.timeZone, b.holidays, b.openingHours, b.serviceTargets].some((v) => v !== undefined)) await recomputeOpenDueTimes(c.module.knex, c.structureId);
      return present(c.module.knex, c.structureId);
    },
  }),
];

