import { DateTime } from 'luxon';

/**
 * Pure statistics rules: the school year, the period a dashboard covers, the occupancy maths, percentiles as
 * PostgreSQL's percentile_cont computes them, and the ranking of schools. No database, no HTTP.
 */

/** A period of whole days in a school's calendar: `from` and `to` are YYYY-MM-DD, both included. */
export interface Period {
  from: string;
  to: string;
}

/** The longest period a dashboard covers (three school years): the weekly series stays readable and cheap. */
export const MAX_PERIOD_DAYS = 3 * 366;

/** The school year starts on 1 September and ends on 31 August. */
export const SCHOOL_YEAR_FIRST_MONTH = 9;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isPeriodDate(value: string): boolean {
  return DATE.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** The school year (September to August) a calendar date belongs to. */
export function schoolYearOf(date: string): Period {
  const d = DateTime.fromISO(date, { zone: 'UTC' });
  const startYear = d.month >= SCHOOL_YEAR_FIRST_MONTH ? d.year : d.year - 1;
  return { from: `${startYear}-09-01`, to: `${startYear + 1}-08-31` };
}

/** Today's date in the school's zone. */
export function todayIn(zone: string, now: Date): string {
  return DateTime.fromJSDate(now, { zone }).toISODate()!;
}

export type PeriodProblem = { field: 'from' | 'to'; message: string };

/**
 * The period asked for, completed: nothing given is the current school year in the school's zone; only `from` runs to
 * the end of its school year; only `to` starts at the beginning of its school year. Returns the problems instead when
 * the input is malformed, reversed or too long.
 */
export function resolvePeriod(input: { from?: string; to?: string }, zone: string, now: Date): { period: Period } | { problems: PeriodProblem[] } {
  const problems: PeriodProblem[] = [];
  if (input.from !== undefined && !isPeriodDate(input.from)) problems.push({ field: 'from', message: 'a date YYYY-MM-DD' });
  if (input.to !== undefined && !isPeriodDate(input.to)) problems.push({ field: 'to', message: 'a date YYYY-MM-DD' });
  if (problems.length) return { problems };
  const from = input.from ?? (input.to ? schoolYearOf(input.to).from : schoolYearOf(todayIn(zone, now)).from);
  const to = input.to ?? schoolYearOf(from).to;
  if (to < from) return { problems: [{ field: 'to', message: 'must not be before from' }] };
  if (daysBetween(from, to) + 1 > MAX_PERIOD_DAYS) return { problems: [{ field: 'to', message: `the period is at most ${MAX_PERIOD_DAYS} days` }] };
  return { period: { from, to } };
}

export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);
}

/** The Monday of a date's ISO week. */
export function mondayOf(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).startOf('week').toISODate()!;
}

/** The Mondays of every week that overlaps the period, in order. */
export function weeksOf(period: Period): string[] {
  const weeks: string[] = [];
  for (let d = DateTime.fromISO(mondayOf(period.from), { zone: 'UTC' }); d.toISODate()! <= period.to; d = d.plus({ weeks: 1 })) weeks.push(d.toISODate()!);
  return weeks;
}

/** The school years a period covers exactly (1 September of the first to 31 August of the last), else null. */
export function wholeSchoolYears(period: Period): number[] | null {
  const first = schoolYearOf(period.from);
  const last = schoolYearOf(period.to);
  if (first.from !== period.from || last.to !== period.to) return null;
  const years: number[] = [];
  for (let y = Number(first.from.slice(0, 4)); y <= Number(last.from.slice(0, 4)); y++) years.push(y);
  return years;
}

/** The previous school year, for the period form's shortcut. */
export function previousSchoolYear(period: Period): Period {
  const start = Number(schoolYearOf(period.from).from.slice(0, 4)) - 1;
  return { from: `${start}-09-01`, to: `${start + 1}-08-31` };
}

/**
 * The continuous percentile of PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks of the
 * sorted values. Null for no value. Written out here so that tests check the SQL against an independent computation.
 */
export function percentileCont(values: number[], fraction: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** Hours with two decimals (36 seconds): enough for a dashboard, stable in JSON. */
export function roundHours(hours: number | null): number | null {
  return hours === null || !Number.isFinite(hours) ? null : Math.round(hours * 100) / 100;
}

/** A median and a 90th percentile, in hours, over `count` incidents. */
export interface DurationFigures {
  median: number | null;
  p90: number | null;
  count: number;
}

/**
 * Occupancy: the hours booked inside opening hours over the hours open (times the rooms, for a group of rooms).
 * Null when the school was never open in the period (nothing to divide by), not 0: "closed" is not "unused".
 */
export function occupancyRate(bookedSeconds: number, openSeconds: number): number | null {
  if (!(openSeconds > 0)) return null;
  return Math.round((bookedSeconds / openSeconds) * 10000) / 10000;
}

export function secondsToHours(seconds: number): number {
  return Math.round((seconds / 3600) * 100) / 100;
}

export interface RoomUse {
  id: string;
  name: string;
  rate: number | null;
}

/**
 * The most and the least used rooms, by rate then by name so that ties read in a stable order. A room is in one list
 * at most, and only a room that was booked at all is "most used".
 */
export function mostAndLeastUsed<R extends RoomUse>(rooms: R[], count = 3): { mostUsed: R[]; leastUsed: R[] } {
  const rated = rooms.filter((r) => r.rate !== null);
  const byRate = [...rated].sort((a, b) => b.rate! - a.rate! || a.name.localeCompare(b.name, 'fr'));
  const mostUsed = byRate.filter((r) => r.rate! > 0).slice(0, Math.min(count, Math.ceil(rated.length / 2)));
  const leastUsed = rated
    .filter((r) => !mostUsed.includes(r))
    .sort((a, b) => a.rate! - b.rate! || a.name.localeCompare(b.name, 'fr'))
    .slice(0, count);
  return { mostUsed, leastUsed };
}

/** What a ranking of schools may be sorted by, and in which direction a school ranks first. */
export const RANKING_KEYS = {
  incidents: 'desc',
  backlog: 'desc',
  takeInCharge: 'asc',
  resolve: 'asc',
  occupancy: 'desc',
} as const;
export type RankingKey = keyof typeof RANKING_KEYS;

/**
 * Competition ranking ("1, 2, 2, 4"): equal values share a rank. Schools without a value (no incident taken in
 * charge, no opening hours) come last, unranked.
 */
export function rankBy<T>(items: T[], value: (item: T) => number | null, direction: 'asc' | 'desc', tieBreak: (item: T) => string): Array<T & { rank: number | null }> {
  const sign = direction === 'asc' ? 1 : -1;
  const sorted = [...items].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null && vb === null) return tieBreak(a).localeCompare(tieBreak(b), 'fr');
    if (va === null) return 1;
    if (vb === null) return -1;
    return sign * (va - vb) || tieBreak(a).localeCompare(tieBreak(b), 'fr');
  });
  let previous: number | null = null;
  let rank = 0;
  return sorted.map((item, index) => {
    const v = value(item);
    if (v === null) return { ...item, rank: null };
    if (v !== previous) rank = index + 1;
    previous = v;
    return { ...item, rank };
  });
}

/** A number for a spreadsheet in the user's language: a decimal comma in French (the `;` separator allows it). */
export function spreadsheetNumber(value: number | null, lang: string): string {
  if (value === null || !Number.isFinite(value)) return '';
  const text = String(Math.round(value * 10000) / 10000);
  return lang === 'fr' ? text.replace('.', ',') : text;
}
