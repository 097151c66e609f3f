import type { ModuleContext } from '../context';
import { RefusedError, ValidationError } from '../errors';
import type { Holiday } from '../domain/bookings';
import {
  CalendarFormatError,
  CalendarImport,
  detectCalendarFormat,
  HolidayZone,
  importMinistryCalendar,
  mergeHolidays,
  schoolYearOf,
  SkippedEntry,
} from '../domain/school-calendar';
import { forgetSettings, getSettings } from '../store/settings';
import { recomputeOpenDueTimes } from './service-clock';

/** The most holiday periods a school keeps (the settings API's limit too): about thirty school years. */
export const MAX_HOLIDAYS = 200;

export interface HolidayImportInput {
  /** The file's text (iCalendar or CSV, told by its content unless `format` says). */
  text: string;
  format?: 'ics' | 'csv';
  /** The school's zone; the one in its settings when not given (then required there). */
  zone?: HolidayZone;
  /** Only this school year ("2025-2026"); every year of the file when not given. */
  schoolYear?: string;
  /** Replace the periods of the imported school years instead of adding to them (the ones typed by hand go too). */
  replace?: boolean;
}

export interface HolidayImportResult {
  zone: HolidayZone;
  format: 'ics' | 'csv';
  schoolYears: string[];
  imported: Holiday[];
  skipped: SkippedEntry[];
  added: number;
  updated: number;
  removed: number;
  /** Every period of the school after the import. */
  holidays: Holiday[];
}

/**
 * Imports the ministry's school calendar into a school's settings: the periods of its zone (and school year) added to
 * its holidays, its zone recorded. Nothing is downloaded: the file comes from the admin (an upload or the API).
 */
export async function importHolidays(ctx: ModuleContext, structureId: string, input: HolidayImportInput): Promise<HolidayImportResult> {
  const settings = await getSettings(ctx.knex, structureId);
  const zone = input.zone ?? settings?.holiday_zone ?? null;
  if (!zone) throw new ValidationError([{ field: 'zone', message: 'the school holiday zone (A, B or C) is required' }], 'clock:errors.zoneRequired');
  if (!input.text.trim()) throw new ValidationError([{ field: 'file', message: 'empty' }], 'clock:errors.emptyCalendar');
  const format = input.format ?? detectCalendarFormat(input.text);
  let result: CalendarImport;
  try {
    result = importMinistryCalendar({ format, text: input.text, zone, schoolYear: input.schoolYear ?? null });
  } catch (error) {
    if (!(error instanceof CalendarFormatError)) throw error;
    const field = format === 'ics' ? 'ics' : 'csv';
    const missing = (error.details.missing as string[] | undefined)?.join(', ') ?? '';
    throw new ValidationError([{ field, message: error.code === 'missing_columns' ? `missing columns: ${missing}` : error.code }], `clock:errors.calendar.${error.code}`);
  }
  if (!result.holidays.length) {
    throw new RefusedError('no_holidays_found', 'clock:errors.noHolidaysFound', { zone, schoolYear: input.schoolYear ?? '' }, { zone, schoolYear: input.schoolYear ?? null, skipped: result.skipped });
  }
  const years = new Set(result.schoolYears);
  const existing = (settings?.holidays ?? []) as Holiday[];
  const kept = input.replace ? existing.filter((h) => !years.has(schoolYearOf(h.from))) : existing;
  const merged = mergeHolidays(kept, result.holidays);
  if (merged.holidays.length > MAX_HOLIDAYS) {
    throw new RefusedError('too_many_holidays', 'clock:errors.tooManyHolidays', { max: MAX_HOLIDAYS }, { max: MAX_HOLIDAYS, count: merged.holidays.length });
  }
  await ctx.knex('rsv_structure_settings')
    .where({ structure_id: structureId })
    .update({ holidays: JSON.stringify(merged.holidays), holiday_zone: zone, updated_at: ctx.knex.fn.now() });
  forgetSettings(structureId);
  await recomputeOpenDueTimes(ctx.knex, structureId);
  return {
    zone,
    format,
    schoolYears: result.schoolYears,
    imported: result.holidays,
    skipped: result.skipped,
    added: merged.holidays.filter((h) => !existing.some((e) => e.from === h.from && e.to === h.to)).length,
    updated: merged.holidays.filter((h) => existing.some((e) => e.from === h.from && e.to === h.to && e.label !== h.label)).length,
    removed: existing.filter((e) => !merged.holidays.some((h) => e.from === h.from && e.to === h.to)).length,
    holidays: merged.holidays,
  };
}
