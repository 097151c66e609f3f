import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import { ConflictError, ForbiddenError, NotFoundError, RefusedError } from '../errors';
import type { Actor } from '../domain/policies';
import type { Holiday, OpeningHours } from '../domain/bookings';
import { decideConfirmation, DEFAULT_REOPEN_DAYS } from '../domain/incident-policy';
import {
  addSchoolHours,
  dueTimes,
  isOverdue,
  roundSchoolHours,
  SchoolCalendar,
  schoolHoursBetween,
  ServiceTargets,
} from '../domain/service-clock';
import { IncidentStatus, isResolved, OPEN_STATUSES_SQL, timestampsOfMove } from '../domain/workflow';
import { getIncidentRow, IncidentPatch, IncidentRow, updateIncidentVersioned } from '../store/incidents';
import { appendIncidentEvent } from '../store/incident-events';
import { getSettings } from '../store/settings';
import { announceOutOfService } from './availability';

/**
 * The service clock's use cases: the school's calendar and a severity's targets read from the database, the due times
 * of a declaration, what a move changes on the clock (school hours taken, a new due time on reopening), the reporter's
 * confirmation, and the backfill of incidents declared before the clock existed.
 */

/** The defaults of rsv_severities (migration 0001): take in charge within 8 school hours, resolve within 40. */
export const DEFAULT_TARGETS: ServiceTargets = { takeInChargeHours: 8, resolveHours: 40 };

export function calendarOfSettings(settings: { time_zone?: string; opening_hours?: unknown; holidays?: unknown } | null | undefined): SchoolCalendar {
  return {
    zone: settings?.time_zone ?? 'Europe/Paris',
    openingHours: (settings?.opening_hours ?? {}) as OpeningHours,
    holidays: (settings?.holidays ?? []) as Holiday[],
  };
}

export async function schoolCalendarOf(knex: Knex, structureId: string): Promise<SchoolCalendar> {
  return calendarOfSettings(await getSettings(knex, structureId));
}

export async function serviceTargetsOf(knex: Knex, structureId: string, severityId: string): Promise<ServiceTargets> {
  const row = await knex('rsv_severities').where({ structure_id: structureId, id: severityId }).first('take_in_charge_hours', 'resolve_hours');
  return row ? targetsOfSeverity(row) : DEFAULT_TARGETS;
}

/** A severity row's targets (numeric columns: strings from node-postgres). */
export function targetsOfSeverity(row: { take_in_charge_hours: string | number; resolve_hours: string | number }): ServiceTargets {
  return { takeInChargeHours: Number(row.take_in_charge_hours), resolveHours: Number(row.resolve_hours) };
}

/** What the clock needs to know about a school and an incident's severity (read before a transaction). */
export interface ClockContext {
  calendar: SchoolCalendar;
  targets: ServiceTargets;
}

export async function clockContextOf(knex: Knex, structureId: string, severityId: string): Promise<ClockContext> {
  const [calendar, targets] = await Promise.all([schoolCalendarOf(knex, structureId), serviceTargetsOf(knex, structureId, severityId)]);
  return { calendar, targets };
}

/** The due times of an incident declared at `now`. */
export function declarationDueTimes(clock: ClockContext, now: Date): { takeInChargeDueAt: Date | null; resolveDueAt: Date | null } {
  return dueTimes(now, clock.targets, clock.calendar);
}

/**
 * What a status move changes on the clock: the school hours it took to be taken in charge (the first move out of
 * `new`) and to be resolved (closed or dismissed; cleared when reopened); on reopening, a new resolve due time counted
 * from now and the reporter's former answer forgotten; on closing, the reporter's answer awaited afresh.
 */
export function clockPatchOfMove(row: Pick<IncidentRow, 'status' | 'created_at' | 'taken_at'>, to: IncidentStatus, clock: ClockContext, now: Date): IncidentPatch {
  const patch: IncidentPatch = {};
  const effects = timestampsOfMove(row.status, to);
  const hoursSince = (from: Date) => roundSchoolHours(schoolHoursBetween(new Date(from), now, clock.calendar));
  if (effects.setTakenAt && !row.taken_at) patch.taken_school_hours = hoursSince(row.created_at);
  if (effects.resolvedAt === 'set') patch.resolved_school_hours = hoursSince(row.created_at);
  if (effects.resolvedAt === 'clear') {
    patch.resolved_school_hours = null;
    patch.resolve_due_at = addSchoolHours(now, clock.targets.resolveHours, clock.calendar);
  }
  if (to === 'closed' || effects.resolvedAt === 'clear') {
    patch.confirmed_at = null;
    patch.confirmed_fixed = null;
  }
  return patch;
}

/** The clock of an incident as the API shows it (GET /incidents/:id's `serviceClock`). */
export function serviceClockOf(row: Pick<IncidentRow, 'take_in_charge_due_at' | 'resolve_due_at' | 'taken_at' | 'resolved_at' | 'taken_school_hours' | 'resolved_school_hours'>, now = new Date()) {
  const date = (d: Date | string | null) => (d ? new Date(d) : null);
  const facts = { takeInChargeDueAt: date(row.take_in_charge_due_at), resolveDueAt: date(row.resolve_due_at), takenAt: date(row.taken_at), resolvedAt: date(row.resolved_at) };
  const hours = (v: string | number | null) => (v === null || v === undefined ? undefined : Number(v));
  return {
    takeInChargeDueAt: facts.takeInChargeDueAt ? facts.takeInChargeDueAt.toISOString() : null,
    resolveDueAt: facts.resolveDueAt ? facts.resolveDueAt.toISOString() : null,
    ...(row.taken_at && hours(row.taken_school_hours) !== undefined ? { takenInSchoolHours: hours(row.taken_school_hours) } : {}),
    ...(row.resolved_at && hours(row.resolved_school_hours) !== undefined ? { resolvedInSchoolHours: hours(row.resolved_school_hours) } : {}),
    overdue: isOverdue(facts, now),
  };
}
export type ServiceClockView = ReturnType<typeof serviceClockOf>;

// ---- the reporter's confirmation ----------------------------------------------------------------------------------

export interface ConfirmationInput {
  fixed: boolean;
  /** Required when not fixed: what is still wrong (the route checks it). */
  comment?: string;
  version?: number;
}

export interface ConfirmationResult {
  incident: IncidentRow;
  /** False when the same answer had already been recorded (nothing written, nobody told again). */
  changed: boolean;
}

function conflictOf(row: IncidentRow): ConflictError {
  return new ConflictError('conflict', 'incident:errors.conflict', {}, { incidentId: String(row.id) });
}

/**
 * The reporter answers "is it fixed?" about their closed incident. Fixed: the confirmation is recorded (a `confirmed`
 * event: the referents are told). Not fixed: the incident goes back to in_progress with the reporter's comment (a
 * `reopened` event), its resolve due time counted again from now, and its equipment out of service again if the
 * incident had put it out of service. Same optimistic concurrency as every move (409 when somebody changed it first).
 */
export async function confirmIncident(ctx: ModuleContext, actor: Actor, structureId: string, id: string, input: ConfirmationInput, now = new Date()): Promise<ConfirmationResult> {
  const first = await getIncidentRow(ctx.knex, structureId, id);
  if (!first) throw new NotFoundError();
  const [settings, clock] = await Promise.all([getSettings(ctx.knex, structureId), clockContextOf(ctx.knex, structureId, String(first.severity_id))]);
  const reopenDays = settings?.reopen_days ?? DEFAULT_REOPEN_DAYS;
  return ctx.knex.transaction(async (trx) => {
    const row = await getIncidentRow(trx, structureId, id);
    if (!row) throw new NotFoundError();
    if (input.version !== undefined && input.version !== row.version) throw conflictOf(row);
    const facts = { status: row.status, reporterId: row.reporter_id, resolvedAt: row.resolved_at, level: row.level, domain: row.domain };
    const decision = decideConfirmation(actor, facts, input.fixed, { now, reopenDays });
    if (!decision.ok) {
      if (decision.reason === 'not_reporter') throw new ForbiddenError('clock:errors.onlyReporterConfirms', {}, 'not_reporter');
      if (decision.reason === 'reopen_window_passed') {
        throw new RefusedError('reopen_window_passed', 'incident:errors.reopenWindowPassed', { days: decision.reopenDays }, { reopenDays: decision.reopenDays });
      }
      throw new RefusedError('not_closed', 'clock:errors.notClosed', { status: decision.status }, { status: decision.status });
    }
    if (!decision.reopens) {
      if (row.confirmed_fixed === true) return { incident: row, changed: false };
      const updated = await updateIncidentVersioned(trx, structureId, id, row.version, { confirmed_at: now, confirmed_fixed: true });
      if (!updated) throw conflictOf(row);
      await appendIncidentEvent(trx, { incidentId: id, structureId, kind: 'confirmed', actorId: actor.id, data: { fixed: true } });
      return { incident: updated, changed: true };
    }
    const to: IncidentStatus = 'in_progress';
    const updated = await updateIncidentVersioned(trx, structureId, id, row.version, {
      status: to,
      resolved_at: null,
      ...clockPatchOfMove(row, to, clock, now),
      confirmed_at: now,
      confirmed_fixed: false,
    });
    if (!updated) throw conflictOf(row);
    await appendIncidentEvent(trx, { incidentId: id, structureId, kind: 'reopened', actorId: actor.id, fromStatus: row.status, toStatus: to, comment: input.comment ?? null, data: { fixed: false } });
    if (row.out_of_service && isResolved(row.status)) await announceOutOfService(trx, structureId, String(row.equipment_id), id, actor.id);
    return { incident: updated, changed: true };
  });
}

// ---- incidents declared before the clock existed ------------------------------------------------------------------

/**
 * Fills the clock's columns of the incidents that lack them, from each school's calendar and targets as they are now:
 * the due times from the declaration, the school hours to be taken in charge and resolved. In batches by id (keyset),
 * one UPDATE per batch. Used by migration 0008; rows inserted by SQL afterwards (the benchmark's seeds) can be filled
 * by calling it again.
 */
export async function backfillServiceClock(knex: Knex, batchSize = 1000): Promise<number> {
  const calendars = new Map<string, SchoolCalendar>();
  const targets = new Map<string, ServiceTargets>();
  let lastId = '0';
  let done = 0;
  for (;;) {
    const rows: Array<Pick<IncidentRow, 'id' | 'structure_id' | 'severity_id' | 'created_at' | 'taken_at' | 'resolved_at' | 'taken_school_hours' | 'resolved_school_hours'>> = await knex('rsv_incidents')
      .select('id', 'structure_id', 'severity_id', 'created_at', 'taken_at', 'resolved_at', 'taken_school_hours', 'resolved_school_hours')
      .where('id', '>', lastId)
      .where((q) => q.whereNull('take_in_charge_due_at').orWhere((q2) => q2.whereNotNull('taken_at').whereNull('taken_school_hours')).orWhere((q3) => q3.whereNotNull('resolved_at').whereNull('resolved_school_hours')))
      .orderBy('id')
      .limit(batchSize);
    if (!rows.length) return done;
    const ids: string[] = [];
    const take: Array<string | null> = [];
    const resolve: Array<string | null> = [];
    const takenHours: Array<number | null> = [];
    const resolvedHours: Array<number | null> = [];
    for (const r of rows) {
      let cal = calendars.get(r.structure_id);
      if (!cal) calendars.set(r.structure_id, (cal = await schoolCalendarOf(knex, r.structure_id)));
      const key = `${r.structure_id}|${r.severity_id}`;
      let t = targets.get(key);
      if (!t) targets.set(key, (t = await serviceTargetsOf(knex, r.structure_id, String(r.severity_id))));
      const created = new Date(r.created_at);
      const due = dueTimes(created, t, cal);
      ids.push(String(r.id));
      take.push(due.takeInChargeDueAt?.toISOString() ?? null);
      resolve.push(due.resolveDueAt?.toISOString() ?? null);
      takenHours.push(r.taken_at ? roundSchoolHours(schoolHoursBetween(created, new Date(r.taken_at), cal)) : null);
      resolvedHours.push(r.resolved_at ? roundSchoolHours(schoolHoursBetween(created, new Date(r.resolved_at), cal)) : null);
    }
    await knex.raw(
      `UPDATE rsv_incidents i
          SET take_in_charge_due_at = coalesce(i.take_in_charge_due_at, v.take_due),
              resolve_due_at = coalesce(i.resolve_due_at, v.resolve_due),
              taken_school_hours = coalesce(i.taken_school_hours, v.taken_hours),
              resolved_school_hours = coalesce(i.resolved_school_hours, v.resolved_hours)
         FROM unnest(?::bigint[], ?::timestamptz[], ?::timestamptz[], ?::numeric[], ?::numeric[]) AS v(id, take_due, resolve_due, taken_hours, resolved_hours)
        WHERE i.id = v.id`,
      [ids, take, resolve, takenHours, resolvedHours] as unknown as Knex.RawBinding[],
    );
    done += rows.length;
    lastId = ids[ids.length - 1]!;
  }
}

/**
 * After a school changes its calendar (opening hours, holidays, time zone) or its service targets, the due times of
 * its open incidents are counted again with the new ones: taking in charge from the declaration, resolving from the
 * declaration or from the last reopening. Closed incidents keep the due times they were judged by.
 */
export async function recomputeOpenDueTimes(knex: Knex, structureId: string): Promise<number> {
  const { rows } = await knex.raw<{ rows: Array<{ id: string; severity_id: string; created_at: Date; reopened_at: Date | null }> }>(
    `SELECT i.id, i.severity_id, i.created_at, r.reopened_at
       FROM rsv_incidents i
       LEFT JOIN LATERAL (
         SELECT max(e.created_at) AS reopened_at FROM rsv_incident_events e
          WHERE e.incident_id = i.id AND e.structure_id = i.structure_id
            AND e.kind IN ('status_changed', 'reopened') AND e.from_status IN ('closed', 'dismissed')
       ) r ON true
      WHERE i.structure_id = ? AND i.status IN (${OPEN_STATUSES_SQL})`,
    [structureId],
  );
  if (!rows.length) return 0;
  const calendar = await schoolCalendarOf(knex, structureId);
  const targets = new Map<string, ServiceTargets>();
  const ids: string[] = [];
  const take: Array<string | null> = [];
  const resolve: Array<string | null> = [];
  for (const r of rows) {
    const key = String(r.severity_id);
    let t = targets.get(key);
    if (!t) targets.set(key, (t = await serviceTargetsOf(knex, structureId, key)));
    ids.push(String(r.id));
    take.push(addSchoolHours(new Date(r.created_at), t.takeInChargeHours, calendar)?.toISOString() ?? null);
    resolve.push(addSchoolHours(new Date(r.reopened_at ?? r.created_at), t.resolveHours, calendar)?.toISOString() ?? null);
  }
  await knex.raw(
    // updated_at moves too: the due times are a change of these incidents, which the statistics' freshness checks
    // (the kept dashboard, the cross-school summary) must see.
    `UPDATE rsv_incidents i SET take_in_charge_due_at = v.take_due, resolve_due_at = v.resolve_due, updated_at = now()
       FROM unnest(?::bigint[], ?::timestamptz[], ?::timestamptz[]) AS v(id, take_due, resolve_due)
      WHERE i.id = v.id AND i.structure_id = ?`,
    [ids, take, resolve, structureId] as unknown as Knex.RawBinding[],
  );
  return rows.length;
}
