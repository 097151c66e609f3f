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

/**
 * A school's calendar, treated as an immutable value: what is derived from its opening hours and holidays (sorted,
 * merged, as day numbers) is remembered per object, so change a calendar by making a new one, never in place.
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

/**
 * Instants of wall-clock times already computed (zone|date|time -> ms): schools share a zone and the same few opening
 * times, so a batch of incidents (the statistics, a backfill) asks the same ones again and again. Bounded.
 */
const instants = new Map<string, number>();
const MAX_INSTANTS = 200_000;

/** The instant of a wall-clock time on a date in the zone ("24:00" is the next midnight). */
function instantOf(date: string, hhmm: string, zone: string): number {
  const key = `${zone}|${date}|${hhmm}`;
  const known = instants.get(key);
  if (known !== undefined) return known;
  const ms = computeInstant(date, hhmm, zone);
  if (instants.size >= MAX_INSTANTS) instants.clear();
  instants.set(key, ms);
  return ms;
}

function computeInstant(date: string, hhmm: string, zone: string): number {
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

const normalizedCache = new WeakMap<object, Array<Array<[string, string]>>>();

/** The opening periods of each weekday, sorted and merged (overlapping periods never count twice). */
function normalizedHours(hours: OpeningHours): Array<Array<[string, string]>> {
  let known = normalizedCache.get(hours);
  if (!known) normalizedCache.set(hours, (known = normalize(hours)));
  return known;
}

function normalize(hours: OpeningHours): Array<Array<[string, string]>> {
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

const DAY_MS = 86_400_000;

/** A weekday's periods as one key ("08:00-12:00,13:30-17:30"), to share the instants of a day between schools. */
const periodKeys = new WeakMap<object, string>();
const dayCache = new Map<string, number[]>();

/** The opening and closing instants of one day's periods, flattened [o0, o1, o0, o1...] (memoized, bounded). */
function dayInstants(periods: Array<[string, string]>, day: number, zone: string): number[] {
  let pk = periodKeys.get(periods);
  if (pk === undefined) periodKeys.set(periods, (pk = periods.map(([a, b]) => `${a}-${b}`).join(',')));
  const key = `${zone}|${day}|${pk}`;
  let known = dayCache.get(key);
  if (!known) {
    const date = dateOf(day);
    known = periods.flatMap(([open, close]) => [instantOf(date, open, zone), instantOf(date, close, zone)]);
    if (dayCache.size >= MAX_INSTANTS) dayCache.clear();
    dayCache.set(key, known);
  }
  return known;
}

/** Calendar days as integers (days since 1970-01-01), and back to YYYY-MM-DD (memoized: a few thousand at most). */
function dayOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y!, m! - 1, d!) / DAY_MS;
}
const dates = new Map<number, string>();
function dateOf(day: number): string {
  let known = dates.get(day);
  if (known === undefined) {
    if (dates.size >= MAX_INSTANTS) dates.clear();
    dates.set(day, (known = new Date(day * DAY_MS).toISOString().slice(0, 10)));
  }
  return known;
}
/** 0 = Monday ... 6 = Sunday (day 0, 1970-01-01, was a Thursday). */
const weekdayOfDay = (day: number) => (((day + 3) % 7) + 7) % 7;

/**
 * The calendar day of an instant in the zone: the day whose local midnight comes at or before it and the next day's
 * after it (offsets stay within a day, so it is the UTC day or one beside it; midnights come from the memo).
 */
function localDay(ms: number, zone: string): number {
  const midnight = (day: number) => instantOf(dateOf(day), '00:00', zone);
  const d = Math.floor(ms / DAY_MS);
  for (const c of [d, d - 1, d + 1]) if (midnight(c) <= ms && ms < midnight(c + 1)) return c;
  throw new RangeError(`no calendar day for ${new Date(ms).toISOString()} in ${zone}`);
}

const holidayCache = new WeakMap<object, Array<[number, number]>>();
/** Holiday periods as sorted ranges of days [first, last]. */
function holidayDays(holidays: readonly Holiday[]): Array<[number, number]> {
  let known = holidayCache.get(holidays);
  if (!known) {
    known = holidays.map((h): [number, number] => [dayOf(h.from), dayOf(h.to)]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && a <= b);
    known.sort((a, b) => a[0] - b[0]);
    holidayCache.set(holidays, known);
  }
  return known;
}

/**
 * Visits the opening periods of a school, as instants [start, end) in milliseconds, from the calendar day of `from` on,
 * in order, skipping holidays and closed days, until `visit` returns true, `untilMs` or MAX_SEARCH_DAYS days.
 */
function forEachOpenPeriod(cal: SchoolCalendar, fromMs: number, untilMs: number, visit: (o0: number, o1: number) => boolean): void {
  const hours = normalizedHours(cal.openingHours);
  if (hours.every((p) => p.length === 0)) return;
  const holidays = holidayDays(cal.holidays);
  // The day before too: a period of the previous day may run past midnight ("24:00", or a night-shift "22:00-24:00").
  let day = localDay(fromMs, cal.zone) - 1;
  const lastDay = day + MAX_SEARCH_DAYS;
  let h = 0;
  while (day <= lastDay) {
    while (h < holidays.length && holidays[h]![1] < day) h++;
    if (h < holidays.length && holidays[h]![0] <= day) {
      day = holidays[h]![1] + 1;
      continue;
    }
    const periods = hours[weekdayOfDay(day)]!;
    if (periods.length) {
      const instantsOfDay = dayInstants(periods, day, cal.zone);
      for (let i = 0; i < instantsOfDay.length; i += 2) {
        const o0 = instantsOfDay[i]!;
        if (o0 >= untilMs) return;
        const o1 = instantsOfDay[i + 1]!;
        if (o1 > o0 && visit(o0, o1)) return;
      }
    }
    day++;
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
  let due: number | null = null;
  forEachOpenPeriod(cal, from, Number.POSITIVE_INFINITY, (o0, o1) => {
    const s = Math.max(o0, from);
    if (s >= o1) return false;
    const available = o1 - s;
    if (remaining <= available) {
      due = s + remaining;
      return true;
    }
    remaining -= available;
    return false;
  });
  return due === null ? null : new Date(due);
}

/** The school hours between two instants (0 when `to` is not after `from`), to the millisecond, in hours. */
export function schoolHoursBetween(from: Date, to: Date, cal: SchoolCalendar): number {
  const a = from.getTime();
  const b = to.getTime();
  if (!(b > a)) return 0;
  let total = 0;
  forEachOpenPeriod(cal, a, b, (o0, o1) => {
    const s = Math.max(o0, a);
    const e = Math.min(o1, b);
    if (e > s) total += e - s;
    return false;
  });
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
