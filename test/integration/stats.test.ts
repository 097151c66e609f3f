import { DateTime } from 'luxon';
import { parse } from 'csv-parse/sync';
import { startTestHost, TestHost } from '../helpers/host';
import { refreshSummaries } from '../../src/services/stats-summary';
import { staleSummaries } from '../../src/store/stats';
import { crossSchoolStats, liveCrossGate, schoolStats, SchoolStats } from '../../src/services/stats';

/**
 * The statistics of a seeded school: every figure the API gives is computed again here, independently, from the
 * factories' own data (luxon for the school's zone, a percentile written out below), for the school year 2024-2025
 * in Europe/Paris, with incidents on both daylight-saving changes and at the period's edges.
 */

const ZONE = 'Europe/Paris';
const FROM = '2024-09-01';
const TO = '2025-08-31';
const PERIOD = `from=${FROM}&to=${TO}`;
const START = DateTime.fromISO(FROM, { zone: ZONE });
const END = DateTime.fromISO(TO, { zone: ZONE }).plus({ days: 1 });
const OPEN = ['new', 'taken', 'in_progress'];
const RESOLVED = ['closed', 'dismissed'];

let h: TestHost;
const ids: Record<string, Record<string, Record<string, string>>> = {};

/** A move; `reopened` is the reporter's "not fixed" (the service clock's confirmation), any other a referent's. */
type Move = [at: string, to: string, kind?: 'reopened'];
interface Spec {
  school: 'college-a' | 'college-b';
  at: string;
  equipment: string;
  type: string;
  severity: string;
  moves?: Move[];
  description?: string;
}
interface Seeded extends Spec {
  id: string;
  created: DateTime;
  events: Array<{ at: DateTime; from: string; to: string; kind: string }>;
  status: string;
  takenAt: DateTime | null;
  resolvedAt: DateTime | null;
}
const seeded: Seeded[] = [];

/** Declares an incident the way the workflow would have left it: its events, its status, taken_at and resolved_at. */
async function incident(spec: Spec): Promise<Seeded> {
  const knex = h.db.knex;
  const created = DateTime.fromISO(spec.at, { zone: 'UTC' });
  let status = 'new';
  const events: Seeded['events'] = [];
  let takenAt: DateTime | null = null;
  let resolvedAt: DateTime | null = null;
  for (const [at, to, kind] of spec.moves ?? []) {
    const when = DateTime.fromISO(at, { zone: 'UTC' });
    events.push({ at: when, from: status, to, kind: kind ?? 'status_changed' });
    if (status === 'new') takenAt = when;
    resolvedAt = RESOLVED.includes(to) ? when : null;
    status = to;
  }
  const [row] = await knex('rsv_incidents')
    .insert({
      structure_id: spec.school,
      equipment_id: ids[spec.school]!.equipment![spec.equipment],
      type_id: ids[spec.school]!.type![spec.type],
      severity_id: ids[spec.school]!.severity![spec.severity],
      description: spec.description ?? `Panne ${spec.equipment}`,
      reporter_id: spec.school === 'college-a' ? 'u-enseignant' : 'u-enseignant2',
      status,
      created_at: created.toJSDate(),
      updated_at: created.toJSDate(),
      last_event_at: created.toJSDate(),
      taken_at: takenAt?.toJSDate() ?? null,
      resolved_at: resolvedAt?.toJSDate() ?? null,
    })
    .returning('id');
  const id = String(row.id);
  await knex('rsv_incident_events').insert({ incident_id: id, structure_id: spec.school, kind: 'created', actor_id: 'u-enseignant', to_status: 'new', created_at: created.toJSDate() });
  for (const e of events) {
    await knex('rsv_incident_events').insert({ incident_id: id, structure_id: spec.school, kind: e.kind, actor_id: 'u-referent1', from_status: e.from, to_status: e.to, created_at: e.at.toJSDate() });
  }
  // A comment counts in the export's history, never in a figure.
  await knex('rsv_incident_events').insert({ incident_id: id, structure_id: spec.school, kind: 'comment', actor_id: 'u-referent1', comment: 'vu', created_at: created.plus({ minutes: 5 }).toJSDate() });
  const s: Seeded = { ...spec, id, created, events, status, takenAt, resolvedAt };
  seeded.push(s);
  return s;
}

const DESCRIPTION_TRICKY = 'Écran noir ; le vidéoprojecteur dit "pas de signal"\net l\'élève a dû recopier à la main';
const DESCRIPTION_FORMULA = '=HYPERLINK("http://exemple.test";"clic")';

const SPECS: Spec[] = [
  // Declared before the period, still open at its start, taken before it and closed during it.
  { school: 'college-a', at: '2024-08-20T08:00:00Z', equipment: 'demo-projector-12', type: 'hardware', severity: 'repair', moves: [['2024-08-26T07:00:00Z', 'taken'], ['2024-10-02T12:00:00Z', 'closed']] },
  // Sunday 1 September 00:30 in Paris, still 31 August in UTC: inside the period.
  { school: 'college-a', at: '2024-08-31T22:30:00Z', equipment: 'demo-projector-12', type: 'hardware', severity: 'malfunction', moves: [['2024-09-02T06:15:00Z', 'taken'], ['2024-09-03T14:00:00Z', 'closed']] },
  // Closed, reopened by its reporter ("not fixed"), closed again.
  { school: 'college-a', at: '2024-09-02T05:45:00Z', equipment: 'demo-iwb-14', type: 'iwb', severity: 'malfunction', moves: [['2024-09-02T09:00:00Z', 'in_progress'], ['2024-09-06T10:00:00Z', 'closed'], ['2024-09-09T07:00:00Z', 'in_progress', 'reopened'], ['2024-09-17T15:30:00Z', 'closed']] },
  { school: 'college-a', at: '2024-09-10T12:20:00Z', equipment: 'demo-printer-cdi', type: 'software', severity: 'update', moves: [['2024-09-10T12:50:00Z', 'dismissed']] },
  // 01:30 summer time, just before the October change; taken at 02:30 winter time, after it.
  { school: 'college-a', at: '2024-10-26T23:30:00Z', equipment: 'demo-room-12', type: 'wifi', severity: 'malfunction', moves: [['2024-10-27T01:30:00Z', 'taken']] },
  { school: 'college-a', at: '2024-10-27T01:30:00Z', equipment: 'demo-projector-12', type: 'hardware', severity: 'repair' },
  { school: 'college-a', at: '2024-12-16T14:05:00Z', equipment: 'demo-iwb-14', type: 'iwb', severity: 'replacement', moves: [['2024-12-17T08:00:00Z', 'taken'], ['2025-01-06T09:00:00Z', 'in_progress']] },
  // The first Monday of summer time.
  { school: 'college-a', at: '2025-03-31T06:59:00Z', equipment: 'demo-projector-12', type: 'hardware', severity: 'malfunction', moves: [['2025-03-31T07:30:00Z', 'taken'], ['2025-04-01T13:00:00Z', 'closed']], description: DESCRIPTION_TRICKY },
  { school: 'college-a', at: '2025-06-13T09:00:00Z', equipment: 'demo-printer-cdi', type: 'internet', severity: 'installation', moves: [['2025-06-16T06:00:00Z', 'taken'], ['2025-06-20T16:00:00Z', 'closed']], description: DESCRIPTION_FORMULA },
  // Monday 1 September 2025 00:30 in Paris: after the period (but still open now).
  { school: 'college-a', at: '2025-08-31T22:30:00Z', equipment: 'demo-projector-12', type: 'hardware', severity: 'repair' },
  // Sunday 31 August 2025 23:30 in Paris: the period's last day; closed only after the period.
  { school: 'college-a', at: '2025-08-31T21:30:00Z', equipment: 'demo-iwb-14', type: 'wifi', severity: 'malfunction', moves: [['2025-09-02T07:00:00Z', 'closed']] },
  // Another school's incidents never show in college-a's figures.
  { school: 'college-b', at: '2024-11-05T10:00:00Z', equipment: 'demo-projector-b1', type: 'hardware', severity: 'repair', moves: [['2024-11-05T12:00:00Z', 'taken']] },
  { school: 'college-b', at: '2025-02-03T08:00:00Z', equipment: 'demo-projector-b1', type: 'wifi', severity: 'malfunction' },
];

/** The school's opening hours and holidays for the occupancy figures. */
const OPENING: Record<number, Array<[string, string]>> = {
  1: [['08:00', '12:00'], ['13:00', '17:00']],
  2: [['08:00', '12:00'], ['13:00', '17:00']],
  3: [['08:00', '12:00']],
  4: [['08:00', '12:00'], ['13:00', '17:00']],
  5: [['08:00', '12:00'], ['13:00', '17:00']],
  6: [],
  7: [],
};
const HOLIDAYS = [
  { from: '2024-10-19', to: '2024-11-03', label: 'Toussaint' },
  { from: '2024-12-21', to: '2025-01-05', label: 'Noël' },
];

interface BookingSpec {
  equipment: string;
  from: string;
  to: string;
  status?: string;
}
/** Wall-clock times in Paris. */
const BOOKINGS: BookingSpec[] = [
  { equipment: 'demo-room-12', from: '2024-09-09T10:00', to: '2024-09-09T11:00' },
  // Over the lunch break: only 11-12 and 13-14 are opening hours.
  { equipment: 'demo-room-12', from: '2024-09-10T11:00', to: '2024-09-10T14:00' },
  // Over two days: 16-17 on Tuesday and 8-9 on Wednesday.
  { equipment: 'demo-room-14', from: '2024-09-10T16:00', to: '2024-09-11T09:00' },
  // A Saturday and a holiday: the school is closed.
  { equipment: 'demo-room-14', from: '2024-09-14T09:00', to: '2024-09-14T12:00' },
  { equipment: 'demo-room-info', from: '2024-10-22T09:00', to: '2024-10-22T10:00' },
  { equipment: 'demo-room-info', from: '2025-03-31T10:00', to: '2025-03-31T11:00' },
  // Pending and cancelled bookings do not occupy a room.
  { equipment: 'demo-room-12', from: '2024-09-12T09:00', to: '2024-09-12T10:00', status: 'pending' },
  { equipment: 'demo-room-12', from: '2024-09-12T10:00', to: '2024-09-12T11:00', status: 'cancelled' },
  // Before the period, and across its start.
  { equipment: 'demo-room-cdi', from: '2024-08-30T09:00', to: '2024-08-30T10:00' },
  { equipment: 'demo-room-cdi', from: '2024-08-31T23:00', to: '2024-09-02T09:00' },
  { equipment: 'demo-tablets', from: '2025-01-06T08:00', to: '2025-01-06T17:00' },
];

beforeAll(async () => {
  h = await startTestHost();
  const knex = h.db.knex;
  for (const school of ['college-a', 'college-b']) {
    const pick = async (table: string) =>
      Object.fromEntries((await knex(table).where({ structure_id: school }).whereNotNull('seed_code').select('id', 'seed_code')).map((r: { id: string; seed_code: string }) => [r.seed_code, String(r.id)]));
    ids[school] = { equipment: await pick('rsv_equipment'), type: await pick('rsv_incident_types'), severity: await pick('rsv_severities') };
  }
  for (const spec of SPECS) await incident(spec);
  await knex('rsv_structure_settings')
    .where({ structure_id: 'college-a' })
    .update({ opening_hours: JSON.stringify({ mon: OPENING[1], tue: OPENING[2], wed: OPENING[3], thu: OPENING[4], fri: OPENING[5], sat: [], sun: [] }), holidays: JSON.stringify(HOLIDAYS) });
  for (const b of BOOKINGS) {
    await knex('rsv_bookings').insert({
      structure_id: 'college-a',
      equipment_id: ids['college-a']!.equipment![b.equipment],
      owner_id: 'u-enseignant',
      starts_at: DateTime.fromISO(b.from, { zone: ZONE }).toJSDate(),
      ends_at: DateTime.fromISO(b.to, { zone: ZONE }).toJSDate(),
      status: b.status ?? 'validated',
    });
  }
});
afterAll(async () => {
  await h.stop();
});

// ---- the independent computations ---------------------------------------------------------------------------

function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const pos = p * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}
const r2 = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);
const local = (d: DateTime) => d.setZone(ZONE);
const inPeriod = (d: DateTime) => d >= START && d < END;
const monday = (d: DateTime) => local(d).startOf('week').toISODate()!;

function durations(list: Seeded[]) {
  const take = list.filter((i) => i.takenAt).map((i) => i.takenAt!.diff(i.created, 'hours').hours);
  const resolve = list.filter((i) => i.resolvedAt).map((i) => i.resolvedAt!.diff(i.created, 'hours').hours);
  return {
    takeInChargeHours: { median: r2(percentile(take, 0.5)), p90: r2(percentile(take, 0.9)), count: take.length },
    resolveHours: { median: r2(percentile(resolve, 0.5)), p90: r2(percentile(resolve, 0.9)), count: resolve.length },
  };
}

/** Open at instant T: declared before T, and its last move before T leaves it in an open status. */
function openAt(list: Seeded[], t: DateTime): number {
  return list.filter((i) => {
    if (i.created >= t) return false;
    const before = i.events.filter((e) => e.at < t);
    return OPEN.includes(before.length ? before[before.length - 1]!.to : 'new');
  }).length;
}

function weeksOfPeriod(): string[] {
  const weeks: string[] = [];
  for (let d = START.startOf('week'); d < END; d = d.plus({ weeks: 1 })) weeks.push(d.toISODate()!);
  return weeks;
}

function expectedIncidents(school: string) {
  const all = seeded.filter((i) => i.school === school);
  const declared = all.filter((i) => inPeriod(i.created));
  const moves = all.flatMap((i) => i.events).filter((e) => inPeriod(e.at));
  const count = <T>(items: T[], key: (x: T) => string | number) => {
    const m = new Map<string | number, number>();
    for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
    return m;
  };
  const work = <K extends string | number>(key: (d: DateTime) => K, k: K) => ({
    declared: declared.filter((i) => key(local(i.created)) === k).length,
    taken: moves.filter((e) => e.from === 'new' && key(local(e.at)) === k).length,
    resolved: moves.filter((e) => RESOLVED.includes(e.to) && key(local(e.at)) === k).length,
  });
  const byEquipment = [...count(declared, (i) => ids[school]!.equipment![i.equipment]!).entries()]
    .map(([id, n]) => ({ id: String(id), count: n, open: declared.filter((i) => ids[school]!.equipment![i.equipment] === id && OPEN.includes(i.status)).length }))
    .sort((a, b) => b.count - a.count || Number(a.id) - Number(b.id));
  return {
    all,
    declared,
    total: declared.length,
    byStatus: Object.fromEntries(['new', 'taken', 'in_progress', 'dismissed', 'closed'].map((s) => [s, declared.filter((i) => i.status === s).length])),
    byType: count(declared, (i) => ids[school]!.type![i.type]!),
    bySeverity: count(declared, (i) => ids[school]!.severity![i.severity]!),
    byEquipment,
    byWeekday: [1, 2, 3, 4, 5, 6, 7].map((d) => ({ weekday: d, ...work((x) => x.weekday, d) })),
    byHour: Array.from({ length: 24 }, (_, hr) => ({ hour: hr, ...work((x) => x.hour, hr) })),
    byWeek: weeksOfPeriod().map((w) => {
      const weekEnd = DateTime.fromISO(w, { zone: ZONE }).plus({ weeks: 1 });
      return { weekStart: w, ...work((x) => monday(x), w), backlog: openAt(all, weekEnd < END ? weekEnd : END) };
    }),
    ...durations(declared),
    backlogAtEnd: openAt(all, END),
  };
}

function expectedOccupancy(rooms: Array<{ id: string; name: string }>) {
  const open: Array<{ day: string; week: string; from: DateTime; to: DateTime }> = [];
  for (let d = START; d < END; d = d.plus({ days: 1 })) {
    const day = d.toISODate()!;
    if (HOLIDAYS.some((hd) => hd.from <= day && day <= hd.to)) continue;
    for (const [a, b] of OPENING[d.weekday]!) {
      open.push({ day, week: d.startOf('week').toISODate()!, from: DateTime.fromISO(`${day}T${a}`, { zone: ZONE }), to: DateTime.fromISO(`${day}T${b}`, { zone: ZONE }) });
    }
  }
  const booked = new Map<string, number>();
  const bookedWeek = new Map<string, number>();
  for (const b of BOOKINGS.filter((x) => (x.status ?? 'validated') === 'validated')) {
    const s = DateTime.fromISO(b.from, { zone: ZONE });
    const e = DateTime.fromISO(b.to, { zone: ZONE });
    for (const o of open) {
      const secs = Math.max(0, Math.min(e.toMillis(), o.to.toMillis()) - Math.max(s.toMillis(), o.from.toMillis())) / 1000;
      if (!secs) continue;
      const id = ids['college-a']!.equipment![b.equipment]!;
      booked.set(id, (booked.get(id) ?? 0) + secs);
      bookedWeek.set(o.week, (bookedWeek.get(o.week) ?? 0) + secs);
    }
  }
  const openSeconds = open.reduce((a, o) => a + (o.to.toMillis() - o.from.toMillis()) / 1000, 0);
  const rate = (b: number, c: number) => (c > 0 ? Math.round((b / c) * 10000) / 10000 : null);
  const hours = (s: number) => Math.round((s / 3600) * 100) / 100;
  const totalBooked = [...booked.values()].reduce((a, b) => a + b, 0);
  return {
    rooms: rooms.length,
    bookedHours: hours(totalBooked),
    capacityHours: hours(openSeconds * rooms.length),
    occupancyRate: rate(totalBooked, openSeconds * rooms.length),
    byRoom: Object.fromEntries(rooms.map((r) => [r.id, { bookedHours: hours(booked.get(r.id) ?? 0), openingHours: hours(openSeconds), occupancyRate: rate(booked.get(r.id) ?? 0, openSeconds) }])),
    byWeek: weeksOfPeriod().map((w) => {
      const cap = open.filter((o) => o.week === w).reduce((a, o) => a + (o.to.toMillis() - o.from.toMillis()) / 1000, 0) * rooms.length;
      return { weekStart: w, bookedHours: hours(bookedWeek.get(w) ?? 0), capacityHours: hours(cap), occupancyRate: rate(bookedWeek.get(w) ?? 0, cap) };
    }),
  };
}

async function bookableRooms(school: string) {
  return (await h.db
    .knex('rsv_equipment as e')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where({ 'e.structure_id': school, 't.purpose': 'booking' })
    .whereNull('e.retired_at')
    .select('e.id', 'e.name')).map((r: { id: string; name: string }) => ({ id: String(r.id), name: r.name }));
}

// ---- the tests ----------------------------------------------------------------------------------------------

describe("a school's dashboard figures", () => {
  it('every incident figure equals the one computed independently (medians, p90, time zone, backlog)', async () => {
    const direction = await h.as('direction');
    const res = await direction.get(`/structures/college-a/stats?${PERIOD}`);
    expect(res.status).toBe(200);
    const got = res.body.incidents;
    const want = expectedIncidents('college-a');
    expect(res.body.period).toEqual({ from: FROM, to: TO, timeZone: ZONE });
    // The seeds cover what they should: the Paris-only first day is in, the Paris-only 1 September 2025 is out.
    expect(want.total).toBe(9);
    expect(got.total).toBe(want.total);
    expect(Object.fromEntries(got.byStatus.map((s: { status: string; count: number }) => [s.status, s.count]))).toEqual(want.byStatus);
    expect(got.byStatus.find((s: { status: string }) => s.status === 'in_progress').label).toBe('En cours de résolution');
    for (const [field, map] of [['byType', want.byType], ['bySeverity', want.bySeverity]] as const) {
      // Every value of the school's list is there (the unused ones with 0), with its label.
      expect(got[field]).toHaveLength(5);
      for (const v of got[field]) expect(v.count).toBe(map.get(v.id) ?? 0);
    }
    expect(got.byType.map((v: { label: string }) => v.label)).toEqual(['Logiciels', 'Matériels', 'Connexion internet', 'TNI', 'Wifi']);
    expect(got.byEquipment.map((e: { id: string; count: number; open: number }) => ({ id: e.id, count: e.count, open: e.open }))).toEqual(want.byEquipment);
    expect(got.byEquipment[0].name).toBe('Vidéoprojecteur salle 12');
    expect(got.byWeekday.map(({ label: _l, ...d }: { label: string }) => d)).toEqual(want.byWeekday);
    expect(got.byWeekday[0].label).toBe('lundi');
    expect(got.byHour).toEqual(want.byHour);
    expect(got.byWeek).toEqual(want.byWeek);
    expect(got.takeInChargeHours).toEqual(want.takeInChargeHours);
    expect(got.resolveHours).toEqual(want.resolveHours);
    expect(got.backlogAtEnd).toBe(want.backlogAtEnd);
  });

  it('the figures the seeds were built for hold (a check on the independent computation itself)', () => {
    const want = expectedIncidents('college-a');
    // Sunday 1 September 00:30 and Sunday 27 October 01:30 (summer time) and 02:30 (winter time) in Paris.
    expect(want.byWeekday.find((d) => d.weekday === 7)!.declared).toBe(4);
    expect(want.byHour.find((x) => x.hour === 0)!.declared).toBe(1);
    expect(want.byHour.find((x) => x.hour === 1)!.declared).toBe(1);
    expect(want.byHour.find((x) => x.hour === 2)!.declared).toBe(1);
    expect(want.byHour.find((x) => x.hour === 8)!.declared).toBe(1); // 06:59Z on 31 March is 08:59 summer time
    // Open at the start of the period: the August incident; at its end: 2 still being handled, 1 new, the last day's.
    expect(openAt(want.all, START)).toBe(1);
    expect(want.backlogAtEnd).toBe(4);
    // Work counts moves: the week of 2 September takes two incidents in charge and closes two; one of them is reopened
    // by its reporter the week after (open again at that week's end, with the August one) and closed the next.
    expect(want.byWeek.find((w) => w.weekStart === '2024-09-02')).toMatchObject({ declared: 1, taken: 2, resolved: 2, backlog: 1 });
    expect(want.byWeek.find((w) => w.weekStart === '2024-09-09')).toMatchObject({ declared: 1, taken: 1, resolved: 1, backlog: 2 });
    expect(want.byWeek.find((w) => w.weekStart === '2024-09-16')).toMatchObject({ declared: 0, taken: 0, resolved: 1, backlog: 1 });
    expect(want.takeInChargeHours.count).toBe(8);
    expect(want.resolveHours.count).toBe(6);
  });

  it('occupancy per room, per week and in total equals the one computed from the opening hours and holidays', async () => {
    const direction = await h.as('direction');
    const res = await direction.get(`/structures/college-a/stats?${PERIOD}`);
    const got = res.body.bookings;
    const rooms = await bookableRooms('college-a');
    const want = expectedOccupancy(rooms);
    expect(want.bookedHours).toBe(1 + 2 + 2 + 1 + 1 + 8);
    expect(got.rooms).toBe(want.rooms);
    expect(got.bookedHours).toBe(want.bookedHours);
    expect(got.capacityHours).toBe(want.capacityHours);
    expect(got.occupancyRate).toBe(want.occupancyRate);
    expect(got.byRoom).toHaveLength(rooms.length);
    for (const r of got.byRoom) expect({ bookedHours: r.bookedHours, openingHours: r.openingHours, occupancyRate: r.occupancyRate }).toEqual(want.byRoom[r.id]);
    expect(got.byWeek).toEqual(want.byWeek);
    // Most used first; the least used are the rooms never booked, by name.
    expect(got.mostUsed.map((r: { name: string }) => r.name)).toEqual(['Chariot de tablettes', 'Salle 12', 'Salle 14']);
    expect(got.leastUsed.map((r: { name: string }) => r.name)).toEqual(['Salle polyvalente', 'Valise de visioconférence', 'CDI']);
  });

  it('without a period, the dashboard covers the current school year in the school zone', async () => {
    const direction = await h.as('direction');
    const res = await direction.get('/structures/college-a/stats');
    expect(res.status).toBe(200);
    const today = DateTime.now().setZone(ZONE);
    const start = today.month >= 9 ? today.year : today.year - 1;
    expect(res.body.period).toEqual({ from: `${start}-09-01`, to: `${start + 1}-08-31`, timeZone: ZONE });
    // Only `from`: to the end of its school year.
    const only = await direction.get('/structures/college-a/stats?from=2025-01-15');
    expect(only.body.period).toMatchObject({ from: '2025-01-15', to: '2025-08-31' });
  });

  it('a reversed or malformed period is a 400 naming the field', async () => {
    const direction = await h.as('direction');
    const reversed = await direction.get('/structures/college-a/stats?from=2025-09-01&to=2024-09-01');
    expect(reversed.status).toBe(400);
    expect(reversed.body.details.fields[0].field).toBe('to');
    const garbage = await direction.get('/structures/college-a/stats?from=1er-septembre');
    expect(garbage.status).toBe(400);
    expect(garbage.body.details.fields[0].field).toBe('from');
    const tooLong = await direction.get('/structures/college-a/stats?from=2015-09-01&to=2025-08-31');
    expect(tooLong.status).toBe(400);
  });
});

describe('who may see the statistics', () => {
  it('a teacher gets 403, another school 404, signed out 401; the referents and the direction see their school', async () => {
    const teacher = await h.as('enseignant');
    expect((await teacher.get(`/structures/college-a/stats?${PERIOD}`)).status).toBe(403);
    expect((await teacher.get(`/structures/college-a/stats.csv?${PERIOD}`)).status).toBe(403);
    expect((await teacher.get(`/reservations/structures/college-a/stats`, 'text/html')).status).toBe(403);
    expect((await teacher.get('/stats')).status).toBe(403);
    const referent = await h.as('referent1');
    expect((await referent.get(`/structures/college-a/stats?${PERIOD}`)).status).toBe(200);
    expect((await referent.get(`/structures/college-b/stats?${PERIOD}`)).status).toBe(404);
    expect((await referent.get(`/structures/college-b/stats/incidents.csv`)).status).toBe(404);
    expect((await referent.get(`/reservations/structures/college-b/stats`, 'text/html')).status).toBe(404);
    expect((await h.anonymous().get('/structures/college-a/stats')).status).toBe(401);
    expect((await (await h.as('direction-b')).get(`/structures/college-a/stats`)).status).toBe(404);
  });

  it("the local authority sees a school's figures but not its incidents' descriptions", async () => {
    const authority = await h.as('collectivite');
    expect((await authority.get(`/structures/college-a/stats?${PERIOD}`)).status).toBe(200);
    expect((await authority.get(`/structures/college-a/stats.csv?${PERIOD}`)).status).toBe(200);
    expect((await authority.get(`/structures/college-a/stats/incidents.csv?${PERIOD}`)).status).toBe(403);
  });
});

describe('exports', () => {
  it('the incidents CSV opens in a French spreadsheet: BOM, ";", quotes, line breaks and accents survive a CSV parser', async () => {
    const direction = await h.as('direction');
    const res = await direction.get(`/structures/college-a/stats/incidents.csv?${PERIOD}`, 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="incidents-college-a-${FROM}_${TO}.csv"`);
    expect(res.text.charCodeAt(0)).toBe(0xfeff);
    const rows: string[][] = parse(res.text, { delimiter: ';', bom: true });
    expect(rows[0]).toEqual([
      'N°', 'Déclaré le', 'Équipement', 'Lieu', 'Type', 'Gravité', 'Statut', 'Description', 'Niveau de support', 'Pris en charge le',
      'Délai de prise en charge (h)', 'Résolu le', 'Délai de résolution (h)', 'Changements de statut', 'Réouvertures', 'Commentaires', 'Historique',
    ]);
    const want = expectedIncidents('college-a').declared;
    expect(rows.slice(1).map((r) => r[0])).toEqual([...want].sort((a, b) => a.created.toMillis() - b.created.toMillis()).map((i) => i.id));
    const tricky = rows.find((r) => r[7] === DESCRIPTION_TRICKY)!;
    expect(tricky).toBeDefined();
    expect(tricky.slice(1, 7)).toEqual(['2025-03-31 08:59', 'Vidéoprojecteur salle 12', 'Salle 12', 'Matériels', 'Dysfonctionnement', 'Fermé']);
    expect(tricky[10]).toBe('0,52'); // 31 minutes, with a decimal comma
    expect(tricky[16]).toBe('2025-03-31 09:30 Nouveau → Pris en charge\n2025-04-01 15:00 Pris en charge → Fermé');
    // A description that a spreadsheet would run as a formula is neutralised.
    expect(rows.find((r) => r[7]!.includes('HYPERLINK'))![7]).toBe(`'${DESCRIPTION_FORMULA}`);
    const reopened = rows.find((r) => r[0] === want.find((i) => i.events.length === 4)!.id)!;
    expect(reopened.slice(13, 16)).toEqual(['4', '1', '1']);
    expect(reopened[16]!.split('\n')).toHaveLength(4);
  });

  it('the figures CSV says the same as the JSON, one figure a line', async () => {
    const direction = await h.as('direction');
    const json = (await direction.get(`/structures/college-a/stats?${PERIOD}`)).body;
    const res = await direction.get(`/structures/college-a/stats.csv?${PERIOD}`, 'text/csv');
    expect(res.status).toBe(200);
    const rows: string[][] = parse(res.text, { delimiter: ';', bom: true });
    expect(rows[0]).toEqual(['Rubrique', 'Élément', 'Mesure', 'Valeur']);
    const value = (section: string, item: string, measure: string) => rows.find((r) => r[0] === section && r[1] === item && r[2] === measure)?.[3];
    const fr = (n: number) => String(n).replace('.', ',');
    expect(value('Chiffres clés', 'Incidents déclarés', 'Déclarés')).toBe(String(json.incidents.total));
    expect(value('Délais (heures)', 'Délai de prise en charge', 'Médiane (h)')).toBe(fr(json.incidents.takeInChargeHours.median));
    expect(value('Délais (heures)', 'Délai de résolution', '90e centile (h)')).toBe(fr(json.incidents.resolveHours.p90));
    expect(value('Incidents par statut', 'Fermé', 'Déclarés')).toBe(String(json.incidents.byStatus.find((s: { status: string }) => s.status === 'closed').count));
    expect(value('Par jour de la semaine', 'dimanche', 'Déclarés')).toBe('4');
    expect(value('Taux d\'occupation par salle', 'Salle 12', 'Heures réservées')).toBe('3');
  });
});

describe('the cross-school view', () => {
  it('shows each school the user may see across, ranked, and the total over exactly those', async () => {
    const authority = await h.as('collectivite');
    const res = await authority.get(`/stats?${PERIOD}`);
    expect(res.status).toBe(200);
    expect(res.body.structures.map((s: { id: string }) => s.id).sort()).toEqual(['college-a', 'college-b']);
    const a = expectedIncidents('college-a');
    const b = expectedIncidents('college-b');
    expect(res.body.structures[0]).toMatchObject({ id: 'college-a', rank: 1 });
    expect(res.body.structures[1]).toMatchObject({ id: 'college-b', rank: 2 });
    const schoolA = res.body.structures[0];
    expect(schoolA.incidents).toMatchObject({ total: a.total, byStatus: a.byStatus, takeInChargeHours: a.takeInChargeHours, resolveHours: a.resolveHours, backlogAtEnd: a.backlogAtEnd });
    expect(schoolA.incidents.topEquipment.map((e: { id: string }) => e.id)).toEqual(a.byEquipment.slice(0, 3).map((e) => e.id));
    const total = res.body.total.incidents;
    expect(total.total).toBe(a.total + b.total);
    expect(res.body.total.structures).toBe(2);
    const both = durations([...a.declared, ...b.declared]);
    expect(total.takeInChargeHours).toEqual(both.takeInChargeHours);
    expect(total.resolveHours).toEqual(both.resolveHours);
    expect(total.backlogAtEnd).toBe(a.backlogAtEnd + b.backlogAtEnd);
    expect(total.byWeek.map((w: { backlog: number }) => w.backlog)).toEqual(a.byWeek.map((w, i) => w.backlog + b.byWeek[i]!.backlog));
    // Types are each school's own rows: across schools they are matched by name.
    expect(total.byType.find((v: { label: string }) => v.label === 'Wifi').count).toBe(a.byType.get(ids['college-a']!.type!.wifi!)! + b.byType.get(ids['college-b']!.type!.wifi!)!);
    // Ranked by the fastest median time to take in charge.
    const byTake = await authority.get(`/stats?${PERIOD}&sort=takeInCharge`);
    const order = [...[['college-a', a.takeInChargeHours.median!], ['college-b', b.takeInChargeHours.median!]] as const].sort((x, y) => x[1] - y[1]).map((x) => x[0]);
    expect(byTake.body.structures.map((s: { id: string }) => s.id)).toEqual(order);
  });

  it('a school year read from the summary the job queue keeps says exactly what the live computation says', async () => {
    const authority = await h.as('collectivite');
    const live = await authority.get(`/stats?${PERIOD}`);
    expect(live.body.source).toBe('live');
    expect(await refreshSummaries(h.module.context, { periods: [{ year: 2024, span: 1 }] })).toEqual({ refreshed: 2, remaining: false });
    const read = await authority.get(`/stats?${PERIOD}`);
    expect(read.body.source).toBe('summary');
    const { source: _s1, computedAt: _c1, ...fromSummary } = read.body;
    const { source: _s2, computedAt: _c2, ...fromLive } = live.body;
    expect(fromSummary).toEqual(fromLive);
    // Not a school year: always live.
    expect((await authority.get('/stats?from=2024-09-01&to=2025-06-30')).body.source).toBe('live');
  });

  it('custom periods across schools: identical requests share one computation; when the gate is full, 503 with Retry-After, in French', async () => {
    const authority = await h.as('collectivite');
    const until = async (check: () => boolean) => {
      for (const end = Date.now() + 10_000; !check(); ) {
        if (Date.now() > end) throw new Error(`the gate never got there: ${JSON.stringify(liveCrossGate.load)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    // Someone else's computation runs: the next ones wait their turn, and two identical requests wait as one.
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const others = [liveCrossGate.run('x', () => held)];
    // supertest sends a request when it is awaited: `Promise.resolve` starts both now.
    const same = [0, 1].map(() => Promise.resolve(authority.get('/stats?from=2024-10-01&to=2025-03-31')));
    try {
      await until(() => liveCrossGate.load.waiting === 1 && liveCrossGate.load.shared === 2);
      // One more waiting fills the gate: one running, two waiting.
      others.push(liveCrossGate.run('y', () => held));
      expect(liveCrossGate.load).toEqual({ running: 1, waiting: 2, shared: 3 });
      const busy = await authority.get('/stats?from=2024-11-01&to=2025-03-31');
      expect(busy.status).toBe(503);
      expect(busy.headers['retry-after']).toBe('30');
      expect(busy.body).toMatchObject({ error: 'busy', message: expect.stringContaining('déjà en cours de calcul') });
      // A summarised school year never waits behind the gate.
      await refreshSummaries(h.module.context, { periods: [{ year: 2024, span: 1 }] });
      expect((await authority.get(`/stats?${PERIOD}`)).status).toBe(200);
    } finally {
      finish();
      await Promise.all(others);
    }
    const [a, b] = await Promise.all(same);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toEqual(b.body);
    expect(liveCrossGate.load).toEqual({ running: 0, waiting: 0, shared: 0 });
    expect((await authority.get('/stats?from=2024-11-01&to=2025-03-31')).status).toBe(200);
  });

  it('a move in a school makes its summary stale; the next refresh takes it in', async () => {
    const knex = h.db.knex;
    const waiting = seeded.find((i) => i.school === 'college-b' && i.status === 'new')!;
    const at = DateTime.utc();
    await knex('rsv_incidents').where({ id: waiting.id }).update({ status: 'taken', taken_at: at.toJSDate(), last_event_at: at.toJSDate(), version: 2 });
    await knex('rsv_incident_events').insert({ incident_id: waiting.id, structure_id: 'college-b', kind: 'status_changed', actor_id: 'u-referent-b', from_status: 'new', to_status: 'taken', created_at: at.toJSDate() });
    Object.assign(waiting, { status: 'taken', takenAt: at, events: [...waiting.events, { at, from: 'new', to: 'taken', kind: 'status_changed' }] });
    expect(await staleSummaries(knex, { year: 2024, span: 1 }, new Date(0), 10)).toContain('college-b');
    await refreshSummaries(h.module.context, { periods: [{ year: 2024, span: 1 }] });
    const authority = await h.as('collectivite');
    const res = await authority.get(`/stats?${PERIOD}`);
    expect(res.body.source).toBe('summary');
    const b = expectedIncidents('college-b');
    const schoolB = res.body.structures.find((s: { id: string }) => s.id === 'college-b');
    expect(schoolB.incidents).toMatchObject({ byStatus: b.byStatus, takeInChargeHours: b.takeInChargeHours });
    const a = expectedIncidents('college-a');
    expect(res.body.total.incidents.takeInChargeHours).toEqual(durations([...a.declared, ...b.declared]).takeInChargeHours);
  });

  it('two school years together, read from the summary, say exactly what the live computation says', async () => {
    expect(await refreshSummaries(h.module.context, { periods: [{ year: 2023, span: 2 }] })).toEqual({ refreshed: 2, remaining: false });
    const ctx = h.module.context;
    const input = { from: '2023-09-01', to: '2025-08-31' };
    const fromSummary = await crossSchoolStats(ctx, ['college-a', 'college-b'], input);
    const live = await crossSchoolStats(ctx, ['college-a', 'college-b'], input, new Date(), { live: true });
    expect(fromSummary.source).toBe('summary');
    expect(live.source).toBe('live');
    const strip = ({ source: _s, computedAt: _c, ...rest }: typeof live) => rest;
    expect(strip(fromSummary)).toEqual(strip(live));
    // The August 2024 incident (school year 2023) is in, and the week of 26 August 2024 adds up its two halves: the
    // August incident taken in charge on Monday 26 (school year 2023), one declared on Sunday 1 September (2024).
    expect(live.total.incidents.total).toBe(expectedIncidents('college-a').total + expectedIncidents('college-b').total + 1);
    expect(live.total.incidents.byWeek.find((w) => w.weekStart === '2024-08-26')).toMatchObject({ declared: 1, taken: 1 });
  });

  it('the table CSV ranks the schools and ends with the total', async () => {
    const authority = await h.as('collectivite');
    const res = await authority.get(`/stats.csv?${PERIOD}`, 'text/csv');
    expect(res.status).toBe(200);
    const rows: string[][] = parse(res.text, { delimiter: ';', bom: true });
    expect(rows[0]!.slice(0, 4)).toEqual(['Rang', 'Établissement', 'Identifiant', 'Incidents déclarés']);
    expect(rows.slice(1).map((r) => r[2])).toEqual(['college-a', 'college-b', '']);
    expect(rows[3]![1]).toBe('Total');
    expect(rows[3]![3]).toBe(String(expectedIncidents('college-a').total + expectedIncidents('college-b').total));
  });

  it('a user allowed one school sees only that one (its grant in the other school removed), and 403 with none', async () => {
    await h.db.knex('host_grants').where({ structure_id: 'college-b', action: 'stats.viewAcrossStructures' }).delete();
    const authority = await h.as('collectivite');
    const res = await authority.get(`/stats?${PERIOD}`);
    expect(res.status).toBe(200);
    expect(res.body.structures.map((s: { id: string }) => s.id)).toEqual(['college-a']);
    const a = expectedIncidents('college-a');
    expect(res.body.total.incidents).toMatchObject({ total: a.total, takeInChargeHours: a.takeInChargeHours, resolveHours: a.resolveHours, backlogAtEnd: a.backlogAtEnd });
    expect(res.body.total.incidents.byEquipment.every((e: { structureId: string }) => e.structureId === 'college-a')).toBe(true);
    const page = await authority.get(`/reservations/stats?${PERIOD}`, 'text/html');
    expect(page.status).toBe(200);
    // (The host's frame names all the user's schools; the module's part names only the allowed one.)
    const main = page.text.slice(page.text.indexOf('<main'), page.text.indexOf('</main>'));
    expect(main).toContain('Collège Jean Moulin');
    expect(main).not.toContain('Collège Simone Veil');
    expect((await authority.get(`/structures/college-b/stats?${PERIOD}`)).status).toBe(403);

    await h.db.knex('host_grants').where({ structure_id: 'college-a', action: 'stats.viewAcrossStructures' }).delete();
    const none = await h.as('collectivite');
    expect((await none.get(`/stats?${PERIOD}`)).status).toBe(403);
    expect((await none.get(`/stats.csv?${PERIOD}`)).status).toBe(403);
    expect((await none.get('/reservations/stats', 'text/html')).status).toBe(403);
  });
});

describe('the pages', () => {
  it('the dashboard draws accessible SVG charts with their numbers in tables, no inline style, names escaped', async () => {
    await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-printer-cdi' }).update({ name: 'Imprimante <b>CDI</b> & co' });
    const direction = await h.as('direction');
    const res = await direction.get(`/reservations/structures/college-a/stats?${PERIOD}`, 'text/html');
    expect(res.status).toBe(200);
    const main = res.text.slice(res.text.indexOf('<main'), res.text.indexOf('</main>'));
    expect(main).toContain('<svg class="chart-svg" role="img" aria-labelledby="chart-status-title chart-status-desc"');
    expect(main).toContain('<title id="chart-status-title">Incidents par statut</title>');
    expect(main).toMatch(/<desc id="chart-weekday-desc">Valeur la plus haute : dimanche \(4\)\.<\/desc>/);
    expect((main.match(/role="img"/g) ?? []).length).toBe((main.match(/<table>/g) ?? []).length);
    expect(main).not.toMatch(/\sstyle=/);
    expect(main).not.toContain('<b>CDI</b>');
    expect(main).toContain('Imprimante &lt;b&gt;CDI&lt;/b&gt; &amp; co');
    expect(main).toContain(`/reservations/api/v1/structures/college-a/stats/incidents.csv?from=${FROM}&amp;to=${TO}`);
    expect(main).toContain(`/reservations/structures/college-a/stats/report?from=${FROM}&amp;to=${TO}`);
  });

  it('a refused period shows the form with the error and the current school year', async () => {
    const direction = await h.as('direction');
    const res = await direction.get('/reservations/structures/college-a/stats?from=2025-09-01&to=2024-09-01', 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('aria-invalid="true"');
  });

  it('the printable report fits the key figures, tables and charts of one school', async () => {
    const direction = await h.as('direction');
    const res = await direction.get(`/reservations/structures/college-a/stats/report?${PERIOD}`, 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toContain('class="stats-report"');
    expect(res.text).toContain('Rapport statistique — Collège Jean Moulin');
    expect(res.text).not.toMatch(/<main[\s\S]*\sstyle=[\s\S]*<\/main>/);
  });

  it('the cross-school page ranks the schools with sortable columns', async () => {
    await h.db.knex('host_grants').insert([
      { structure_id: 'college-a', action: 'stats.viewAcrossStructures', subject_kind: 'group', subject_id: 'g-college-a-collectivite' },
      { structure_id: 'college-b', action: 'stats.viewAcrossStructures', subject_kind: 'group', subject_id: 'g-college-b-collectivite' },
    ]).onConflict().ignore();
    const authority = await h.as('collectivite');
    const res = await authority.get(`/reservations/stats?${PERIOD}&sort=occupancy`, 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toContain('aria-sort="descending"');
    expect(res.text).toContain('Collège Simone Veil');
    expect(res.text).toContain(`/reservations/stats?from=${FROM}&amp;to=${TO}&amp;sort=incidents`);
    expect(res.text).not.toMatch(/<main[\s\S]*\sstyle=[\s\S]*<\/main>/);
  });

  it('the home page leads the local authority to the cross-school view, and the direction to its dashboard', async () => {
    const authority = await (await h.as('collectivite')).get('/reservations/', 'text/html');
    expect(authority.text).toContain('href="/reservations/stats"');
    const direction = await (await h.as('direction')).get('/reservations/', 'text/html');
    expect(direction.text).toContain('href="/reservations/structures/college-a/stats"');
    expect(direction.text).not.toContain('href="/reservations/stats"');
  });
});

describe('the kept dashboard of the default period', () => {
  it('is served again while nothing changed, says exactly what the live computation says, and any change or due time makes it live again', async () => {
    const knex = h.db.knex;
    const ctx = h.module.context;
    const daysAgo = (n: number) => DateTime.utc().minus({ days: n }).startOf('hour');
    // Two incidents of the current school year, one still new, due to be taken in charge in two seconds.
    const handled = await incident({ school: 'college-a', at: daysAgo(3).toISO()!, equipment: 'demo-iwb-14', type: 'iwb', severity: 'repair', moves: [[daysAgo(2).toISO()!, 'taken'], [daysAgo(1).toISO()!, 'closed']] });
    const waiting = await incident({ school: 'college-a', at: daysAgo(2).toISO()!, equipment: 'demo-printer-cdi', type: 'software', severity: 'update' });
    const dueAt = Date.now() + 2000;
    await knex('rsv_incidents').where({ id: waiting.id }).update({ take_in_charge_due_at: new Date(dueAt) });
    // Data changed within the settling margin is never kept: these rows are dated two minutes ago.
    const settled = knex.raw(`now() - interval '2 minutes'`);
    await knex('rsv_bookings').where({ structure_id: 'college-a' }).update({ updated_at: settled });
    await knex('rsv_incidents').where({ structure_id: 'college-a' }).whereIn('id', [handled.id, waiting.id]).update({ updated_at: settled, last_event_at: settled });
    const strip = ({ source: _s, ...rest }: SchoolStats) => rest;
    const live = () => schoolStats(ctx, 'college-a', {}, new Date(), { live: true });

    const first = await schoolStats(ctx, 'college-a', {});
    expect(first.source).toBe('live');
    const kept = await schoolStats(ctx, 'college-a', {});
    expect(kept.source).toBe('kept');
    expect(strip(kept)).toEqual(strip(await live()));
    expect(kept.incidents.total).toBeGreaterThanOrEqual(2);
    // The API presents it as it presents the live figures.
    const direction = await h.as('direction');
    const res = await direction.get('/structures/college-a/stats');
    expect(res.status).toBe(200);
    expect(res.body.incidents.total).toBe(kept.incidents.total);

    // The due time passes: the overdue count changes with no change of data.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now() + 100)));
    const due = await schoolStats(ctx, 'college-a', {});
    expect(due.source).toBe('live');
    expect(due.serviceClock.overdue).toBe(kept.serviceClock.overdue + 1);
    expect(strip(due)).toEqual(strip(await live()));

    // A move now: the next visit is live and counts it.
    expect((await schoolStats(ctx, 'college-a', {})).source).toBe('kept');
    const at = DateTime.utc();
    await knex('rsv_incidents').where({ id: waiting.id }).update({ status: 'taken', taken_at: at.toJSDate(), last_event_at: at.toJSDate(), version: 2 });
    await knex('rsv_incident_events').insert({ incident_id: waiting.id, structure_id: 'college-a', kind: 'status_changed', actor_id: 'u-referent1', from_status: 'new', to_status: 'taken', created_at: at.toJSDate() });
    const moved = await schoolStats(ctx, 'college-a', {});
    expect(moved.source).toBe('live');
    expect(moved.incidents.byStatus.find((s) => s.status === 'taken')!.count).toBe(kept.incidents.byStatus.find((s) => s.status === 'taken')!.count + 1);

    // Settled again, then a renamed equipment (no date of its own in the check: the small tables are compared whole).
    await knex('rsv_incidents').where({ id: waiting.id }).update({ updated_at: settled, last_event_at: settled });
    await knex('rsv_incident_events').where({ incident_id: waiting.id, kind: 'status_changed' }).update({ created_at: settled });
    expect((await schoolStats(ctx, 'college-a', {})).source).toBe('live');
    expect((await schoolStats(ctx, 'college-a', {})).source).toBe('kept');
    await knex('rsv_equipment').where({ id: ids['college-a']!.equipment!['demo-iwb-14'] }).update({ name: 'TNI salle 14 (neuf)' });
    const renamed = await schoolStats(ctx, 'college-a', {});
    expect(renamed.source).toBe('live');
    expect(renamed.incidents.byEquipment.map((e) => e.name)).toContain('TNI salle 14 (neuf)');
    expect(strip(renamed)).toEqual(strip(await live()));

    // Settled again, then new service targets: the open incidents' due times are counted again, a change the next
    // visit sees (the overdue count may change with no move).
    await knex('rsv_incidents').where({ structure_id: 'college-a' }).update({ updated_at: settled });
    await knex('rsv_incidents').where({ structure_id: 'college-a' }).where('last_event_at', '>', settled).update({ last_event_at: settled });
    expect((await schoolStats(ctx, 'college-a', {})).source).toBe('live');
    expect((await schoolStats(ctx, 'college-a', {})).source).toBe('kept');
    const severity = String((await knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'update' }).first()).id);
    const targets = await direction.put('/structures/college-a/settings', { serviceTargets: { [severity]: { takeInChargeHours: 0.5, resolveHours: 0.5 } } });
    expect(targets.status).toBe(200);
    const retargeted = await schoolStats(ctx, 'college-a', {});
    expect(retargeted.source).toBe('live');
    expect(strip(retargeted)).toEqual(strip(await live()));
  });
});
