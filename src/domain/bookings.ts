import { DateTime } from 'luxon';

/**
 * Pure booking rules: time parsing in the school's zone, weekly recurrence that keeps wall-clock hours across
 * daylight-saving changes and skips school holidays, the per-type rules, overlaps. No database, no HTTP.
 */

export interface Interval {
  startsAt: Date;
  endsAt: Date;
}

export interface Holiday {
  /** First day, YYYY-MM-DD, in the school's calendar. */
  from: string;
  /** Last day, inclusive. */
  to: string;
  label: string;
}

export type OpeningHours = Partial<Record<Weekday, Array<[string, string]>>>;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MAX_OCCURRENCES = 60;

const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const ABSOLUTE_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An instant from the API or a form: with an offset it is absolute; without one (a form's datetime-local) it is a
 * wall-clock time in the school's zone. Returns null when malformed or nonexistent (e.g. 02:30 on the spring change).
 */
export function parseInstant(value: string, zone: string): Date | null {
  if (ABSOLUTE_DATETIME.test(value)) {
    const dt = DateTime.fromISO(value, { setZone: true });
    return dt.isValid ? dt.toJSDate() : null;
  }
  if (LOCAL_DATETIME.test(value)) {
    const dt = DateTime.fromISO(value, { zone });
    // Luxon moves a nonexistent local time forward; refuse it rather than book an hour the teacher did not ask for.
    if (!dt.isValid || dt.toFormat("yyyy-MM-dd'T'HH:mm") !== value.slice(0, 16)) return null;
    return dt.toJSDate();
  }
  return null;
}

export function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value).isValid;
}

/** The school-calendar date (YYYY-MM-DD) of an instant. */
export function localDate(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate()!;
}

export function holidayOn(date: string, holidays: Holiday[]): Holiday | null {
  return holidays.find((h) => h.from <= date && date <= h.to) ?? null;
}

export interface Occurrence extends Interval {
  /** The school-calendar date of the occurrence. */
  date: string;
}

export interface Expansion {
  occurrences: Occurrence[];
  /** Dates skipped because they fall in a school holiday. */
  skipped: Array<{ date: string; holiday: string }>;
}

/**
 * Expands a booking into its occurrences: one, or every `intervalWeeks` weeks until `until` (inclusive), at the same
 * wall-clock hours in the school's zone (so 10:00-11:00 stays 10:00-11:00 after the October change), skipping dates
 * in holiday periods.
 */
export function expandOccurrences(input: {
  startsAt: Date;
  endsAt: Date;
  zone: string;
  recurrence?: { intervalWeeks: number; until: string } | null;
  holidays?: Holiday[];
}): Expansion {
  const start = DateTime.fromJSDate(input.startsAt, { zone: input.zone });
  const end = DateTime.fromJSDate(input.endsAt, { zone: input.zone });
  const first: Occurrence = { startsAt: input.startsAt, endsAt: input.endsAt, date: start.toISODate()! };
  if (!input.recurrence) return { occurrences: [first], skipped: [] };
  const holidays = input.holidays ?? [];
  const occurrences: Occurrence[] = [];
  const skipped: Expansion['skipped'] = [];
  for (let i = 0; ; i++) {
    const s = start.plus({ weeks: i * input.recurrence.intervalWeeks });
    const date = s.toISODate()!;
    if (date > input.recurrence.until) break;
    if (occurrences.length + skipped.length >= MAX_OCCURRENCES * 4) break;
    const holiday = holidayOn(date, holidays);
    if (holiday) {
      skipped.push({ date, holiday: holiday.label });
      continue;
    }
    const e = end.plus({ weeks: i * input.recurrence.intervalWeeks });
    occurrences.push({ startsAt: s.toJSDate(), endsAt: e.toJSDate(), date });
  }
  return { occurrences, skipped };
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.startsAt < b.endsAt && b.startsAt < a.endsAt;
}

export interface TypeRules {
  minNoticeMinutes: number;
  maxNoticeDays: number | null;
  maxLengthMinutes: number | null;
  withinOpeningHours: boolean;
}

export type RuleViolation =
  | { rule: 'in_the_past' }
  | { rule: 'min_notice'; minutes: number }
  | { rule: 'max_notice'; days: number }
  | { rule: 'max_length'; minutes: number }
  | { rule: 'opening_hours' }
  | { rule: 'multi_day' };

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** Whether [start, end) lies within one opening period of that weekday, in the school's zone. */
export function withinOpeningHours(interval: Interval, zone: string, hours: OpeningHours): boolean {
  const s = DateTime.fromJSDate(interval.startsAt, { zone });
  const e = DateTime.fromJSDate(interval.endsAt, { zone });
  if (s.toISODate() !== e.minus({ milliseconds: 1 }).toISODate()) return false;
  const day = WEEKDAYS[s.weekday - 1]!;
  const from = s.hour * 60 + s.minute;
  const to = e.toISODate() === s.toISODate() ? e.hour * 60 + e.minute : 24 * 60;
  return (hours[day] ?? []).some(([open, close]) => minutesOf(open) <= from && to <= minutesOf(close));
}

/** The per-type rules of one occurrence; an empty list means it may be booked. */
export function ruleViolations(occurrence: Interval, rules: TypeRules, ctx: { now: Date; zone: string; openingHours: OpeningHours }): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const lengthMinutes = (occurrence.endsAt.getTime() - occurrence.startsAt.getTime()) / 60000;
  if (occurrence.startsAt < ctx.now) violations.push({ rule: 'in_the_past' });
  else if (occurrence.startsAt.getTime() - ctx.now.getTime() < rules.minNoticeMinutes * 60000) violations.push({ rule: 'min_notice', minutes: rules.minNoticeMinutes });
  if (rules.maxNoticeDays !== null && occurrence.startsAt.getTime() - ctx.now.getTime() > rules.maxNoticeDays * 86400000) {
    violations.push({ rule: 'max_notice', days: rules.maxNoticeDays });
  }
  if (rules.maxLengthMinutes !== null && lengthMinutes > rules.maxLengthMinutes) violations.push({ rule: 'max_length', minutes: rules.maxLengthMinutes });
  if (rules.withinOpeningHours && !withinOpeningHours(occurrence, ctx.zone, ctx.openingHours)) violations.push({ rule: 'opening_hours' });
  return violations;
}

/** The Monday (school zone) of the ISO week containing a date, and the 7 days of that week. */
export function weekOf(dateOrWeek: string | null, zone: string, now: Date): { monday: DateTime; days: string[]; isoWeek: string } {
  let monday: DateTime;
  if (dateOrWeek && /^\d{4}-W\d{2}$/.test(dateOrWeek)) monday = DateTime.fromISO(`${dateOrWeek}-1`, { zone });
  else if (dateOrWeek && isDate(dateOrWeek)) monday = DateTime.fromISO(dateOrWeek, { zone }).startOf('week');
  else monday = DateTime.fromJSDate(now, { zone }).startOf('week');
  if (!monday.isValid) monday = DateTime.fromJSDate(now, { zone }).startOf('week');
  monday = monday.startOf('day');
  const days = Array.from({ length: 7 }, (_, i) => monday.plus({ days: i }).toISODate()!);
  return { monday, days, isoWeek: monday.toFormat("kkkk-'W'WW") };
}
