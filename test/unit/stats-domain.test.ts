import {
  mostAndLeastUsed,
  occupancyRate,
  percentileCont,
  previousSchoolYear,
  rankBy,
  resolvePeriod,
  schoolYearOf,
  wholeSchoolYears,
  spreadsheetNumber,
  weeksOf,
  MAX_PERIOD_DAYS,
} from '../../src/domain/stats';

describe('the school year runs from September to August', () => {
  it.each([
    ['2025-09-01', '2025-09-01', '2026-08-31'],
    ['2025-08-31', '2024-09-01', '2025-08-31'],
    ['2026-01-15', '2025-09-01', '2026-08-31'],
    ['2024-02-29', '2023-09-01', '2024-08-31'],
  ])('%s belongs to %s – %s', (date, from, to) => {
    expect(schoolYearOf(date)).toEqual({ from, to });
  });

  it.each<[string, string, number[] | null]>([
    ['2025-09-01', '2026-08-31', [2025]],
    ['2024-09-01', '2026-08-31', [2024, 2025]],
    ['2025-09-02', '2026-08-31', null],
    ['2025-09-01', '2026-06-30', null],
  ])('%s to %s covers the whole school years %j', (from, to, years) => {
    expect(wholeSchoolYears({ from, to })).toEqual(years);
  });

  it('the previous school year of any period in a year', () => {
    expect(previousSchoolYear({ from: '2025-09-01', to: '2026-08-31' })).toEqual({ from: '2024-09-01', to: '2025-08-31' });
    expect(previousSchoolYear({ from: '2026-02-01', to: '2026-03-01' })).toEqual({ from: '2024-09-01', to: '2025-08-31' });
  });
});

describe('the period of a dashboard', () => {
  // 22:30 UTC on 31 August 2025 is already 00:30 on 1 September in Paris.
  const parisSeptember = new Date('2025-08-31T22:30:00Z');
  it.each<[string, { from?: string; to?: string }, Date, string, unknown]>([
    ['nothing: the current school year, in the school zone', {}, parisSeptember, 'Europe/Paris', { period: { from: '2025-09-01', to: '2026-08-31' } }],
    ['nothing, the same instant in UTC: still last year', {}, parisSeptember, 'UTC', { period: { from: '2024-09-01', to: '2025-08-31' } }],
    ['only from: to the end of its school year', { from: '2025-01-10' }, parisSeptember, 'Europe/Paris', { period: { from: '2025-01-10', to: '2025-08-31' } }],
    ['only to: from the start of its school year', { to: '2025-03-31' }, parisSeptember, 'Europe/Paris', { period: { from: '2024-09-01', to: '2025-03-31' } }],
    ['one day', { from: '2025-03-31', to: '2025-03-31' }, parisSeptember, 'Europe/Paris', { period: { from: '2025-03-31', to: '2025-03-31' } }],
    ['reversed', { from: '2025-03-31', to: '2025-03-30' }, parisSeptember, 'Europe/Paris', { problems: [{ field: 'to', message: 'must not be before from' }] }],
    ['not a date', { from: '2025-02-30' }, parisSeptember, 'Europe/Paris', { problems: [{ field: 'from', message: 'a date YYYY-MM-DD' }] }],
  ])('%s', (_name, input, now, zone, expected) => {
    expect(resolvePeriod(input, zone, now)).toEqual(expected);
  });

  it(`is at most ${MAX_PERIOD_DAYS} days`, () => {
    expect(resolvePeriod({ from: '2022-09-01', to: '2025-08-31' }, 'Europe/Paris', new Date())).toHaveProperty('period');
    expect(resolvePeriod({ from: '2021-09-01', to: '2025-08-31' }, 'Europe/Paris', new Date())).toHaveProperty('problems');
  });

  it('has the Mondays of every week it overlaps', () => {
    expect(weeksOf({ from: '2024-09-01', to: '2024-09-16' })).toEqual(['2024-08-26', '2024-09-02', '2024-09-09', '2024-09-16']);
    expect(weeksOf({ from: '2025-03-31', to: '2025-03-31' })).toEqual(['2025-03-31']);
  });
});

describe('percentiles as PostgreSQL percentile_cont computes them', () => {
  it.each<[number[], number, number | null]>([
    [[], 0.5, null],
    [[7], 0.9, 7],
    [[1, 2], 0.5, 1.5],
    [[4, 1, 3, 2], 0.5, 2.5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1],
    [[0.5, 0.5, 30], 0.9, 24.1],
  ])('%j at %d is %d', (values, p, expected) => {
    const got = percentileCont(values, p);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, 10);
  });
});

describe('occupancy', () => {
  it.each<[number, number, number | null]>([
    [0, 36000, 0],
    [3600, 36000, 0.1],
    [3600, 10800, 0.3333],
    [36000, 36000, 1],
    [3600, 0, null],
  ])('%d booked seconds over %d open is %d', (booked, open, rate) => {
    expect(occupancyRate(booked, open)).toBe(rate);
  });

  it('the most and the least used rooms never overlap, ties read by name', () => {
    const rooms = [
      { id: '1', name: 'Salle 12', rate: 0.5 },
      { id: '2', name: 'CDI', rate: 0 },
      { id: '3', name: 'Salle 14', rate: 0.2 },
      { id: '4', name: 'Atelier', rate: 0 },
      { id: '5', name: 'Fermée', rate: null },
    ];
    const { mostUsed, leastUsed } = mostAndLeastUsed(rooms, 3);
    expect(mostUsed.map((r) => r.name)).toEqual(['Salle 12', 'Salle 14']);
    expect(leastUsed.map((r) => r.name)).toEqual(['Atelier', 'CDI']);
    expect(mostAndLeastUsed([{ id: '1', name: 'Seule', rate: 0.1 }])).toEqual({ mostUsed: [{ id: '1', name: 'Seule', rate: 0.1 }], leastUsed: [] });
    // Nothing booked: no "most used", the least used by name.
    const idle = ['D', 'C', 'B', 'A'].map((name, i) => ({ id: String(i), name, rate: 0 }));
    expect(mostAndLeastUsed(idle, 3)).toEqual({ mostUsed: [], leastUsed: [idle[3], idle[2], idle[1]] });
  });
});

describe('ranking schools', () => {
  const schools = [
    { name: 'B', v: 3 as number | null },
    { name: 'A', v: 3 },
    { name: 'C', v: 1 },
    { name: 'D', v: null },
    { name: 'E', v: 5 },
  ];
  it('shares ranks on ties (1, 2, 2, 4) and puts schools without a value last, unranked', () => {
    expect(rankBy(schools, (s) => s.v, 'desc', (s) => s.name).map((s) => [s.name, s.rank])).toEqual([['E', 1], ['A', 2], ['B', 2], ['C', 4], ['D', null]]);
    expect(rankBy(schools, (s) => s.v, 'asc', (s) => s.name).map((s) => [s.name, s.rank])).toEqual([['C', 1], ['A', 2], ['B', 2], ['E', 4], ['D', null]]);
  });
});

describe('numbers for a spreadsheet', () => {
  it.each<[number | null, string, string]>([
    [3.5, 'fr', '3,5'],
    [3.5, 'en', '3.5'],
    [12, 'fr', '12'],
    [0.123456, 'fr', '0,1235'],
    [null, 'fr', ''],
  ])('%d in %s is %s', (n, lang, text) => {
    expect(spreadsheetNumber(n, lang)).toBe(text);
  });
});
