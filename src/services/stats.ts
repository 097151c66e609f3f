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
  roomOccupancy,
  StatsScope,
} from '../store/stats';
import { getSettings } from '../store/settings';

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
  const [g, rooms, structures] = await Promise.all([
    gather(ctx, scope, { perStructure: 1000, overall: 1000 }),
    roomOccupancy(ctx.knex, scope),
    ctx.host.directory.getStructures([structureId]),
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
 */
export async function crossSchoolStats(ctx: ModuleContext, structureIds: string[], input: StatsInput & { sort?: RankingKey }, now = new Date()): Promise<CrossSchoolStats> {
  const period = periodOrThrow(input, DEFAULT_STATS_ZONE, now);
  const sort = input.sort ?? 'incidents';
  const scope: StatsScope = { structureIds, from: period.from, to: period.to };
  const [g, structures, settings] = await Promise.all([
    gather(ctx, scope, { perStructure: 3, overall: 10 }),
    ctx.host.directory.getStructures(structureIds),
    ctx.knex('rsv_structure_settings').select('structure_id', 'time_zone').whereIn('structure_id', structureIds),
  ]);
  const zones = new Map<string, string>(settings.map((s: { structure_id: string; time_zone: string }) => [s.structure_id, s.time_zone]));
  const names = new Map(structures.map((s) => [s.id, s.name]));
  const statusCounts = new Map<string, Record<IncidentStatus, number>>();
  for (const r of g.counts) {
    if (!r.structure_id || !r.status) continue;
    const counts = statusCounts.get(r.structure_id) ?? (Object.fromEntries(INCIDENT_STATUSES.map((s) => [s, 0])) as Record<IncidentStatus, number>);
    counts[r.status] = r.count;
    statusCounts.set(r.structure_id, counts);
  }
  const summaries: SchoolSummary[] = structureIds.map((id) => {
    const counts = statusCounts.get(id) ?? (Object.fromEntries(INCIDENT_STATUSES.map((s) => [s, 0])) as Record<IncidentStatus, number>);
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
      bookings: {
        rooms: occ?.rooms ?? 0,
        bookedHours: secondsToHours(occ?.booked_seconds ?? 0),
        capacityHours: secondsToHours(occ?.capacity_seconds ?? 0),
        occupancyRate: occupancyRate(occ?.booked_seconds ?? 0, occ?.capacity_seconds ?? 0),
      },
    };
  });
  const ranked = rankBy(summaries, RANK_VALUE[sort], RANKING_KEYS[sort], (s) => s.name);
  const today = todayIn(DEFAULT_STATS_ZONE, now);
  return {
    period,
    sort,
    structures: ranked,
    total: { structures: structureIds.length, incidents: incidentFiguresOf(g, today, true), bookings: bookingFiguresOf(g, today) },
  };
}

/** The incidents of a school's period with their history, for the CSV export. */
export async function incidentsExport(ctx: ModuleContext, structureId: string, input: StatsInput, now = new Date()): Promise<{ period: Period & { timeZone: string }; rows: IncidentExportRow[] }> {
  const period = await schoolPeriod(ctx, structureId, input, now);
  return { period, rows: await incidentsForExport(ctx.knex, structureId, period) };
}
