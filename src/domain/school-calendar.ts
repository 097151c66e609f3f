import type ical from 'node-ical';
import { parse as parseCsv } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import type { Holiday } from './bookings';
import { addDays } from './service-clock';

/**
 * Reads the school holidays published by the French ministry of education (data.education.gouv.fr, dataset
 * `fr-en-calendrier-scolaire`) in its two formats, keeps the periods of one zone (A, B or C) and, optionally, one school
 * year, and turns them into the module's holiday periods (first and last day off, inclusive). Parsed with real
 * libraries: node-ical for the iCalendar file, csv-parse for the CSV export. Pure: no network, no database.
 *
 * The ministry's convention, in both formats: a period starts on the day classes end (usually a Saturday) and ends on
 * the day they resume (a Monday), which is not a holiday. In iCalendar terms it is an all-day event, DTEND exclusive;
 * in the CSV, "Date de début" and "Date de fin" are those days at midnight, Paris time (often written in UTC,
 * "2025-10-17T22:00:00+00:00"). So a period is `from` = the start date, `to` = the day before the end date.
 *
 * What is left out, and said so in `skipped`: teachers-only periods (population "Enseignants", "prérentrée"), periods
 * of other zones (and of Corsica or overseas territories), and a "Début des Vacances d'Été" with no end published
 * (unless the file also gives the next "Rentrée", whose eve ends it).
 */

export const HOLIDAY_ZONES = ['A', 'B', 'C'] as const;
export type HolidayZone = (typeof HOLIDAY_ZONES)[number];

/** The ministry's dates are midnights in metropolitan France. */
const MINISTRY_ZONE = 'Europe/Paris';

export interface CalendarEntry {
  /** The period's name without its zone suffix ("Vacances de la Toussaint"). */
  label: string;
  /** YYYY-MM-DD: the day classes end (the first day of the period in the file). */
  start: string;
  /** YYYY-MM-DD: the day classes resume (exclusive), or null when not published. */
  end: string | null;
  /** The zones the entry is for; null when the file does not say (a file of one zone). */
  zones: Set<string> | null;
  teachersOnly: boolean;
  /** "2025-2026" when the file says it (the CSV), else derived from the start date. */
  schoolYear: string | null;
}

export interface SkippedEntry {
  label: string;
  start: string;
  reason: 'other_zone' | 'teachers_only' | 'other_school_year' | 'no_end_date';
}

export interface CalendarImport {
  holidays: Holiday[];
  /** The school years the kept periods belong to, in order. */
  schoolYears: string[];
  skipped: SkippedEntry[];
  /** How many entries the file held (events or rows). */
  read: number;
}

export class CalendarFormatError extends Error {
  constructor(
    readonly code: 'not_ics' | 'not_csv' | 'missing_columns' | 'no_entries',
    readonly details: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

/** The school year (September to August) a date belongs to: "2025-2026". */
export function schoolYearOf(date: string): string {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  return month >= 9 ? `${year}-${year + 1}` : `${year - 1}-${year}`;
}

export function isSchoolYear(value: string): boolean {
  const m = /^(\d{4})-(\d{4})$/.exec(value);
  return Boolean(m && Number(m[2]) === Number(m[1]) + 1);
}

/** "Vacances de la Toussaint - Zones A/B/C - Corse" -> "Vacances de la Toussaint". */
export function baseLabel(text: string): string {
  return text
    .replace(/\s+-\s+(zones?\s|corse\b).*$/i, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The zones named in a text: "Zone A", "Zones A/B/C", "Zones A/B/C - Corse" -> {A, B, C}; "Corse", "Guadeloupe" ->
 * the empty set (a place that is none of A, B, C); an empty text -> null (unknown).
 */
export function zonesIn(text: string | null | undefined): Set<string> | null {
  const value = (text ?? '').trim();
  if (!value) return null;
  const zones = new Set<string>();
  for (const m of value.matchAll(/\bzones?\s+([ABC](?:\s*[/,&et]+\s*[ABC])*)\b/gi)) {
    for (const letter of m[1]!.toUpperCase().match(/[ABC]/g) ?? []) zones.add(letter);
  }
  return zones;
}

const TEACHERS = /enseignant/i;

function dateOfValue(value: unknown): string | null {
  if (!value) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    // node-ical gives an all-day date (VALUE=DATE) as local midnight of the process, flagged dateOnly.
    if ((value as Date & { dateOnly?: boolean }).dateOnly) {
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
    }
    return DateTime.fromJSDate(value, { zone: MINISTRY_ZONE }).toISODate();
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return DateTime.fromISO(text).isValid ? text : null;
    if (/^\d{2}\/\d{2}\/\d{4}$/.test(text)) {
      const dt = DateTime.fromFormat(text, 'dd/MM/yyyy');
      return dt.isValid ? dt.toISODate() : null;
    }
    const dt = DateTime.fromISO(text, { setZone: true });
    return dt.isValid ? dt.setZone(MINISTRY_ZONE).toISODate() : null;
  }
  return null;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'val' in value) return String((value as { val: unknown }).val ?? '');
  return '';
}

/**
 * node-ical, loaded with the first calendar imported (some 15 MB of a web process's memory, for a page an
 * administrator uses once a year); `require`, not `import()`, keeps the import synchronous and pure.
 */
let icalModule: typeof ical | null = null;
function nodeIcal(): typeof ical {
  return (icalModule ??= require('node-ical') as typeof ical);
}

/** The entries of the ministry's iCalendar file (one per VEVENT). */
export function icsEntries(text: string): CalendarEntry[] {
  if (!/BEGIN:VCALENDAR/i.test(text)) throw new CalendarFormatError('not_ics');
  let parsed: ReturnType<typeof ical.sync.parseICS>;
  try {
    parsed = nodeIcal().sync.parseICS(text);
  } catch (error) {
    throw new CalendarFormatError('not_ics', { reason: (error as Error).message.slice(0, 200) });
  }
  const entries: CalendarEntry[] = [];
  for (const component of Object.values(parsed)) {
    if (!component || component.type !== 'VEVENT') continue;
    const event = component as ical.VEvent;
    const summary = textOf(event.summary) || textOf(event.description);
    const start = dateOfValue(event.start);
    if (!summary || !start) continue;
    const end = dateOfValue(event.end);
    const location = textOf(event.location);
    entries.push({
      label: baseLabel(summary),
      start,
      end: end && end > start ? end : null,
      zones: zonesIn(location) ?? zonesIn(summary.match(/\s-\s(zones?\s.*|corse.*)$/i)?.[0] ?? ''),
      teachersOnly: TEACHERS.test(summary),
      schoolYear: null,
    });
  }
  return entries;
}

const normalize = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** Column names of the open-data export, with labels (`use_labels_for_header=true`) or with field names. */
const CSV_COLUMNS = {
  description: ['description'],
  population: ['population'],
  start: ['date_de_debut', 'start_date'],
  end: ['date_de_fin', 'end_date'],
  zones: ['zones', 'zone'],
  schoolYear: ['annee_scolaire'],
} as const;

/** The entries of the open-data CSV export (one per row; the export repeats each period once per académie). */
export function csvEntries(text: string): CalendarEntry[] {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') ? ';' : firstLine.includes('\t') ? '\t' : ',';
  let rows: string[][];
  try {
    rows = parseCsv(text, { bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new CalendarFormatError('not_csv', { reason: (error as Error).message.slice(0, 200) });
  }
  const header = (rows.shift() ?? []).map(normalize);
  const index = Object.fromEntries(
    Object.entries(CSV_COLUMNS).map(([key, names]) => [key, header.findIndex((h) => (names as readonly string[]).includes(h))]),
  ) as Record<keyof typeof CSV_COLUMNS, number>;
  const missing = (['description', 'start', 'end', 'zones'] as const).filter((k) => index[k] < 0);
  if (missing.length) throw new CalendarFormatError('missing_columns', { missing: missing.map((k) => CSV_COLUMNS[k][0]), found: header });
  const cell = (row: string[], key: keyof typeof CSV_COLUMNS) => (index[key] >= 0 ? (row[index[key]] ?? '').trim() : '');
  const entries: CalendarEntry[] = [];
  for (const row of rows) {
    const description = cell(row, 'description');
    const start = dateOfValue(cell(row, 'start'));
    if (!description || !start) continue;
    const end = dateOfValue(cell(row, 'end'));
    const year = cell(row, 'schoolYear');
    entries.push({
      label: baseLabel(description),
      start,
      end: end && end > start ? end : null,
      zones: zonesIn(cell(row, 'zones')) ?? new Set(),
      teachersOnly: TEACHERS.test(cell(row, 'population')) || TEACHERS.test(description),
      schoolYear: isSchoolYear(year) ? year : null,
    });
  }
  return entries;
}

/**
 * The holiday periods of one zone (and one school year, when given) from the entries of a ministry file: other zones
 * and teachers-only entries left out, the pieces of one period merged (the ministry's combined file splits a period
 * where zones A, B and C overlap), each period from its first day off to the eve of the return.
 */
export function holidaysOf(entries: CalendarEntry[], options: { zone: HolidayZone; schoolYear?: string | null }): CalendarImport {
  const skipped: SkippedEntry[] = [];
  const yearOf = (e: CalendarEntry) => e.schoolYear ?? schoolYearOf(e.start);
  // The returns published in the file ("Rentrée scolaire des élèves"), to end a summer published without its end.
  const returns = entries
    .filter((e) => /rentr[ée]e/i.test(e.label) && !e.teachersOnly && (!e.zones || e.zones.has(options.zone)))
    .map((e) => e.start)
    .sort();
  const kept: Array<{ label: string; from: string; to: string; year: string }> = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (/rentr[ée]e/i.test(e.label) && !/vacances/i.test(e.label)) continue; // a return, not a period
    const key = `${e.label}|${e.start}|${e.end}|${e.zones ? [...e.zones].sort().join('') : '*'}|${e.teachersOnly}`;
    if (seen.has(key)) continue; // the CSV repeats each period once per académie
    seen.add(key);
    if (e.teachersOnly) {
      skipped.push({ label: e.label, start: e.start, reason: 'teachers_only' });
      continue;
    }
    if (e.zones && !e.zones.has(options.zone)) {
      skipped.push({ label: e.label, start: e.start, reason: 'other_zone' });
      continue;
    }
    const year = yearOf(e);
    if (options.schoolYear && year !== options.schoolYear) {
      skipped.push({ label: e.label, start: e.start, reason: 'other_school_year' });
      continue;
    }
    let end = e.end;
    if (!end) {
      end = returns.find((r) => r > e.start) ?? null;
      if (!end) {
        skipped.push({ label: e.label, start: e.start, reason: 'no_end_date' });
        continue;
      }
    }
    // "Début des Vacances d'Été" is the summer whose end the file gives elsewhere: the same period as "Vacances d'Été".
    const label = e.label.replace(/^d[ée]but des\s+/i, '');
    kept.push({ label: label.charAt(0).toUpperCase() + label.slice(1), from: e.start, to: addDays(end, -1), year });
  }
  kept.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const merged: typeof kept = [];
  for (const k of kept) {
    const last = merged[merged.length - 1];
    if (last && last.label === k.label && k.from <= addDays(last.to, 1)) {
      if (k.to > last.to) last.to = k.to;
    } else merged.push({ ...k });
  }
  return {
    holidays: merged.map(({ label, from, to }) => ({ from, to, label })),
    schoolYears: [...new Set(merged.map((m) => m.year))].sort(),
    skipped,
    read: entries.length,
  };
}

/** Parses a ministry file in either format and keeps one zone's periods. */
export function importMinistryCalendar(input: { format: 'ics' | 'csv'; text: string; zone: HolidayZone; schoolYear?: string | null }): CalendarImport {
  const entries = input.format === 'ics' ? icsEntries(input.text) : csvEntries(input.text);
  if (!entries.length) throw new CalendarFormatError('no_entries');
  return holidaysOf(entries, { zone: input.zone, schoolYear: input.schoolYear });
}

/** Which of the two formats a file is, from its content (never from its name). */
export function detectCalendarFormat(text: string): 'ics' | 'csv' {
  return /^\s*BEGIN:VCALENDAR/i.test(text.replace(/^\uFEFF/, '')) ? 'ics' : 'csv';
}

/**
 * The school's periods after an import: the imported ones added, an existing period with the same dates replaced
 * (its label updated), every other period kept (the ones typed by hand, other school years), in date order.
 */
export function mergeHolidays(existing: readonly Holiday[], imported: readonly Holiday[]): { holidays: Holiday[]; added: number; updated: number } {
  const byDates = new Map(existing.map((h) => [`${h.from}|${h.to}`, { ...h }]));
  let added = 0;
  let updated = 0;
  for (const h of imported) {
    const key = `${h.from}|${h.to}`;
    const current = byDates.get(key);
    if (!current) {
      added++;
      byDates.set(key, { ...h });
    } else if (current.label !== h.label) {
      updated++;
      current.label = h.label;
    }
  }
  return { holidays: [...byDates.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)), added, updated };
}
