import fs from 'node:fs';
import path from 'node:path';
import {
  baseLabel,
  CalendarFormatError,
  detectCalendarFormat,
  importMinistryCalendar,
  mergeHolidays,
  schoolYearOf,
  zonesIn,
} from '../../src/domain/school-calendar';

/** Hand-written files in the ministry's formats (see test/fixtures/school-calendar/README.md). */
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'school-calendar', name), 'utf8');
const periods = (r: { holidays: Array<{ from: string; to: string; label: string }> }) => r.holidays.map((h) => `${h.from}..${h.to} ${h.label}`);

describe('the ministry iCalendar file', () => {
  it.each([
    [
      'zone A, every school year: pieces merged, teachers-only and other zones left out',
      { zone: 'A' as const },
      [
        "2025-07-05..2025-08-31 Vacances d'Été",
        '2025-10-18..2025-11-02 Vacances de la Toussaint',
        '2025-12-20..2026-01-04 Vacances de Noël',
        '2026-04-04..2026-04-19 Vacances de Printemps',
        "2026-05-14..2026-05-17 Pont de l'Ascension",
      ],
    ],
    [
      'zone A, school year 2025-2026',
      { zone: 'A' as const, schoolYear: '2025-2026' },
      ['2025-10-18..2025-11-02 Vacances de la Toussaint', '2025-12-20..2026-01-04 Vacances de Noël', '2026-04-04..2026-04-19 Vacances de Printemps', "2026-05-14..2026-05-17 Pont de l'Ascension"],
    ],
    [
      'zone C, school year 2025-2026: its own spring pieces',
      { zone: 'C' as const, schoolYear: '2025-2026' },
      ['2025-10-18..2025-11-02 Vacances de la Toussaint', '2025-12-20..2026-01-04 Vacances de Noël', '2026-04-18..2026-05-03 Vacances de Printemps', "2026-05-14..2026-05-17 Pont de l'Ascension"],
    ],
  ])('%s', (_case, options, expected) => {
    expect(periods(importMinistryCalendar({ format: 'ics', text: fixture('combined.ics'), ...options }))).toEqual(expected);
  });

  it('says what it left out, and why', () => {
    const result = importMinistryCalendar({ format: 'ics', text: fixture('combined.ics'), zone: 'A', schoolYear: '2025-2026' });
    const reasons = Object.fromEntries(result.skipped.map((s) => [`${s.label} ${s.start}`, s.reason]));
    expect(reasons).toMatchObject({
      "Vacances d'Été(prérentrée Enseignants) 2025-08-29": 'teachers_only',
      'Vacances de Printemps 2026-04-20': 'other_zone',
      'Lundi de Pentecôte 2025-06-09': 'other_zone',
      "Vacances d'Été 2025-07-05": 'other_school_year',
      "Début des Vacances d'Été 2026-07-04": 'no_end_date',
    });
    expect(result.read).toBe(11);
    expect(result.schoolYears).toEqual(['2025-2026']);
  });

  it('a one-zone file: zone from the summary, UTC date-times read in Paris time, the summer ended by the next return', () => {
    const result = importMinistryCalendar({ format: 'ics', text: fixture('zone-b.ics'), zone: 'B' });
    expect(periods(result)).toEqual(['2025-10-18..2025-11-02 Vacances de la Toussaint', "2026-02-21..2026-03-08 Vacances d'Hiver", "2026-07-04..2026-08-31 Vacances d'Été"]);
    expect(importMinistryCalendar({ format: 'ics', text: fixture('zone-b.ics'), zone: 'A' }).holidays).toEqual([]);
  });

  it('reads the same whatever the time zone of the process', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'America/Guadeloupe';
      expect(periods(importMinistryCalendar({ format: 'ics', text: fixture('zone-b.ics'), zone: 'B' }))[0]).toBe('2025-10-18..2025-11-02 Vacances de la Toussaint');
    } finally {
      process.env.TZ = before;
    }
  });

  it('refuses what is not an iCalendar file', () => {
    expect(() => importMinistryCalendar({ format: 'ics', text: 'hello', zone: 'A' })).toThrow(CalendarFormatError);
    expect(() => importMinistryCalendar({ format: 'ics', text: 'BEGIN:VCALENDAR\nEND:VCALENDAR\n', zone: 'A' })).toThrow(expect.objectContaining({ code: 'no_entries' }));
  });
});

describe('the open-data CSV export', () => {
  it.each([
    [
      'labels as header, one row per académie, zone A, 2025-2026',
      'calendrier-scolaire.csv',
      { zone: 'A' as const, schoolYear: '2025-2026' },
      [
        '2025-10-18..2025-11-02 Vacances de la Toussaint',
        '2025-12-20..2026-01-04 Vacances de Noël',
        "2026-02-07..2026-02-22 Vacances d'Hiver",
        '2026-04-04..2026-04-19 Vacances de Printemps',
        "2026-05-14..2026-05-17 Pont de l'Ascension",
      ],
    ],
    ['zone C', 'calendrier-scolaire.csv', { zone: 'C' as const, schoolYear: '2025-2026' }, ['2025-12-20..2026-01-04 Vacances de Noël', "2026-02-21..2026-03-08 Vacances d'Hiver"]],
    [
      'every school year of zone A',
      'calendrier-scolaire.csv',
      { zone: 'A' as const },
      [
        '2024-10-19..2024-11-03 Vacances de la Toussaint',
        "2025-07-05..2025-08-31 Vacances d'Été",
        '2025-10-18..2025-11-02 Vacances de la Toussaint',
        '2025-12-20..2026-01-04 Vacances de Noël',
        "2026-02-07..2026-02-22 Vacances d'Hiver",
        '2026-04-04..2026-04-19 Vacances de Printemps',
        "2026-05-14..2026-05-17 Pont de l'Ascension",
      ],
    ],
    [
      'field names as header, commas, plain dates',
      'calendrier-fields.csv',
      { zone: 'A' as const },
      ['2025-10-18..2025-11-02 Vacances de la Toussaint', '2025-12-20..2026-01-04 Vacances de Noël', "2026-02-07..2026-02-22 Vacances d'Hiver"],
    ],
  ])('%s', (_case, file, options, expected) => {
    expect(periods(importMinistryCalendar({ format: 'csv', text: fixture(file), ...options }))).toEqual(expected);
  });

  it('the summer without an end and the teachers-only rows are left out, and said so', () => {
    const result = importMinistryCalendar({ format: 'csv', text: fixture('calendrier-scolaire.csv'), zone: 'A', schoolYear: '2025-2026' });
    expect(result.skipped.filter((s) => s.reason === 'no_end_date').map((s) => s.label)).toEqual(["Vacances d'Été"]);
    expect(result.skipped.filter((s) => s.reason === 'teachers_only').map((s) => s.label)).toEqual(["Vacances d'Été"]);
  });

  it('names the columns it misses', () => {
    try {
      importMinistryCalendar({ format: 'csv', text: 'nom;jour\nNoël;2025-12-20\n', zone: 'A' });
      throw new Error('should have failed');
    } catch (error) {
      expect(error).toBeInstanceOf(CalendarFormatError);
      expect((error as CalendarFormatError).code).toBe('missing_columns');
      expect((error as CalendarFormatError).details.missing).toEqual(['description', 'date_de_debut', 'date_de_fin', 'zones']);
    }
  });
});

describe('helpers', () => {
  it.each([
    ['Zone A', ['A']],
    ['Zones A/B/C - Corse', ['A', 'B', 'C']],
    ['Zones B/C', ['B', 'C']],
    ['Corse', []],
    ['Guadeloupe', []],
  ])('zones in %s', (text, zones) => {
    expect([...zonesIn(text)!].sort()).toEqual(zones);
  });

  it('no text, no zone information', () => {
    expect(zonesIn('')).toBeNull();
  });

  it.each([
    ['2025-09-01', '2025-2026'],
    ['2025-12-31', '2025-2026'],
    ['2026-07-04', '2025-2026'],
    ['2026-08-31', '2025-2026'],
  ])('school year of %s', (date, year) => {
    expect(schoolYearOf(date)).toBe(year);
  });

  it('labels lose their zone suffix', () => {
    expect(baseLabel('Vacances de la Toussaint - Zones A/B/C - Corse')).toBe('Vacances de la Toussaint');
    expect(baseLabel('Lundi de Pentecôte - Corse')).toBe('Lundi de Pentecôte');
  });

  it('the format is told by the content', () => {
    expect(detectCalendarFormat('\uFEFFBEGIN:VCALENDAR\n')).toBe('ics');
    expect(detectCalendarFormat('Description;Population\n')).toBe('csv');
  });

  it('an import adds new periods, relabels the same dates, keeps the ones typed by hand', () => {
    const existing = [
      { from: '2025-10-18', to: '2025-11-02', label: 'Toussaint' },
      { from: '2026-06-01', to: '2026-06-01', label: 'Journée banalisée' },
    ];
    const imported = [
      { from: '2025-10-18', to: '2025-11-02', label: 'Vacances de la Toussaint' },
      { from: '2025-12-20', to: '2026-01-04', label: 'Vacances de Noël' },
    ];
    expect(mergeHolidays(existing, imported)).toEqual({
      holidays: [
        { from: '2025-10-18', to: '2025-11-02', label: 'Vacances de la Toussaint' },
        { from: '2025-12-20', to: '2026-01-04', label: 'Vacances de Noël' },
        { from: '2026-06-01', to: '2026-06-01', label: 'Journée banalisée' },
      ],
      added: 1,
      updated: 1,
    });
  });
});
