import { expandOccurrences, parseInstant, ruleViolations, withinOpeningHours, weekOf, overlaps } from '../../src/domain/bookings';
import { mayCancelBooking, maySeeBookingOwner } from '../../src/domain/policies';

const Z = 'Europe/Paris';
const d = (iso: string) => new Date(iso);

describe('parseInstant', () => {
  it.each([
    ['2027-01-12T10:00:00+01:00', '2027-01-12T09:00:00.000Z'],
    ['2027-01-12T09:00:00Z', '2027-01-12T09:00:00.000Z'],
    ['2027-01-12T10:00', '2027-01-12T09:00:00.000Z'],
    ['2027-07-12T10:00', '2027-07-12T08:00:00.000Z'],
    ['2027-10-31T02:30', '2027-10-31T01:30:00.000Z'], // the hour that happens twice in autumn: the second one (standard time)
  ])('%s -> %s', (input, expected) => {
    expect(parseInstant(input, Z)!.toISOString()).toBe(expected);
  });
  it.each(['2027-03-28T02:30', '2027-02-30T10:00', 'demain', '2027-01-12', '2027-01-12T25:00'])('refuses %s', (input) => {
    expect(parseInstant(input, Z)).toBeNull();
  });
});

describe('expandOccurrences', () => {
  it('keeps 10:00 local across the October change', () => {
    const { occurrences } = expandOccurrences({ startsAt: d('2027-10-26T08:00:00Z'), endsAt: d('2027-10-26T09:00:00Z'), zone: Z, recurrence: { intervalWeeks: 1, until: '2027-11-02' } });
    expect(occurrences.map((o) => o.startsAt.toISOString())).toEqual(['2027-10-26T08:00:00.000Z', '2027-11-02T09:00:00.000Z']);
  });
  it('skips holidays and reports them', () => {
    const r = expandOccurrences({
      startsAt: d('2027-02-01T09:00:00Z'),
      endsAt: d('2027-02-01T10:00:00Z'),
      zone: Z,
      recurrence: { intervalWeeks: 1, until: '2027-02-22' },
      holidays: [{ from: '2027-02-13', to: '2027-02-28', label: "Vacances d'hiver" }],
    });
    expect(r.occurrences.map((o) => o.date)).toEqual(['2027-02-01', '2027-02-08']);
    expect(r.skipped.map((s) => s.date)).toEqual(['2027-02-15', '2027-02-22']);
  });
  it('a single booking is one occurrence', () => {
    expect(expandOccurrences({ startsAt: d('2027-02-01T09:00:00Z'), endsAt: d('2027-02-01T10:00:00Z'), zone: Z }).occurrences).toHaveLength(1);
  });
});

describe('rules of a type', () => {
  const now = d('2027-01-04T08:00:00Z');
  const base = { minNoticeMinutes: 0, maxNoticeDays: null, maxLengthMinutes: null, withinOpeningHours: false };
  const hours = { mon: [['08:00', '18:00']] as Array<[string, string]>, wed: [['08:00', '12:30']] as Array<[string, string]> };
  it.each([
    ['in the past', { startsAt: d('2027-01-04T07:00:00Z'), endsAt: d('2027-01-04T09:00:00Z') }, base, ['in_the_past']],
    ['too short notice', { startsAt: d('2027-01-04T08:30:00Z'), endsAt: d('2027-01-04T09:00:00Z') }, { ...base, minNoticeMinutes: 60 }, ['min_notice']],
    ['too far ahead', { startsAt: d('2027-03-04T08:30:00Z'), endsAt: d('2027-03-04T09:00:00Z') }, { ...base, maxNoticeDays: 30 }, ['max_notice']],
    ['too long', { startsAt: d('2027-01-04T09:00:00Z'), endsAt: d('2027-01-04T13:00:00Z') }, { ...base, maxLengthMinutes: 120 }, ['max_length']],
    ['outside opening hours', { startsAt: d('2027-01-06T11:00:00Z'), endsAt: d('2027-01-06T12:00:00Z') }, { ...base, withinOpeningHours: true }, ['opening_hours']],
    ['inside opening hours', { startsAt: d('2027-01-06T10:00:00Z'), endsAt: d('2027-01-06T11:30:00Z') }, { ...base, withinOpeningHours: true }, []],
  ])('%s', (_label, occurrence, rules, expected) => {
    expect(ruleViolations(occurrence, rules, { now, zone: Z, openingHours: hours }).map((v) => v.rule)).toEqual(expected);
  });
  it('ending exactly at closing time is within opening hours', () => {
    expect(withinOpeningHours({ startsAt: d('2027-01-04T16:00:00Z'), endsAt: d('2027-01-04T17:00:00Z') }, Z, { mon: [['08:00', '18:00']] })).toBe(true);
  });
});

describe('weeks and overlaps', () => {
  it('the ISO week of a date starts on Monday', () => {
    const w = weekOf('2027-01-07', Z, new Date());
    expect(w.days[0]).toBe('2027-01-04');
    expect(w.isoWeek).toBe('2027-W01');
    expect(weekOf('2027-W01', Z, new Date()).days[6]).toBe('2027-01-10');
  });
  it('half-open intervals that touch do not overlap', () => {
    expect(overlaps({ startsAt: d('2027-01-01T10:00:00Z'), endsAt: d('2027-01-01T11:00:00Z') }, { startsAt: d('2027-01-01T11:00:00Z'), endsAt: d('2027-01-01T12:00:00Z') })).toBe(false);
    expect(overlaps({ startsAt: d('2027-01-01T10:00:00Z'), endsAt: d('2027-01-01T11:00:00Z') }, { startsAt: d('2027-01-01T10:59:00Z'), endsAt: d('2027-01-01T12:00:00Z') })).toBe(true);
  });
});

describe('booking policies', () => {
  it.each([
    [{ id: 'a', actions: ['booking.book'] }, 'a', true],
    [{ id: 'a', actions: ['booking.book'] }, 'b', false],
    [{ id: 'a', actions: ['booking.validate'] }, 'b', true],
    [{ id: 'a', actions: ['module.configure'] }, 'b', true],
  ])('%j cancels a booking of %s: %s', (actor, ownerId, expected) => {
    expect(mayCancelBooking(actor, { ownerId, status: 'validated' })).toBe(expected);
  });
  it('owners are hidden from colleagues when the school says so', () => {
    expect(maySeeBookingOwner({ id: 'a', actions: ['booking.book'] }, { ownerId: 'b' }, false)).toBe(false);
    expect(maySeeBookingOwner({ id: 'a', actions: ['booking.validate'] }, { ownerId: 'b' }, false)).toBe(true);
  });
});
