import { createHash } from 'node:crypto';
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
  freshDashboard,
  incidentsForExport,
  keepDashboard,
  nextDueTime,
  IncidentExportRow,
  ListValueRow,
  listValues,
  occupancy,
  readSummaries,
  summaryVersions,
  roomOccupancy,
  StatsScope,
  SummaryKey,
  summaryPercentiles,
  summaryPeriod,
  upsertSummary,
} from '../store/stats';
import { getSettings } from '../store/settings';
import { LiveGate } from './live-gate';
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
  /** `kept`: the figures kept for the default period, still exact; `live`: computed for this request. Not presented. */
  source: 'live' | 'kept';
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

/** The school dashboard: every figure of one school for a period, computed now. */
async function liveSchoolStats(ctx: ModuleContext, structureId: string, period: Period & { timeZone: string }, now: Date): Promise<Omit<SchoolStats, 'structure' | 'source'>> {
  const scope: StatsScope = { structureIds: [structureId], from: period.from, to: period.to };
  const [g, rooms, clock] = await Promise.all([
    gather(ctx, scope, { perStructure: 1000, overall: 1000 }),
    roomOccupancy(ctx.knex, scope),
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
    period,
    incidents: incidentFiguresOf(g, today, false),
    bookings: { ...bookingFiguresOf(g, today), byRoom, ...mostAndLeastUsed(byRoom) },
    serviceClock: clock,
  };
}

/**
 * How long a transaction may run: a change committed after figures were read is dated (now() of its transaction) at
 * most this long before the reads. A kept dashboard is trusted only while no change is dated after its reads minus
 * this margin, and a cross-school summary is dated this long before its reads (stats-summary.ts).
 */
export const SETTLE_MS = 60 * 1000;

/**
 * The school dashboard: every figure of one school for a period. The default period (the current school year), the
 * one every visit opens on, is kept once computed (rsv_stats_dashboards) and served again while provably fresh: the
 * same day, no due time passed, no incident, move or booking of the school dated at or after the reads minus the
 * settling margin, the same last incident, the same equipment, lists and settings. Otherwise it is computed live and
 * kept again, so the dashboard is always exact. `options.live` never reads the kept one.
 */
export async function schoolStats(ctx: ModuleContext, structureId: string, input: StatsInput, now = new Date(), options: { live?: boolean } = {}): Promise<SchoolStats> {
  const period = await schoolPeriod(ctx, structureId, input, now);
  const nameOf = () => ctx.host.directory.getStructures([structureId]).then((s) => s[0]?.name ?? structureId);
  if (options.live || input.from || input.to) {
    const [figures, structureName] = await Promise.all([liveSchoolStats(ctx, structureId, period, now), nameOf()]);
    return { structure: { id: structureId, name: structureName }, ...figures, source: 'live' };
  }
  const key = { from: period.from, to: period.to, day: todayIn(period.timeZone, now) };
  const [state, structureName] = await Promise.all([freshDashboard<Omit<SchoolStats, 'structure' | 'source'>>(ctx.knex, structureId, key, SETTLE_MS / 1000), nameOf()]);
  const structure = { id: structureId, name: structureName };
  if (state.figures) return { structure, ...state.figures, source: 'kept' };
  // A school changed within the margin would not be fresh at the next visit: nothing to keep yet.
  if (!state.settled) return { structure, ...(await liveSchoolStats(ctx, structureId, period, now)), source: 'live' };
  // Due times after the state's instant, which comes before every read of the computation: none is missed.
  const [figures, validUntil] = await Promise.all([liveSchoolStats(ctx, structureId, period, now), nextDueTime(ctx.knex, structureId, state.now)]);
  await keepDashboard(ctx.knex, structureId, key, { validUntil, changedAt: state.changed_at, lastIncidentId: state.last_incident_id, lists: state.lists }, figures);
  return { structure, ...figures, source: 'live' };
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
    const read = await fromSummaryTable(ctx, structureIds, { year: years[0]!, span: years.length }, period, today);
    if (read) result = { ...read, source: 'summary' };
  }
  result ??= { ...(await liveCrossShared(ctx, structureIds, period, today, now)), source: 'live' };
  // Names and zones are the directory's and the settings' of now; the rest is the same for everyone of the key.
  const summaries = result.summaries.map((s) => ({ ...s, name: names.get(s.id) ?? s.id, timeZone: zones.get(s.id) ?? DEFAULT_STATS_ZONE }));
  return {
    period,
    sort,
    source: result.source,
    computedAt: result.computedAt,
    structures: rankBy(summaries, RANK_VALUE[sort], RANKING_KEYS[sort], (s) => s.name),
    total: result.total,
  };
}

type SummaryResult = Pick<CrossSchoolStats, 'total' | 'computedAt'> & { summaries: SchoolSummary[] };

/**
 * The cross-school figures made from the same summary rows are the same figures: they are kept per process (a few
 * sets of schools), keyed by the period, today (the weeks so far) and each row's version, which a refresh changes.
 * A request then reads the rows' versions only (a few bytes per school), not their figures, and sorts no durations.
 * The entry is the computation's promise: requests arriving together compute it once.
 */
const summaryMemo = new Map<string, Promise<SummaryResult | null>>();
const SUMMARY_MEMO_SIZE = 8;

function fingerprintOf(key: SummaryKey, today: string, rows: Array<{ structure_id: string; computed_at: Date; version: string }>): string {
  return createHash('sha256')
    .update(`${key.year}/${key.span}/${today}\n`)
    .update(rows.map((r) => `${r.structure_id}@${new Date(r.computed_at).getTime()}@${r.version}`).sort().join('\n'))
    .digest('base64');
}

function remember(fingerprint: string, entry: Promise<SummaryResult | null>): void {
  summaryMemo.delete(fingerprint);
  if (summaryMemo.size >= SUMMARY_MEMO_SIZE) summaryMemo.delete(summaryMemo.keys().next().value!);
  summaryMemo.set(fingerprint, entry);
}

/** The figures from the summary when every school has a row of this period, else null (computed live then). */
async function fromSummaryTable(ctx: ModuleContext, structureIds: string[], key: SummaryKey, period: Period, today: string): Promise<SummaryResult | null> {
  const versions = await summaryVersions(ctx.knex, structureIds, key);
  if (versions.length !== structureIds.length) return null;
  const fingerprint = fingerprintOf(key, today, versions);
  const known = summaryMemo.get(fingerprint);
  // Used again: it moves to the newest end, so that the memo forgets the least recently used first.
  if (known) {
    remember(fingerprint, known);
    return known;
  }
  const entry = (async (): Promise<SummaryResult | null> => {
    const rows = await readSummaries<PackedFigures>(ctx.knex, structureIds, key);
    if (rows.length !== structureIds.length || !rows.every((r) => r.figures.v === 1)) return null;
    // Read after the rows: medians of rows refreshed in between would be newer than the counts, but then the rows'
    // versions have moved on too, and this entry is never asked for again.
    const percentiles = await summaryPercentiles(ctx.knex, structureIds, key);
    const read = fingerprintOf(key, today, rows);
    const result = { ...fromSummaries(rows, percentiles, period, today), computedAt: new Date(Math.min(...rows.map((r) => new Date(r.computed_at).getTime()))) };
    if (read !== fingerprint) remember(read, Promise.resolve(result));
    return result;
  })();
  remember(fingerprint, entry);
  // A failure is not kept: the next request tries again.
  entry.catch(() => summaryMemo.get(fingerprint) === entry && summaryMemo.delete(fingerprint));
  return entry;
}

const zeroStatuses = () => Object.fromEntries(INCIDENT_STATUSES.map((s) => [s, 0])) as Record<IncidentStatus, number>;

/**
 * A live cross-school computation takes seconds of database time over a department: one at a time per process, two
 * more waiting, identical requests sharing one (the same schools, period and day); others get 503 and Retry-After.
 */
export const liveCrossGate = new LiveGate(1, 2, 'statsBusy');

/** The figures of the computation this request joined, with the instant that computation started. */
function liveCrossShared(ctx: ModuleContext, structureIds: string[], period: Period, today: string, now: Date): Promise<SummaryResult> {
  const schools = createHash('sha256').update([...structureIds].sort().join('\n')).digest('base64url');
  return liveCrossGate.run(`${period.from}|${period.to}|${today}|${schools}`, async () => ({ ...(await liveCross(ctx, structureIds, period, today)), computedAt: now }));
}

async function liveCross(ctx: ModuleContext, structureIds: string[], period: Period, today: string) {
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
      name: id,
      timeZone: DEFAULT_STATS_ZONE,
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

/** Computes and stores one school's summary of a period (the figures are those of `computedAt`'s reads). */
export async function refreshSchoolSummary(ctx: ModuleContext, structureId: string, key: SummaryKey, computedAt: Date, now = new Date()): Promise<void> {
  const period = summaryPeriod(key);
  await upsertSummary(ctx.knex, structureId, key, computedAt, packFigures(await storedFiguresOf(ctx, structureId, period, now), period));
}

/**
 * The cross-school figures from the schools' stored summaries: sums of counts and seconds, week by week by index (every
 * row of a period starts on the same Monday), and the exact percentiles given. A thousand schools are a thousand small
 * arrays to add up, not a thousand sets of objects.
 */
function fromSummaries(
  rows: Array<{ structure_id: string; figures: PackedFigures }>,
  percentiles: DurationRow,
  period: Period,
  today: string,
): { summaries: SchoolSummary[]; total: CrossSchoolStats['total'] } {
  const weeks = weeksSoFar(period, today);
  const zeros = (n: number) => new Array<number>(n).fill(0);
  const add = (into: number[], from: ReadonlyArray<number | null>) => {
    for (let i = 0; i < into.length && i < from.length; i++) into[i]! += from[i] ?? 0;
  };
  const statuses = zeros(INCIDENT_STATUSES.length);
  const weekday = [zeros(7), zeros(7), zeros(7)];
  const hour = [zeros(24), zeros(24), zeros(24)];
  const week = [zeros(weeks.length), zeros(weeks.length), zeros(weeks.length)];
  const backlog = new Array<number | null>(weeks.length).fill(null);
  const booked = zeros(weeks.length);
  const capacity = zeros(weeks.length);
  const equipment: EquipmentCount[] = [];
  const summaries: SchoolSummary[] = [];
  let total = 0;
  let backlogAtEnd = 0;
  let rooms = 0;
  let bookedSeconds = 0;
  let capacitySeconds = 0;
  const equipmentOf = (id: string, [eid, name, location, count, open]: PackedFigures['eq'][number]): EquipmentCount => ({ id: eid, structureId: id, name, location, count, open });
  for (const { structure_id: id, figures: p } of rows) {
    total += p.n;
    backlogAtEnd += p.bl;
    [rooms, bookedSeconds, capacitySeconds] = [rooms + p.bk[0], bookedSeconds + p.bk[1], capacitySeconds + p.bk[2]];
    add(statuses, p.st);
    for (let k = 0; k < 3; k++) {
      add(weekday[k]!, p.wd[k]);
      add(hour[k]!, p.hr[k]);
      add(week[k]!, p.wk[k]);
    }
    // A school summarised before a week began has had no change since (else it would have been refreshed): its backlog
    // is still the last one it had.
    let last: number | null = null;
    for (let i = 0; i < weeks.length; i++) {
      const b = p.wk[3][i];
      if (b !== undefined && b !== null) last = b;
      if (last !== null) backlog[i] = (backlog[i] ?? 0) + last;
    }
    add(booked, p.bw[0]);
    add(capacity, p.bw[1]);
    // Each school's list is ranked: the ten first over all schools are among each school's ten first.
    for (const e of p.eq.slice(0, 10)) equipment.push(equipmentOf(id, e));
    summaries.push({
      id,
      name: id,
      timeZone: DEFAULT_STATS_ZONE,
      rank: null,
      incidents: {
        total: p.n,
        statusCounts: Object.fromEntries(INCIDENT_STATUSES.map((status, i) => [status, p.st[i] ?? 0])) as Record<IncidentStatus, number>,
        takeInChargeHours: { median: p.tk[0], p90: p.tk[1], count: p.tk[2] },
        resolveHours: { median: p.rs[0], p90: p.rs[1], count: p.rs[2] },
        backlogAtEnd: p.bl,
        topEquipment: p.eq.slice(0, 3).map((e) => equipmentOf(id, e)),
      },
      bookings: bookingSummary(p.bk[0], p.bk[1], p.bk[2]),
    });
  }
  const values = (list: PackedFigures['ty']): ValueCount[] => list.map(([label, labelKey, retired, count]) => ({ id: null, label, labelKey, retired: retired === 1, count }));
  const incidents: IncidentFigures = {
    total,
    byStatus: INCIDENT_STATUSES.map((status, i) => ({ status, count: statuses[i]! })),
    byType: mergeValueCounts(rows.map((r) => values(r.figures.ty))),
    bySeverity: mergeValueCounts(rows.map((r) => values(r.figures.sv))),
    byEquipment: equipment
      .sort((a, b) => b.count - a.count || (a.structureId < b.structureId ? -1 : a.structureId > b.structureId ? 1 : 0) || Number(a.id) - Number(b.id))
      .slice(0, 10),
    byWeekday: weekday[0]!.map((_, i) => ({ weekday: i + 1, declared: weekday[0]![i]!, taken: weekday[1]![i]!, resolved: weekday[2]![i]! })),
    byHour: hour[0]!.map((_, i) => ({ hour: i, declared: hour[0]![i]!, taken: hour[1]![i]!, resolved: hour[2]![i]! })),
    byWeek: weeks.map((weekStart, i) => ({ weekStart, declared: week[0]![i]!, taken: week[1]![i]!, resolved: week[2]![i]!, backlog: backlog[i] ?? null })),
    takeInChargeHours: durationOf(percentiles, 'take_in_charge'),
    resolveHours: durationOf(percentiles, 'resolve'),
    backlogAtEnd,
  };
  return {
    summaries,
    total: {
      structures: rows.length,
      incidents,
      bookings: {
        rooms,
        bookedHours: secondsToHours(bookedSeconds),
        capacityHours: secondsToHours(capacitySeconds),
        occupancyRate: occupancyRate(bookedSeconds, capacitySeconds),
        byWeek: weeks.map((weekStart, i) => ({
          weekStart,
          bookedHours: secondsToHours(booked[i]!),
          capacityHours: secondsToHours(capacity[i]!),
          occupancyRate: occupancyRate(booked[i]!, capacity[i]!),
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
