import { DateTime } from 'luxon';
import type { ModuleContext } from '../context';
import { ValidationError } from '../errors';
import { INCIDENT_STATUSES, IncidentStatus } from '../domain/workflow';
import {
  DurationFigures,
  mostAndLeastUsed,
  occupancyRate,
  Period,
  RANKING_KEYS,
  RankingKey,
  rankBy,
  resolvePeriod,
  roundHours,
  wholeSchoolYears,
  secondsToHours,
  todayIn,
  weeksOf,
} from '../domain/stats';
import {
  backlog,
  durationPercentiles,
  DurationRow,
  equipmentCounts,
  handlingCounts,
  incidentCounts,
  incidentsForExport,
  IncidentExportRow,
  ListValueRow,
  listValues,
  occupancy,
  readSummaries,
  roomOccupancy,
  StatsScope,
  SummaryKey,
  summaryPercentiles,
  summaryPeriod,
  upsertSummary,
} from '../store/stats';
import { getSettings } from '../store/settings';
import { serviceClockFigures, ServiceClockFigures } from '../store/service-clock-stats';

/**
 * The statistics use cases: resolve the period, run the SQL aggregates of src/store/stats.ts (in parallel: each is one
 * scan), and shape the figures. Figures carry codes and ids; labels are added at the edge (src/http).
 */

/** The zone of the cross-school view's default period (each school's data is still read in its own zone). */
export const DEFAULT_STATS_ZONE = 'Europe/Paris';

export interface StatsInput {
  from?: string;
  to?: string;
}

export interface StatusCount {
  status: IncidentStatus;
  count: number;
}

/** A count per incident type or severity. `id` is null in cross-school totals, where values are matched by label. */
export interface ValueCount {
  id: string | null;
  label: string | null;
  labelKey: string | null;
  retired: boolean;
  count: number;
}

export interface EquipmentCount {
  id: string;
  structureId: string;
  name: string;
  location: string;
  /** Incidents declared in the period on it, and how many of them are still open. */
  count: number;
  open: number;
}

/** Declared: incidents declared in the bucket; taken, resolved: moves made in it (the referents' work). */
export interface WorkBucket {
  declared: number;
  taken: number;
  resolved: number;
}

export interface WeekFigures extends WorkBucket {
  /** The Monday of the week, in the school's calendar. */
  weekStart: string;
  /** Incidents open at the end of the week (or of the period, or now). */
  backlog: number | null;
}

export interface IncidentFigures {
  total: number;
  byStatus: StatusCount[];
  byType: ValueCount[];
  bySeverity: ValueCount[];
  /** Most failing first. */
  byEquipment: EquipmentCount[];
  /** ISO weekdays 1 (Monday) to 7, in the school's zone. */
  byWeekday: Array<WorkBucket & { weekday: number }>;
  /** Hours 0 to 23, in the school's zone. */
  byHour: Array<WorkBucket & { hour: number }>;
  byWeek: WeekFigures[];
  /** Raw wall-clock hours from declaration to taken in charge (school hours come with the service clock). */
  takeInChargeHours: DurationFigures;
  /** Raw wall-clock hours from declaration to closed or dismissed. */
  resolveHours: DurationFigures;
  /** Incidents open at the end of the period (or now, if the period runs on). */
  backlogAtEnd: number;
}

export interface RoomFigures {
  id: string;
  name: string;
  typeId: string;
  bookedHours: number;
  openingHours: number;
  rate: number | null;
}

export interface BookingFigures {
  rooms: number;
  bookedHours: number;
  /** Opening hours times rooms. */
  capacityHours: number;
  occupancyRate: number | null;
  byWeek: Array<{ weekStart: string; bookedHours: number; capacityHours: number; occupancyRate: number | null }>;
}

export interface SchoolStats {
  structure: { id: string; name: string };
  period: Period & { timeZone: string };
  incidents: IncidentFigures;
  bookings: BookingFigures & { byRoom: RoomFigures[]; mostUsed: RoomFigures[]; leastUsed: RoomFigures[] };
  /** The service clock (issue 11): the same times in school hours, the reporters' confirmations, overdue incidents. */
  serviceClock: ServiceClockFigures;
}

export interface SchoolSummary {
  id: string;
  name: string;
  timeZone: string;
  rank: number | null;
  incidents: {
    total: number;
    statusCounts: Record<IncidentStatus, number>;
    takeInChargeHours: DurationFigures;
    resolveHours: DurationFigures;
    backlogAtEnd: number;
    topEquipment: EquipmentCount[];
  };
  bookings: { rooms: number; bookedHours: number; capacityHours: number; occupancyRate: number | null };
}

export interface CrossSchoolStats {
  period: Period;
  sort: RankingKey;
  /** `summary`: read from the summary the job queue keeps (as of `computedAt`); `live`: computed for this request. */
  source: 'summary' | 'live';
  computedAt: Date | null;
  /** Ranked by `sort`. */
  structures: SchoolSummary[];
  total: { structures: number; incidents: IncidentFigures; bookings: BookingFigures };
}

function periodOrThrow(input: StatsInput, zone: string, now: Date): Period {
  const resolved = resolvePeriod(input, zone, now);
  if ('problems' in resolved) throw new ValidationError(resolved.problems);
  return resolved.period;
}

/** The period a school's dashboard covers (default: the current school year in the school's zone). */
export async function schoolPeriod(ctx: ModuleContext, structureId: string, input: StatsInput, now = new Date()): Promise<Period & { timeZone: string }> {
  const zone = (await getSettings(ctx.knex, structureId))?.time_zone ?? DEFAULT_STATS_ZONE;
  return { ...periodOrThrow(input, zone, now), timeZone: zone };
}

function durationOf(row: DurationRow | undefined, which: 'take_in_charge' | 'resolve'): DurationFigures {
  const values = row?.[which] ?? null;
  const count = (which === 'take_in_charge' ? row?.taken_count : row?.resolved_count) ?? 0;
  return { median: roundHours(values?.[0] ?? null), p90: roundHours(values?.[1] ?? null), count };
}

const emptyBucket = (): WorkBucket => ({ declared: 0, taken: 0, resolved: 0 });

/** Every week of the period already begun, so that a chart's axis has no hole. */
function weeksSoFar(period: Period, today: string): string[] {
  return weeksOf(period).filter((w) => w <= today);
}

/** Counts per type or severity: per id for one school (values never used included, retired ones only if used). */
function valueCountsOfSchool(counts: Map<string, number>, values: ListValueRow[]): ValueCount[] {
  return values
    .map((v) => ({ id: v.id, label: v.label, labelKey: v.label_key, retired: v.retired, count: counts.get(v.id) ?? 0 }))
    .filter((v) => !v.retired || v.count > 0);
}

/** Across schools, types and severities are each school's own rows: they are matched by what they are called. */
function valueCountsAcross(counts: Map<string, number>, values: ListValueRow[]): ValueCount[] {
  const merged = new Map<string, ValueCount & { position: number }>();
  for (const v of values) {
    const n = counts.get(v.id) ?? 0;
    if (v.retired && n === 0) continue;
    const key = v.label ? `label:${v.label.trim().toLowerCase()}` : `key:${v.label_key}`;
    const entry = merged.get(key) ?? { id: null, label: v.label, labelKey: v.label ? null : v.label_key, retired: true, count: 0, position: v.position };
    entry.count += n;
    entry.retired &&= v.retired;
    entry.position = Math.min(entry.position, v.position);
    merged.set(key, entry);
  }
  return [...merged.values()].sort((a, b) => a.position - b.position || b.count - a.count).map(({ position: _p, ...v }) => v);
}

interface Gathered {
  scope: StatsScope;
  counts: Awaited<ReturnType<typeof incidentCounts>>;
  handling: Awaited<ReturnType<typeof handlingCounts>>;
  durations: DurationRow[];
  equipment: Awaited<ReturnType<typeof equipmentCounts>>;
  backlogRows: Awaited<ReturnType<typeof backlog>>;
  occupancyRows: Awaited<ReturnType<typeof occupancy>>;
  types: ListValueRow[];
  severities: ListValueRow[];
}

async function gather(ctx: ModuleContext, scope: StatsScope, equipmentLimits: { perStructure: number; overall: number }): Promise<Gathered> {
  const knex = ctx.knex;
  const [counts, handling, durations, equipment, backlogRows, occupancyRows, types, severities] = await Promise.all([
    incidentCounts(knex, scope),
    handlingCounts(knex, scope),
    durationPercentiles(knex, scope),
    equipmentCounts(knex, scope, equipmentLimits),
    backlog(knex, scope),
    occupancy(knex, scope),
    listValues(knex, 'rsv_incident_types', scope.structureIds),
    listValues(knex, 'rsv_severities', scope.structureIds),
  ]);
  return { scope, counts, handling, durations, equipment, backlogRows, occupancyRows, types, severities };
}

/** The figures over the whole scope (one school, or the total of several). */
function incidentFiguresOf(g: Gathered, today: string, across: boolean): IncidentFigures {
  const byStatus = new Map<IncidentStatus, number>();
  const byType = new Map<string, number>();
  const bySeverity = new Map<string, number>();
  const weekday = new Map<number, WorkBucket>();
  const hour = new Map<number, WorkBucket>();
  const week = new Map<string, WorkBucket>();
  const bucket = <K>(map: Map<K, WorkBucket>, key: K) => {
    let b = map.get(key);
    if (!b) map.set(key, (b = emptyBucket()));
    return b;
  };
  for (const r of g.counts) {
    if (r.status) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + r.count);
    else if (r.type_id) byType.set(r.type_id, r.count);
    else if (r.severity_id) bySeverity.set(r.severity_id, r.count);
    else if (r.weekday !== null) bucket(weekday, r.weekday).declared = r.count;
    else if (r.hour !== null) bucket(hour, r.hour).declared = r.count;
    else if (r.week) bucket(week, r.week).declared = r.count;
  }
  for (const r of g.handling) {
    const b = r.weekday !== null ? bucket(weekday, r.weekday) : r.hour !== null ? bucket(hour, r.hour) : r.week ? bucket(week, r.week) : null;
    if (b) Object.assign(b, { taken: r.taken, resolved: r.resolved });
  }
  const backlogByWeek = new Map(g.backlogRows.filter((r) => r.week).map((r) => [r.week!, r.backlog]));
  const total = g.durations.find((d) => d.structure_id === null);
  const period = { from: g.scope.from, to: g.scope.to };
  return {
    total: [...byStatus.values()].reduce((a, b) => a + b, 0),
    byStatus: INCIDENT_STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 })),
    byType: across ? valueCountsAcross(byType, g.types) : valueCountsOfSchool(byType, g.types),
    bySeverity: across ? valueCountsAcross(bySeverity, g.severities) : valueCountsOfSchool(bySeverity, g.severities),
    byEquipment: g.equipment
      .filter((e) => (across ? e.rank_overall <= 10 : true))
      .map((e) => ({ id: e.equipment_id, structureId: e.structure_id, name: e.name, location: e.location, count: e.count, open: e.open })),
    byWeekday: [1, 2, 3, 4, 5, 6, 7].map((d) => ({ weekday: d, ...(weekday.get(d) ?? emptyBucket()) })),
    byHour: Array.from({ length: 24 }, (_, h) => ({ hour: h, ...(hour.get(h) ?? emptyBucket()) })),
    byWeek: weeksSoFar(period, today).map((w) => ({ weekStart: w, ...(week.get(w) ?? emptyBucket()), backlog: backlogByWeek.get(w) ?? null })),
    takeInChargeHours: durationOf(total, 'take_in_charge'),
    resolveHours: durationOf(total, 'resolve'),
    backlogAtEnd: g.backlogRows.filter((r) => r.structure_id !== null).reduce((a, r) => a + r.backlog, 0),
  };
}

function bookingFiguresOf(g: Gathered, today: string): BookingFigures {
  const total = g.occupancyRows.find((r) => r.structure_id === null && r.week === null);
  const weeks = new Map(g.occupancyRows.filter((r) => r.week).map((r) => [r.week!, r]));
  return {
    rooms: total?.rooms ?? 0,
    bookedHours: secondsToHours(total?.booked_seconds ?? 0),
    capacityHours: secondsToHours(total?.capacity_seconds ?? 0),
    occupancyRate: occupancyRate(total?.booked_seconds ?? 0, total?.capacity_seconds ?? 0),
    byWeek: weeksSoFar({ from: g.scope.from, to: g.scope.to }, today).map((w) => {
      const r = weeks.get(w);
      return {
        weekStart: w,
        bookedHours: secondsToHours(r?.booked_seconds ?? 0),
        capacityHours: secondsToHours(r?.capacity_seconds ?? 0),
        occupancyRate: occupancyRate(r?.booked_seconds ?? 0, r?.capacity_seconds ?? 0),
      };
    }),
  };
}

/** The school dashboard: every figure of one school for a period. */
export async function schoolStats(ctx: ModuleContext, structureId: string, input: StatsInput, now = new Date()): Promise<SchoolStats> {
  const period = await schoolPeriod(ctx, structureId, input, now);
  const scope: StatsScope = { structureIds: [structureId], from: period.from, to: period.to };
  const [g, rooms, structures, clock] = await Promise.all([
    gather(ctx, scope, { perStructure: 1000, overall: 1000 }),
    roomOccupancy(ctx.knex, scope),
    ctx.host.directory.getStructures([structureId]),
    serviceClockFigures(ctx.knex, scope),
  ]);
  const today = todayIn(period.timeZone, now);
  const byRoom: RoomFigures[] = rooms
    .map((r) => ({
      id: r.equipment_id,
      name: r.name,
      typeId: r.type_id,
      bookedHours: secondsToHours(r.booked_seconds),
      openingHours: secondsToHours(r.open_seconds),
      rate: occupancyRate(r.booked_seconds, r.open_seconds),
    }))
    .sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || a.name.localeCompare(b.name, 'fr'));
  return {
    structure: { id: structureId, name: structures[0]?.name ?? structureId },
    period,
    incidents: incidentFiguresOf(g, today, false),
    bookings: { ...bookingFiguresOf(g, today), byRoom, ...mostAndLeastUsed(byRoom) },
    serviceClock: clock,
  };
}

const RANK_VALUE: Record<RankingKey, (s: SchoolSummary) => number | null> = {
  incidents: (s) => s.incidents.total,
  backlog: (s) => s.incidents.backlogAtEnd,
  takeInCharge: (s) => s.incidents.takeInChargeHours.median,
  resolve: (s) => s.incidents.resolveHours.median,
  occupancy: (s) => s.bookings.occupancyRate,
};

/**
 * The same figures across schools: a summary per school, ranked, and the total. `structureIds` must already be the
 * schools the user may see across (the caller filters them by the right); the SQL is scoped to exactly that list.
 *
 * A summarised period (the current school year, the previous one, both together) is read from the summary
 * (rsv_stats_summaries) when every school has one: a row per school instead of scanning every incident of a
 * department. Any other period, or a school not summarised yet, is computed live (`options.live` forces it).
 */
export async function crossSchoolStats(
  ctx: ModuleContext,
  structureIds: string[],
  input: StatsInput & { sort?: RankingKey },
  now = new Date(),
  options: { live?: boolean } = {},
): Promise<CrossSchoolStats> {
  const period = periodOrThrow(input, DEFAULT_STATS_ZONE, now);
  const sort = input.sort ?? 'incidents';
  const [structures, settings] = await Promise.all([
    ctx.host.directory.getStructures(structureIds),
    ctx.knex('rsv_structure_settings').select('structure_id', 'time_zone').whereIn('structure_id', structureIds),
  ]);
  const names = new Map(structures.map((s) => [s.id, s.name]));
  const zones = new Map<string, string>(settings.map((s: { structure_id: string; time_zone: string }) => [s.structure_id, s.time_zone]));
  const today = todayIn(DEFAULT_STATS_ZONE, now);
  const years = wholeSchoolYears(period);
  let result: { summaries: SchoolSummary[]; total: CrossSchoolStats['total']; source: CrossSchoolStats['source']; computedAt: Date | null } | null = null;
  if (!options.live && years) {
    const key = { year: years[0]!, span: years.length };
    // Both at once (two connections): the rows, and the percentiles PostgreSQL computes over their durations.
    const [rows, percentiles] = await Promise.all([readSummaries<PackedFigures>(ctx.knex, structureIds, key), summaryPercentiles(ctx.knex, structureIds, key)]);
    if (rows.length === structureIds.length && rows.every((r) => r.figures.v === 1)) {
      const unpacked = rows.map((r) => ({ structure_id: r.structure_id, figures: unpackFigures(r.figures, r.structure_id) }));
      result = { ...fromSummaries(unpacked, percentiles, period, today, names, zones), source: 'summary', computedAt: new Date(Math.min(...rows.map((r) => new Date(r.computed_at).getTime()))) };
    }
  }
  result ??= { ...(await liveCross(ctx, structureIds, period, today, names, zones)), source: 'live', computedAt: now };
  return {
    period,
    sort,
    source: result.source,
    computedAt: result.computedAt,
    structures: rankBy(result.summaries, RANK_VALUE[sort], RANKING_KEYS[sort], (s) => s.name),
    total: result.total,
  };
}

const zeroStatuses = () => Object.fromEntries(INCIDENT_STATUSES.map((s) => [s, 0])) as Record<IncidentStatus, number>;

async function liveCross(ctx: ModuleContext, structureIds: string[], period: Period, today: string, names: Map<string, string>, zones: Map<string, string>) {
  const scope: StatsScope = { structureIds, from: period.from, to: period.to };
  const g = await gather(ctx, scope, { perStructure: 3, overall: 10 });
  const statusCounts = new Map<string, Record<IncidentStatus, number>>();
  for (const r of g.counts) {
    if (!r.structure_id || !r.status) continue;
    const counts = statusCounts.get(r.structure_id) ?? zeroStatuses();
    counts[r.status] = r.count;
    statusCounts.set(r.structure_id, counts);
  }
  const summaries: SchoolSummary[] = structureIds.map((id) => {
    const counts = statusCounts.get(id) ?? zeroStatuses();
    const durations = g.durations.find((d) => d.structure_id === id);
    const occ = g.occupancyRows.find((r) => r.structure_id === id);
    return {
      id,
      name: names.get(id) ?? id,
      timeZone: zones.get(id) ?? DEFAULT_STATS_ZONE,
      rank: null,
      incidents: {
        total: Object.values(counts).reduce((a, b) => a + b, 0),
        statusCounts: counts,
        takeInChargeHours: durationOf(durations, 'take_in_charge'),
        resolveHours: durationOf(durations, 'resolve'),
        backlogAtEnd: g.backlogRows.find((r) => r.structure_id === id)?.backlog ?? 0,
        topEquipment: g.equipment
          .filter((e) => e.structure_id === id && e.rank_in_structure <= 3)
          .sort((a, b) => a.rank_in_structure - b.rank_in_structure)
          .map((e) => ({ id: e.equipment_id, structureId: id, name: e.name, location: e.location, count: e.count, open: e.open })),
      },
      bookings: bookingSummary(occ?.rooms ?? 0, occ?.booked_seconds ?? 0, occ?.capacity_seconds ?? 0),
    };
  });
  return { summaries, total: { structures: structureIds.length, incidents: incidentFiguresOf(g, today, true), bookings: bookingFiguresOf(g, today) } };
}

function bookingSummary(rooms: number, bookedSeconds: number, capacitySeconds: number) {
  return { rooms, bookedHours: secondsToHours(bookedSeconds), capacityHours: secondsToHours(capacitySeconds), occupancyRate: occupancyRate(bookedSeconds, capacitySeconds) };
}

/**
 * What the summary keeps of one school for a school year: its incident figures (the ten equipment that fail most)
 * and its occupancy in seconds, so that rates over many schools are computed from sums, never from averaged rates.
 */
export interface StoredFigures {
  /** Every equipment that had an incident, most failing first. */
  incidents: IncidentFigures;
  bookings: { rooms: number; bookedSeconds: number; capacitySeconds: number; byWeek: Array<{ weekStart: string; bookedSeconds: number; capacitySeconds: number }> };
}

/** One school's figures for a period, as the summary stores them (the job queue calls this for each school). */
export async function storedFiguresOf(ctx: ModuleContext, structureId: string, period: Period, now: Date): Promise<StoredFigures> {
  const scope: StatsScope = { structureIds: [structureId], from: period.from, to: period.to };
  // Every equipment of the school (tens), so that the ranking over many schools is exact.
  const g = await gather(ctx, scope, { perStructure: 1000, overall: 1000 });
  const zone = (await getSettings(ctx.knex, structureId))?.time_zone ?? DEFAULT_STATS_ZONE;
  const total = g.occupancyRows.find((r) => r.structure_id === null && r.week === null);
  return {
    incidents: incidentFiguresOf(g, todayIn(zone, now), false),
    bookings: {
      rooms: total?.rooms ?? 0,
      bookedSeconds: total?.booked_seconds ?? 0,
      capacitySeconds: total?.capacity_seconds ?? 0,
      byWeek: g.occupancyRows.filter((r) => r.week).map((r) => ({ weekStart: r.week!, bookedSeconds: r.booked_seconds, capacitySeconds: r.capacity_seconds })),
    },
  };
}

/**
 * The stored form of StoredFigures: arrays instead of arrays of objects (a school's year in about 1.5 kB of JSON
 * instead of 8 kB), since the cross-school view reads a thousand of them per request.
 */
export interface PackedFigures {
  v: 1;
  /** The Monday the weekly arrays start on. */
  w0: string;
  n: number;
  /** Counts in INCIDENT_STATUSES order. */
  st: number[];
  /** Types and severities in the school's order: label, label key, retired (1/0), count. */
  ty: Array<[string | null, string | null, number, number]>;
  sv: Array<[string | null, string | null, number, number]>;
  /** The equipment that fails most: id, name, location, count, open. */
  eq: Array<[string, string, string, number, number]>;
  /** Declared, taken, resolved: by weekday (1-7), by hour (0-23), by week from w0 (with the backlog). */
  wd: [number[], number[], number[]];
  hr: [number[], number[], number[]];
  wk: [number[], number[], number[], Array<number | null>];
  /** Median, p90, count. */
  tk: [number | null, number | null, number];
  rs: [number | null, number | null, number];
  bl: number;
  /** Rooms, booked seconds, capacity seconds; then booked and capacity seconds by week from w0. */
  bk: [number, number, number];
  bw: [number[], number[]];
}

export function packFigures(f: StoredFigures, period: Period): PackedFigures {
  const weeks = weeksOf(period);
  const w0 = weeks[0]!;
  const occupancy = new Map(f.bookings.byWeek.map((w) => [w.weekStart, w]));
  const values = (list: ValueCount[]) => list.map((v) => [v.label, v.labelKey, v.retired ? 1 : 0, v.count] as [string | null, string | null, number, number]);
  return {
    v: 1,
    w0,
    n: f.incidents.total,
    st: f.incidents.byStatus.map((x) => x.count),
    ty: values(f.incidents.byType),
    sv: values(f.incidents.bySeverity),
    eq: f.incidents.byEquipment.map((e) => [e.id, e.name, e.location, e.count, e.open]),
    wd: [f.incidents.byWeekday.map((x) => x.declared), f.incidents.byWeekday.map((x) => x.taken), f.incidents.byWeekday.map((x) => x.resolved)],
    hr: [f.incidents.byHour.map((x) => x.declared), f.incidents.byHour.map((x) => x.taken), f.incidents.byHour.map((x) => x.resolved)],
    wk: [f.incidents.byWeek.map((x) => x.declared), f.incidents.byWeek.map((x) => x.taken), f.incidents.byWeek.map((x) => x.resolved), f.incidents.byWeek.map((x) => x.backlog)],
    tk: [f.incidents.takeInChargeHours.median, f.incidents.takeInChargeHours.p90, f.incidents.takeInChargeHours.count],
    rs: [f.incidents.resolveHours.median, f.incidents.resolveHours.p90, f.incidents.resolveHours.count],
    bl: f.incidents.backlogAtEnd,
    bk: [f.bookings.rooms, f.bookings.bookedSeconds, f.bookings.capacitySeconds],
    bw: [weeks.map((w) => occupancy.get(w)?.bookedSeconds ?? 0), weeks.map((w) => occupancy.get(w)?.capacitySeconds ?? 0)],
  };
}

/** The Mondays from w0 on, computed once per w0 (every school of a request shares it; luxon is slow in a loop). */
const mondaysFrom = (() => {
  const memo = new Map<string, string[]>();
  return (w0: string, count: number): string[] => {
    let list = memo.get(w0);
    if (!list || list.length < count) {
      list = Array.from({ length: Math.max(count, 54) }, (_, i) => DateTime.fromISO(w0, { zone: 'UTC' }).plus({ weeks: i }).toISODate()!);
      if (memo.size > 50) memo.clear();
      memo.set(w0, list);
    }
    return list;
  };
})();

export function unpackFigures(p: PackedFigures, structureId: string): StoredFigures {
  const mondays = mondaysFrom(p.w0, Math.max(p.wk[0].length, p.bw[0].length));
  const week = (i: number) => mondays[i]!;
  const values = (list: PackedFigures['ty']): ValueCount[] => list.map(([label, labelKey, retired, count]) => ({ id: null, label, labelKey, retired: retired === 1, count }));
  return {
    incidents: {
      total: p.n,
      byStatus: INCIDENT_STATUSES.map((status, i) => ({ status, count: p.st[i] ?? 0 })),
      byType: values(p.ty),
      bySeverity: values(p.sv),
      byEquipment: p.eq.map(([id, name, location, count, open]) => ({ id, structureId, name, location, count, open })),
      byWeekday: p.wd[0].map((_, i) => ({ weekday: i + 1, declared: p.wd[0][i]!, taken: p.wd[1][i]!, resolved: p.wd[2][i]! })),
      byHour: p.hr[0].map((_, i) => ({ hour: i, declared: p.hr[0][i]!, taken: p.hr[1][i]!, resolved: p.hr[2][i]! })),
      byWeek: p.wk[0].map((_, i) => ({ weekStart: week(i), declared: p.wk[0][i]!, taken: p.wk[1][i]!, resolved: p.wk[2][i]!, backlog: p.wk[3][i] ?? null })),
      takeInChargeHours: { median: p.tk[0], p90: p.tk[1], count: p.tk[2] },
      resolveHours: { median: p.rs[0], p90: p.rs[1], count: p.rs[2] },
      backlogAtEnd: p.bl,
    },
    bookings: {
      rooms: p.bk[0],
      bookedSeconds: p.bk[1],
      capacitySeconds: p.bk[2],
      byWeek: p.bw[0].map((_, i) => ({ weekStart: week(i), bookedSeconds: p.bw[0][i]!, capacitySeconds: p.bw[1][i]! })),
    },
  };
}

/** Computes and stores one school's summary of a period (the figures are those of `computedAt`'s reads). */
export async function refreshSchoolSummary(ctx: ModuleContext, structureId: string, key: SummaryKey, computedAt: Date, now = new Date()): Promise<void> {
  const period = summaryPeriod(key);
  await upsertSummary(ctx.knex, structureId, key, computedAt, packFigures(await storedFiguresOf(ctx, structureId, period, now), period));
}

/** The cross-school figures from the schools' stored summaries: sums of counts and seconds, exact percentiles. */
function fromSummaries(
  rows: Array<{ structure_id: string; figures: StoredFigures }>,
  percentiles: DurationRow,
  period: Period,
  today: string,
  names: Map<string, string>,
  zones: Map<string, string>,
): { summaries: SchoolSummary[]; total: CrossSchoolStats['total'] } {
  const weeks = weeksSoFar(period, today);
  const summaries: SchoolSummary[] = rows.map(({ structure_id: id, figures: f }) => ({
    id,
    name: names.get(id) ?? id,
    timeZone: zones.get(id) ?? DEFAULT_STATS_ZONE,
    rank: null,
    incidents: {
      total: f.incidents.total,
      statusCounts: Object.fromEntries(f.incidents.byStatus.map((s) => [s.status, s.count])) as Record<IncidentStatus, number>,
      takeInChargeHours: f.incidents.takeInChargeHours,
      resolveHours: f.incidents.resolveHours,
      backlogAtEnd: f.incidents.backlogAtEnd,
      topEquipment: f.incidents.byEquipment.slice(0, 3),
    },
    bookings: bookingSummary(f.bookings.rooms, f.bookings.bookedSeconds, f.bookings.capacitySeconds),
  }));
  const sum = <T>(pick: (f: StoredFigures) => T[], index: (t: T) => number | string, value: (t: T) => number) => {
    const totals = new Map<number | string, number>();
    for (const r of rows) for (const t of pick(r.figures)) totals.set(index(t), (totals.get(index(t)) ?? 0) + value(t));
    return totals;
  };
  const work = <B extends WorkBucket>(pick: (f: StoredFigures) => B[], key: (b: B) => number | string) => ({
    declared: sum(pick, key, (b) => b.declared),
    taken: sum(pick, key, (b) => b.taken),
    resolved: sum(pick, key, (b) => b.resolved),
  });
  const byWeekday = work((f) => f.incidents.byWeekday, (b) => b.weekday);
  const byHour = work((f) => f.incidents.byHour, (b) => b.hour);
  const byWeek = work((f) => f.incidents.byWeek, (b) => b.weekStart);
  // A school summarised before a week began has had no change since (else it would have been refreshed): its backlog
  // is still the last one it had.
  const backlogOf = (f: StoredFigures, week: string): number | null => {
    let last: number | null = null;
    for (const w of f.incidents.byWeek) if (w.weekStart <= week && w.backlog !== null) last = w.backlog;
    return last;
  };
  const statuses = sum((f) => f.incidents.byStatus, (s) => s.status, (s) => s.count);
  const bookedWeek = sum((f) => f.bookings.byWeek, (w) => w.weekStart, (w) => w.bookedSeconds);
  const capacityWeek = sum((f) => f.bookings.byWeek, (w) => w.weekStart, (w) => w.capacitySeconds);
  const booked = rows.reduce((a, r) => a + r.figures.bookings.bookedSeconds, 0);
  const capacity = rows.reduce((a, r) => a + r.figures.bookings.capacitySeconds, 0);
  const bucket = (m: { declared: Map<number | string, number>; taken: Map<number | string, number>; resolved: Map<number | string, number> }, k: number | string): WorkBucket => ({ declared: m.declared.get(k) ?? 0, taken: m.taken.get(k) ?? 0, resolved: m.resolved.get(k) ?? 0 });
  const incidents: IncidentFigures = {
    total: rows.reduce((a, r) => a + r.figures.incidents.total, 0),
    byStatus: INCIDENT_STATUSES.map((status) => ({ status, count: statuses.get(status) ?? 0 })),
    byType: mergeValueCounts(rows.map((r) => r.figures.incidents.byType)),
    bySeverity: mergeValueCounts(rows.map((r) => r.figures.incidents.bySeverity)),
    byEquipment: rows
      .flatMap((r) => r.figures.incidents.byEquipment)
      .sort((a, b) => b.count - a.count || (a.structureId < b.structureId ? -1 : a.structureId > b.structureId ? 1 : 0) || Number(a.id) - Number(b.id))
      .slice(0, 10),
    byWeekday: [1, 2, 3, 4, 5, 6, 7].map((d) => ({ weekday: d, ...bucket(byWeekday, d) })),
    byHour: Array.from({ length: 24 }, (_, h) => ({ hour: h, ...bucket(byHour, h) })),
    byWeek: weeks.map((w) => {
      const backlogs = rows.map((r) => backlogOf(r.figures, w)).filter((b): b is number => b !== null);
      return { weekStart: w, ...bucket(byWeek, w), backlog: backlogs.length ? backlogs.reduce((a, b) => a + b, 0) : null };
    }),
    takeInChargeHours: durationOf(percentiles, 'take_in_charge'),
    resolveHours: durationOf(percentiles, 'resolve'),
    backlogAtEnd: rows.reduce((a, r) => a + r.figures.incidents.backlogAtEnd, 0),
  };
  return {
    summaries,
    total: {
      structures: rows.length,
      incidents,
      bookings: {
        rooms: rows.reduce((a, r) => a + r.figures.bookings.rooms, 0),
        bookedHours: secondsToHours(booked),
        capacityHours: secondsToHours(capacity),
        occupancyRate: occupancyRate(booked, capacity),
        byWeek: weeks.map((w) => ({
          weekStart: w,
          bookedHours: secondsToHours(bookedWeek.get(w) ?? 0),
          capacityHours: secondsToHours(capacityWeek.get(w) ?? 0),
          occupancyRate: occupancyRate(bookedWeek.get(w) ?? 0, capacityWeek.get(w) ?? 0),
        })),
      },
    },
  };
}

/** Types or severities of several schools, matched by what they are called (as valueCountsAcross does live). */
function mergeValueCounts(lists: ValueCount[][]): ValueCount[] {
  const merged = new Map<string, ValueCount & { position: number }>();
  for (const list of lists) {
    list.forEach((v, position) => {
      const key = v.label ? `label:${v.label.trim().toLowerCase()}` : `key:${v.labelKey}`;
      const entry = merged.get(key) ?? { id: null, label: v.label, labelKey: v.label ? null : v.labelKey, retired: true, count: 0, position };
      entry.count += v.count;
      entry.retired &&= v.retired;
      entry.position = Math.min(entry.position, position);
      merged.set(key, entry);
    });
  }
  return [...merged.values()].sort((a, b) => a.position - b.position || b.count - a.count).map(({ position: _p, ...v }) => v);
}

/** The incidents of a school's period with their history, for the CSV export. */
export async function incidentsExport(ctx: ModuleContext, structureId: string, input: StatsInput, now = new Date()): Promise<{ period: Period & { timeZone: string }; rows: IncidentExportRow[] }> {
  const period = await schoolPeriod(ctx, structureId, input, now);
  return { period, rows: await incidentsForExport(ctx.knex, structureId, period) };
}
