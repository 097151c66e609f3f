import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { isMultipart, parseMultipart } from '../multipart';
import { ValidationError } from '../../errors';
import { INCIDENT_DECLARE, INCIDENT_MANAGE } from '../../domain/incident-policy';
import { HOLIDAY_ZONES, isSchoolYear } from '../../domain/school-calendar';
import { confirmIncident } from '../../services/service-clock';
import { importHolidays } from '../../services/school-calendar';
import { presentIncident } from '../incident-presenters';
import { incidentActor, optionalIncidentText, usersByIds } from './incidents';

/**
 * The service clock's routes: the reporter's confirmation of a closed incident, the import of the ministry's school
 * calendar. (The incident lists' "by due time" order is in ./incident-sort.ts.)
 */

// ---- the reporter's confirmation ------------------------------------------------------------------------------------

/** A boolean in JSON, or a form's text ("true"/"false", "yes"/"no", "1"/"0"). */
const answer = z.union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', '1', '0']).transform((v) => v === 'true' || v === 'yes' || v === '1')]);

export const confirmBody = z
  .object({
    fixed: answer,
    /** Required when not fixed: what is still wrong (it goes to the referents with the reopened incident). */
    comment: optionalIncidentText,
    version: z.coerce.number().int().positive().max(2_147_483_647).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (!b.fixed && !b.comment) ctx.addIssue({ code: 'custom', path: ['comment'], message: 'required when the problem is not fixed' });
  });

// ---- the ministry's school calendar ---------------------------------------------------------------------------------

const MAX_CALENDAR_BYTES = 2_000_000;

export const holidayImportBody = z
  .object({
    /** The ministry's iCalendar file, as text. */
    ics: z.string().max(MAX_CALENDAR_BYTES).optional(),
    /** The open-data CSV export, as text. */
    csv: z.string().max(MAX_CALENDAR_BYTES).optional(),
    zone: z.enum(HOLIDAY_ZONES).optional(),
    schoolYear: z.string().max(9).refine(isSchoolYear, 'a school year such as 2025-2026').optional(),
    replace: answer.optional(),
  })
  .strict();

export type HolidayImportBody = z.infer<typeof holidayImportBody>;

/** The body of an import sent as multipart/form-data: the file (field `file`, `ics` or `csv`) and the same fields. */
async function multipartImportBody(req: Parameters<typeof parseMultipart>[0]): Promise<HolidayImportBody> {
  const { fields, files } = await parseMultipart(req, { maxFileBytes: MAX_CALENDAR_BYTES, maxFiles: 1, maxFields: 10 });
  const { _csrf: _ignored, ...rest } = fields;
  const file = files[0];
  const text = file ? file.data.toString('utf8') : undefined;
  const kind = file?.field === 'ics' || file?.field === 'csv' ? file.field : null;
  const raw: Record<string, unknown> = { ...rest };
  for (const key of ['zone', 'schoolYear', 'replace']) if (raw[key] === '') delete raw[key];
  if (text !== undefined) {
    if (kind) raw[kind] = text;
    else raw[/^\s*(\uFEFF)?BEGIN:VCALENDAR/i.test(text) ? 'ics' : 'csv'] = text;
  }
  const parsed = holidayImportBody.safeParse(raw);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message })));
  return parsed.data;
}

/** The text and format of an import, or 400 naming what is missing. */
export function calendarOf(body: HolidayImportBody): { text: string; format: 'ics' | 'csv' } {
  if (body.ics && body.csv) throw new ValidationError([{ field: 'ics', message: 'send the iCalendar file or the CSV export, not both' }]);
  if (body.ics) return { text: body.ics, format: 'ics' };
  if (body.csv) return { text: body.csv, format: 'csv' };
  throw new ValidationError([{ field: 'ics', message: 'the iCalendar file (ics) or the CSV export (csv) is required' }], 'clock:errors.emptyCalendar');
}

export const serviceClockRoutes: ApiRoute[] = [
  route({
    method: 'post',
    path: '/incidents/:id/confirm',
    summary:
      'The reporter of a closed incident answers "is it fixed?": {fixed: true} records the confirmation; {fixed: false, comment} reopens it (in_progress) ' +
      "within the school's reopening window. 403 for anybody else, 422 when the incident is not closed.",
    action: [INCIDENT_DECLARE, INCIDENT_MANAGE],
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: confirmBody,
    example: { fixed: true },
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const { incident, changed } = await confirmIncident(c.module, actor, c.structureId, c.recordId, { fixed: c.body.fixed, comment: c.body.comment || undefined, version: c.body.version });
      return { ...presentIncident(incident, c.state.t, await usersByIds(c.module, [incident.reporter_id, incident.assignee_id])), changed };
    },
  }),
  route({
    method: 'post',
    path: '/structures/:sid/holidays/import',
    summary:
      "Imports the school holidays of the school's zone from the ministry's published calendar: its iCalendar file (`ics`) or its open-data CSV export " +
      '(`csv`), as JSON text or as multipart/form-data (field `file`), with `zone` (default: the school\'s) and optionally `schoolYear` ("2025-2026") and ' +
      '`replace` (replace the periods of those school years). Returns the periods imported, the ones left out and why, and all the school\'s periods.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    body: holidayImportBody,
    example: { ics: 'BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20991024\nDTEND;VALUE=DATE:20991109\nSUMMARY:Exemple - Zones A/B/C\nLOCATION:Zones A/B/C\nUID:example\nEND:VEVENT\nEND:VCALENDAR\n', zone: 'A' },
    async handler(c) {
      const body = isMultipart(c.req) ? await multipartImportBody(c.req) : c.body;
      const file = calendarOf(body);
      return importHolidays(c.module, c.structureId, { ...file, zone: body.zone, schoolYear: body.schoolYear, replace: body.replace ?? false });
    },
  }),
];
