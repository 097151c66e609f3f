import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Holiday, OpeningHours } from '../../src/domain/bookings';
import {
  addDays,
  addSchoolHours,
  dueTimes,
  isOverdue,
  nextDueAt,
  SchoolCalendar,
  schoolHoursBetween,
} from '../../src/domain/service-clock';

const ZONE = 'Europe/Paris';
/** A wall-clock time in Paris. */
const p = (local: string) => DateTime.fromISO(local, { zone: ZONE }).toJSDate();
const local = (d: Date | null) => (d ? DateTime.fromJSDate(d, { zone: ZONE }).toFormat("yyyy-MM-dd'T'HH:mm") : null);

/** A collège: split days (08:00-12:00, 13:30-17:30), Wednesday afternoon off, closed at the weekend. */
const SPLIT: OpeningHours = {
  mon: [['08:00', '12:00'], ['13:30', '17:30']],
  tue: [['13:30', '17:30'], ['08:00', '12:00']], // any order
  wed: [['08:00', '12:00']],
  thu: [['08:00', '12:00'], ['13:30', '17:30']],
  fri: [['08:00', '12:00'], ['13:30', '17:30']],
  sat: [],
  sun: [],
};
/** Test fixtures (not the ministry's calendar): a Toussaint and a Christmas holiday of the 2026-2027 school year. */
const HOLIDAYS: Holiday[] = [
  { from: '2026-10-17', to: '2026-11-01', label: 'Toussaint (test)' },
  { from: '2026-12-19', to: '2027-01-03', label: 'Noël (test)' },
];
const SCHOOL: SchoolCalendar = { zone: ZONE, openingHours: SPLIT, holidays: HOLIDAYS };
const NO_HOLIDAYS: SchoolCalendar = { zone: ZONE, openingHours: SPLIT, holidays: [] };
const WEEKDAYS_8_18: SchoolCalendar = {
  zone: ZONE,
  openingHours: { mon: [['08:00', '18:00']], tue: [['08:00', '18:00']], wed: [['08:00', '18:00']], thu: [['08:00', '18:00']], fri: [['08:00', '18:00']] },
  holidays: [],
};
const ALWAYS: SchoolCalendar = {
  zone: ZONE,
  openingHours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]])) as OpeningHours,
  holidays: [],
};

describe('addSchoolHours: the due time of a target', () => {
  it.each([
    // [case, calendar, start (Paris), hours, due (Paris)]
    ['inside opening hours', SCHOOL, '2026-10-06T09:00', 2, '2026-10-06T11:00'],
    ['inside, across the lunch break', SCHOOL, '2026-10-06T11:00', 2, '2026-10-06T14:30'],
    ['a quarter of an hour', SCHOOL, '2026-10-06T09:00', 0.25, '2026-10-06T09:15'],
    ['before opening', SCHOOL, '2026-10-06T06:30', 1, '2026-10-06T09:00'],
    ['during the lunch break', SCHOOL, '2026-10-06T12:15', 1, '2026-10-06T14:30'],
    ['after closing: the next morning', SCHOOL, '2026-10-06T19:00', 1, '2026-10-07T09:00'],
    ['Wednesday afternoon off', SCHOOL, '2026-10-07T11:00', 2, '2026-10-08T09:00'],
    ['declared on a Wednesday afternoon', SCHOOL, '2026-10-07T14:00', 1, '2026-10-08T09:00'],
    ['across a weekend', SCHOOL, '2026-10-09T16:00', 3, '2026-10-12T09:30'],
    ['declared on a Sunday', SCHOOL, '2026-10-11T15:00', 1, '2026-10-12T09:00'],
    ['Friday 17:00 with 8 hours to go: the next school day', SCHOOL, '2026-10-09T17:00', 8, '2026-10-12T17:00'],
    ['Friday 17:00 with 8 hours to go before the holidays: after them', SCHOOL, '2026-10-16T17:00', 8, '2026-11-02T17:00'],
    ['declared during the holidays', SCHOOL, '2026-10-21T10:00', 1, '2026-11-02T09:00'],
    ['across the year-end holidays', SCHOOL, '2026-12-18T17:00', 1, '2027-01-04T08:30'],
    ['a target that ends exactly at closing time', SCHOOL, '2026-10-06T13:30', 4, '2026-10-06T17:30'],
    ['exactly at the last closing before the holidays', SCHOOL, '2026-10-16T16:30', 1, '2026-10-16T17:30'],
    ['exactly at the Wednesday noon closing', SCHOOL, '2026-10-07T08:00', 4, '2026-10-07T12:00'],
    ['from a closing time', SCHOOL, '2026-10-06T17:30', 0.5, '2026-10-07T08:30'],
    ['40 hours: a week of school', SCHOOL, '2026-10-05T08:00', 40, '2026-10-12T12:00'],
    ['across the spring change (last Sunday of March)', NO_HOLIDAYS, '2026-03-27T16:00', 8, '2026-03-30T16:00'],
    ['across the autumn change (last Sunday of October)', NO_HOLIDAYS, '2026-10-23T16:00', 8, '2026-10-26T16:00'],
    ['8:00-18:00 across the spring change', WEEKDAYS_8_18, '2026-03-27T17:00', 8, '2026-03-30T15:00'],
    ['8:00-18:00 across the autumn change', WEEKDAYS_8_18, '2026-10-23T17:00', 8, '2026-10-26T15:00'],
    ['round the clock, across the spring change: 24 real hours', ALWAYS, '2026-03-28T12:00', 24, '2026-03-29T13:00'],
    ['round the clock, across the autumn change: 24 real hours', ALWAYS, '2026-10-24T12:00', 24, '2026-10-25T11:00'],
  ] as const)('%s', (_case, cal, start, hours, due) => {
    expect(local(addSchoolHours(p(start), hours, cal))).toBe(due);
  });

  it('across both changes, the due time is counted in real hours (UTC offsets differ)', () => {
    const spring = addSchoolHours(p('2026-03-27T17:00'), 8, WEEKDAYS_8_18)!;
    expect(spring.toISOString()).toBe('2026-03-30T13:00:00.000Z'); // 15:00 in summer time (UTC+2)
    const autumn = addSchoolHours(p('2026-10-23T17:00'), 8, WEEKDAYS_8_18)!;
    expect(autumn.toISOString()).toBe('2026-10-26T14:00:00.000Z'); // 15:00 in winter time (UTC+1)
  });

  it('zero hours is the start itself', () => {
    expect(addSchoolHours(p('2026-10-10T03:00'), 0, SCHOOL)!.getTime()).toBe(p('2026-10-10T03:00').getTime());
  });

  it('a school that never opens has no due time', () => {
    expect(addSchoolHours(p('2026-10-06T09:00'), 8, { zone: ZONE, openingHours: {}, holidays: [] })).toBeNull();
    expect(addSchoolHours(p('2026-10-06T09:00'), 8, { zone: ZONE, openingHours: SPLIT, holidays: [{ from: '2000-01-01', to: '2099-12-31', label: 'x' }] })).toBeNull();
  });

  it('refuses a negative target', () => {
    expect(() => addSchoolHours(new Date(), -1, SCHOOL)).toThrow(RangeError);
  });

  it('overlapping periods count once', () => {
    const cal: SchoolCalendar = { zone: ZONE, openingHours: { tue: [['08:00', '12:00'], ['10:00', '14:00']] }, holidays: [] };
    expect(local(addSchoolHours(p('2026-10-06T08:00'), 6, cal))).toBe('2026-10-06T14:00');
    expect(schoolHoursBetween(p('2026-10-06T00:00'), p('2026-10-07T00:00'), cal)).toBe(6);
  });
});

describe('schoolHoursBetween: the time taken, in school hours', () => {
  it.each([
    ['inside one period', SCHOOL, '2026-10-06T09:00', '2026-10-06T11:00', 2],
    ['across the lunch break', SCHOOL, '2026-10-06T11:00', '2026-10-06T14:30', 2],
    ['outside opening hours only', SCHOOL, '2026-10-06T18:00', '2026-10-07T07:00', 0],
    ['a Wednesday and its afternoon off', SCHOOL, '2026-10-07T08:00', '2026-10-08T08:00', 4],
    ['across a weekend', SCHOOL, '2026-10-09T16:00', '2026-10-12T09:30', 3],
    ['across a holiday period', SCHOOL, '2026-10-16T17:00', '2026-11-02T17:00', 8],
    ['entirely inside the holidays', SCHOOL, '2026-10-19T08:00', '2026-10-30T18:00', 0],
    ['a whole school week', SCHOOL, '2026-10-05T00:00', '2026-10-12T00:00', 36],
    ['across the spring change (split days)', NO_HOLIDAYS, '2026-03-27T16:00', '2026-03-30T16:00', 8],
    ['across the autumn change (split days)', NO_HOLIDAYS, '2026-10-23T16:00', '2026-10-26T16:00', 8],
    ['round the clock over the spring change: 47 hours in two days', ALWAYS, '2026-03-28T00:00', '2026-03-30T00:00', 47],
    ['round the clock over the autumn change: 49 hours in two days', ALWAYS, '2026-10-24T00:00', '2026-10-26T00:00', 49],
    ['the end before the start', SCHOOL, '2026-10-06T11:00', '2026-10-06T09:00', 0],
  ] as const)('%s', (_case, cal, from, to, hours) => {
    expect(schoolHoursBetween(p(from), p(to), cal)).toBeCloseTo(hours, 9);
  });

  it('adding hours then counting them gives them back (any start, any target, any of the calendars)', () => {
    const calendars = [SCHOOL, NO_HOLIDAYS, WEEKDAYS_8_18, ALWAYS];
    const start0 = p('2026-01-01T00:00').getTime();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 24 * 60 }), fc.integer({ min: 1, max: 200 * 4 }), fc.integer({ min: 0, max: 3 }), (minutes, quarters, k) => {
        const start = new Date(start0 + minutes * 60_000);
        const cal = calendars[k]!;
        const due = addSchoolHours(start, quarters / 4, cal)!;
        expect(due.getTime()).toBeGreaterThanOrEqual(start.getTime());
        expect(schoolHoursBetween(start, due, cal)).toBeCloseTo(quarters / 4, 6);
      }),
      { numRuns: 300 },
    );
  });
});

describe('due times, overdue and the inbox order', () => {
  it('dueTimes gives both targets from one origin', () => {
    const due = dueTimes(p('2026-10-09T17:00'), { takeInChargeHours: 8, resolveHours: 40 }, SCHOOL);
    expect(local(due.takeInChargeDueAt)).toBe('2026-10-12T17:00');
    // 40 h: Friday 0.5, then Mon 8, Tue 8, Wed 4, Thu 8, Fri 8 (36.5), the Toussaint holidays, and 3.5 on Monday 2 November.
    expect(local(due.resolveDueAt)).toBe('2026-11-02T11:30');
  });

  const due = { takeInChargeDueAt: p('2026-10-12T17:00'), resolveDueAt: p('2026-10-19T12:00') };
  it.each([
    ['before the first due time', { ...due, takenAt: null, resolvedAt: null }, '2026-10-12T16:59', false],
    ['not taken in charge in time', { ...due, takenAt: null, resolvedAt: null }, '2026-10-12T17:01', true],
    ['taken in charge late, not yet due to resolve', { ...due, takenAt: p('2026-10-13T08:00'), resolvedAt: null }, '2026-10-13T09:00', false],
    ['taken, not resolved in time', { ...due, takenAt: p('2026-10-12T09:00'), resolvedAt: null }, '2026-10-19T12:01', true],
    ['resolved late: no longer overdue', { ...due, takenAt: p('2026-10-12T09:00'), resolvedAt: p('2026-10-20T09:00') }, '2026-10-21T09:00', false],
    ['no due time (a school that never opens)', { takeInChargeDueAt: null, resolveDueAt: null, takenAt: null, resolvedAt: null }, '2030-01-01T00:00', false],
  ] as const)('overdue: %s', (_case, facts, now, expected) => {
    expect(isOverdue(facts, p(now))).toBe(expected);
  });

  it('the inbox goes by the take-in-charge due time while new, by the resolve due time after', () => {
    expect(nextDueAt({ status: 'new', ...due })).toBe(due.takeInChargeDueAt);
    expect(nextDueAt({ status: 'taken', ...due })).toBe(due.resolveDueAt);
    expect(nextDueAt({ status: 'in_progress', ...due })).toBe(due.resolveDueAt);
  });

  it('addDays is calendar arithmetic', () => {
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31');
  });
});
