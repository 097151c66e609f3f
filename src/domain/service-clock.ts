import { DateTime } from 'luxon';
import { WEEKDAYS, type Holiday, type OpeningHours } from './bookings';

/**
 * The service clock: time that counts only while the school is open. Pure (no database, no HTTP), unit-tested in
 * test/unit/service-clock.test.ts.
 *
 * A school's calendar is its IANA time zone, its opening periods per weekday (wall-clock "HH:MM" in that zone, "24:00"
 * meaning the next midnight; split days such as 08:00-12:00 and 13:30-17:30, or an empty list for a closed day) and its
 * holiday periods (inclusive dates in the school's calendar, during which nothing counts). A school hour is an hour of
 * real time inside an opening period: on the night of a daylight-saving change an opening period of 00:00-24:00 lasts
 * 23 or 25 hours, one of 08:00-18:00 lasts 10 hours either way.
 */

export interface SchoolCalendar {
  zone: string;
  openingHours: OpeningHours;
  holidays: readonly Holiday[];
}

/** Beyond this many calendar days without reaching the target, there is no due time (a school that never opens). */
export const MAX_SEARCH_DAYS = 3 * 366;

const HOUR_MS = 3_600_000;
const HHMM = /^(\d{2}):(\d{2})$/;

/** YYYY-MM-DD plus n days (calendar arithmetic, no time zone involved). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + n)).toISOString().slice(0, 10);
}

/** 0 = Monday ... 6 = Sunday, for a calendar date. */
function weekdayIndex(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return (new Date(Date.UTC(y!, m! - 1, d!)).getUTCDay() + 6) % 7;
}

/** The instant of a wall-clock time on a date in the zone ("24:00" is the next midnight). */
function instantOf(date: string, hhmm: string, zone: string): number {
  const match = HHMM.exec(hhmm);
  if (!match) throw new RangeError(`not a time of day: ${hhmm}`);
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  const day = hour === 24 ? addDays(date, 1) : date;
  const [y, m, d] = day.split('-').map(Number);
  // A time that does not exist (inside the spring gap) is moved forward by luxon: the period starts at the change.
  const dt = DateTime.fromObject({ year: y, month: m, day: d, hour: hour === 24 ? 0 : hour, minute }, { zone });
  if (!dt.isValid) throw new RangeError(`invalid time zone or date: ${zone} ${date} ${hhmm}`);
  return dt.toMillis();
}

/** The opening periods of each weekday as minutes, sorted and merged (overlapping periods never count twice). */
function normalizedHours(hours: OpeningHours): Array<Array<[string, string]>> {
  return WEEKDAYS.map((day) => {
    const periods = [...(hours[day] ?? [])].filter(([a, b]) => a < b).sort((x, y) => x[0].localeCompare(y[0]));
    const merged: Array<[string, string]> = [];
    for (const [a, b] of periods) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1]) last[1] = b > last[1] ? b : last[1];
      else merged.push([a, b]);
    }
    return merged;
  });
}

/** The holiday containing a date, if any (the caller jumps to the day after it). */
function holidayContaining(date: string, holidays: readonly Holiday[]): Holiday | undefined {
  return holidays.find((h) => h.from <= date && date <= h.to);
}

/**
 * The opening periods of a school, as instants [start, end) in milliseconds, from the calendar day of `from` on, in
 * order, skipping holidays and closed days. Stops after MAX_SEARCH_DAYS days or at `untilMs`.
 */
function* openPeriods(cal: SchoolCalendar, fromMs: number, untilMs = Number.POSITIVE_INFINITY): Generator<[number, number]> {
  const hours = normalizedHours(cal.openingHours);
  if (hours.every((p) => p.length === 0)) return;
  const holidays = [...cal.holidays].sort((a, b) => a.from.localeCompare(b.from));
  const start = DateTime.fromMillis(fromMs, { zone: cal.zone });
  if (!start.isValid) throw new RangeError(`invalid time zone: ${cal.zone}`);
  // The day before too: a period of the previous day may run past midnight ("24:00", or a night-shift "22:00-24:00").
  let date = addDays(start.toISODate()!, -1);
  const lastDate = addDays(date, MAX_SEARCH_DAYS);
  while (date <= lastDate) {
    const holiday = holidayContaining(date, holidays);
    if (holiday) {
      date = addDays(holiday.to, 1);
      continue;
    }
    for (const [open, close] of hours[weekdayIndex(date)]!) {
      const o0 = instantOf(date, open, cal.zone);
      const o1 = instantOf(date, close, cal.zone);
      if (o0 >= untilMs) return;
      if (o1 > o0) yield [o0, o1];
    }
    date = addDays(date, 1);
  }
}

/**
 * The instant `hours` school hours after `start`: the due time of a target. A target that runs out exactly at a
 * closing time is due at that closing time (not at the next opening). Null when the school never opens within
 * MAX_SEARCH_DAYS days. Zero hours is `start` itself.
 */
export function addSchoolHours(start: Date, hours: number, cal: SchoolCalendar): Date | null {
  if (!Number.isFinite(hours) || hours < 0) throw new RangeError(`hours must be a positive number: ${hours}`);
  if (hours === 0) return new Date(start.getTime());
  let remaining = Math.round(hours * HOUR_MS);
  const from = start.getTime();
  for (const [o0, o1] of openPeriods(cal, from)) {
    const s = Math.max(o0, from);
    if (s >= o1) continue;
    const available = o1 - s;
    if (remaining <= available) return new Date(s + remaining);
    remaining -= available;
  }
  return null;
}

/** The school hours between two instants (0 when `to` is not after `from`), to the millisecond, in hours. */
export function schoolHoursBetween(from: Date, to: Date, cal: SchoolCalendar): number {
  const a = from.getTime();
  const b = to.getTime();
  if (!(b > a)) return 0;
  let total = 0;
  for (const [o0, o1] of openPeriods(cal, a, b)) {
    const s = Math.max(o0, a);
    const e = Math.min(o1, b);
    if (e > s) total += e - s;
  }
  return total / HOUR_MS;
}

export interface ServiceTargets {
  takeInChargeHours: number;
  resolveHours: number;
}

export interface DueTimes {
  takeInChargeDueAt: Date | null;
  resolveDueAt: Date | null;
}

/** Both due times of an incident declared (or reopened) at `origin`. */
export function dueTimes(origin: Date, targets: ServiceTargets, cal: SchoolCalendar): DueTimes {
  return { takeInChargeDueAt: addSchoolHours(origin, targets.takeInChargeHours, cal), resolveDueAt: addSchoolHours(origin, targets.resolveHours, cal) };
}

export interface ClockFacts {
  createdAt: Date;
  takenAt: Date | null;
  resolvedAt: Date | null;
  takeInChargeDueAt: Date | null;
  resolveDueAt: Date | null;
}

/**
 * Overdue: a due time has passed and what it was for has not happened (not taken in charge yet, or not resolved yet).
 */
export function isOverdue(facts: Omit<ClockFacts, 'createdAt'>, now: Date): boolean {
  const t = now.getTime();
  if (!facts.takenAt && facts.takeInChargeDueAt && facts.takeInChargeDueAt.getTime() < t) return true;
  if (!facts.resolvedAt && facts.resolveDueAt && facts.resolveDueAt.getTime() < t) return true;
  return false;
}

/** The due time an inbox sorted "by due time" goes by: taking in charge while new, resolving after. */
export function nextDueAt(facts: { status: string; takeInChargeDueAt: Date | null; resolveDueAt: Date | null }): Date | null {
  return facts.status === 'new' ? facts.takeInChargeDueAt : facts.resolveDueAt;
}

/** Hours rounded to the hundredth (what the database keeps, numeric(9,2)). */
export function roundSchoolHours(hours: number): number {
  return Math.round(hours * 100) / 100;
}
