import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import type { HostUser } from '../host';
import { ConflictError, ForbiddenError, NotFoundError, RefusedError, ValidationError } from '../errors';
import type { Actor } from '../domain/policies';
import {
  decideEscalation,
  decideMove,
  DEFAULT_REOPEN_DAYS,
  INCIDENT_MANAGE,
  IncidentFacts,
  managesIncidents,
  mayComment,
  mayFollow,
} from '../domain/incident-policy';
import { ExpertiseDomain, IncidentStatus, OPEN_STATUSES, timestampsOfMove } from '../domain/workflow';
import {
  addFollower,
  countByStatus,
  declarationFacts,
  DeclarationFacts,
  DueKey,
  getIncidentRow,
  getIncidentView,
  IncidentFilter,
  IncidentRow,
  IncidentViewRow,
  insertIncident,
  isFollower,
  listIncidents,
  updateIncidentVersioned,
  followerIds,
} from '../store/incidents';
import { appendIncidentEvent, IncidentEventRow, listIncidentEvents } from '../store/incident-events';
import { announceBackInService, announceOutOfService } from './availability';
import { clockPatchOfMove, declarationDueTimes, DEFAULT_TARGETS, schoolCalendarOf, serviceTargetsOf, targetsOfSeverity } from './service-clock';
import { getSettings } from '../store/settings';
import { SERVICE_ACCOUNT_LOGIN } from './install';

/**
 * The incident use cases: validate -> decide (src/domain policies) -> one short transaction writing the change and
 * its event together (appendIncidentEvent) -> result. No host call inside a transaction.
 */

export interface Declaration {
  equipmentId: string;
  typeId: string;
  severityId: string;
  description: string;
  /** The equipment cannot be used until this incident is closed or dismissed. */
  outOfService?: boolean;
}

function factsOf(row: IncidentRow): IncidentFacts {
  return { status: row.status, reporterId: row.reporter_id, resolvedAt: row.resolved_at, level: row.level, domain: row.domain };
}

async function reopenDaysOf(knex: Knex, structureId: string): Promise<number> {
  return (await getSettings(knex, structureId))?.reopen_days ?? DEFAULT_REOPEN_DAYS;
}

/**
 * Everything a declaration names must be the school's own and still offered; every wrong field is named at once.
 * Returns the labels of what it names, for the answer.
 */
function checkDeclaration(facts: DeclarationFacts): Pick<IncidentViewRow, keyof NonNullable<DeclarationFacts['equipment']> | 'type_label' | 'type_label_key' | 'type_retired_at' | 'severity_label' | 'severity_label_key' | 'severity_retired_at'> {
  const { equipment, type, severity } = facts;
  const fields: Array<{ field: string; message: string }> = [];
  if (!equipment) fields.push({ field: 'equipmentId', message: 'unknown or retired equipment of this school' });
  if (!type || type.type_retired_at) fields.push({ field: 'typeId', message: 'unknown or retired incident type' });
  if (!severity || severity.severity_retired_at) fields.push({ field: 'severityId', message: 'unknown or retired severity' });
  if (!equipment || !type || !severity || fields.length) throw new ValidationError(fields);
  const { take_in_charge_hours: _t, resolve_hours: _r, ...severityLabels } = severity;
  return { ...equipment, ...type, ...severityLabels };
}

/**
 * Declares an incident: what it names is checked in one query, then the incident, its event and its notification are
 * written in one statement (no transaction needed for one statement). `within` runs in the declaration's transaction
 * after its 'created' event (the attached files' rows); an out-of-service declaration takes a transaction too.
 * Returns the incident with its labels, as the incident page and the API show it.
 */
export async function declareIncident(
  ctx: ModuleContext,
  actor: Actor,
  structureId: string,
  input: Declaration,
  within?: (trx: Knex.Transaction, incident: IncidentRow) => Promise<void>,
): Promise<IncidentViewRow> {
  const [facts, calendar] = await Promise.all([
    declarationFacts(ctx.knex, structureId, { equipmentId: String(input.equipmentId), typeId: String(input.typeId), severityId: String(input.severityId) }),
    schoolCalendarOf(ctx.knex, structureId),
  ]);
  const labels = checkDeclaration(facts);
  // The service clock: due times in school hours from the declaration instant (stored, for the inbox's order).
  const now = new Date();
  const due = declarationDueTimes({ calendar, targets: targetsOfSeverity(facts.severity!) }, now);
  const write = (knex: Knex) =>
    insertIncident(
      knex,
      { structureId, ...input, reporterId: actor.id, createdAt: now, takeInChargeDueAt: due.takeInChargeDueAt, resolveDueAt: due.resolveDueAt },
      { equipmentId: String(input.equipmentId), typeId: String(input.typeId), severityId: String(input.severityId), outOfService: Boolean(input.outOfService) },
    );
  const incident =
    !within && !input.outOfService
      ? await write(ctx.knex)
      : await ctx.knex.transaction(async (trx) => {
          const created = await write(trx);
          if (input.outOfService) await announceOutOfService(trx, structureId, String(input.equipmentId), String(created.id), actor.id);
          if (within) await within(trx, created);
          return created;
        });
  return { ...incident, ...labels };
}

async function currentRow(trx: Knex.Transaction, structureId: string, id: string, expectedVersion?: number): Promise<IncidentRow> {
  const row = await getIncidentRow(trx, structureId, id);
  if (!row) throw new NotFoundError();
  if (expectedVersion !== undefined && expectedVersion !== row.version) throw conflict(row);
  return row;
}

function conflict(row?: IncidentRow): ConflictError {
  return new ConflictError('conflict', 'incident:errors.conflict', {}, row ? { incidentId: String(row.id) } : undefined);
}

/** The 422 of a refused move: the current status and the moves it allows, as codes (labels are added at the edge). */
export class WorkflowRefusedError extends RefusedError {
  constructor(
    readonly status422: { status: IncidentStatus; requested: IncidentStatus; allowed: readonly IncidentStatus[] },
  ) {
    super(
      'workflow_refused',
      'incident:errors.refused',
      { statusLabel: status422.status, requestedLabel: status422.requested, allowedLabels: status422.allowed.join(', ') },
      { status: status422.status, requested: status422.requested, allowed: [...status422.allowed] },
    );
  }
}

export interface TransitionInput {
  to: IncidentStatus;
  comment?: string;
  version?: number;
}

/**
 * Moves an incident. Optimistic concurrency: the row is read, the move decided on it, and the update applies only
 * `WHERE version = <read version>`; two referents moving at once, one wins and the other gets 409 (no lost move,
 * one event). Taking an unassigned incident in charge assigns it to whoever took it.
 */
export async function transitionIncident(ctx: ModuleContext, actor: Actor, structureId: string, id: string, input: TransitionInput, now = new Date()): Promise<IncidentRow> {
  const [reopenDays, calendar] = await Promise.all([reopenDaysOf(ctx.knex, structureId), schoolCalendarOf(ctx.knex, structureId)]);
  return ctx.knex.transaction(async (trx) => {
    const row = await currentRow(trx, structureId, id, input.version);
    const decision = decideMove(actor, factsOf(row), input.to, { now, reopenDays });
    if (!decision.ok) {
      if (decision.reason === 'forbidden') throw new ForbiddenError('incident:errors.mayNotMove', {}, 'forbidden');
      if (decision.reason === 'reopen_window_passed') {
        throw new RefusedError('reopen_window_passed', 'incident:errors.reopenWindowPassed', { days: decision.reopenDays }, { reopenDays: decision.reopenDays });
      }
      throw new WorkflowRefusedError({ status: decision.status, requested: input.to, allowed: decision.allowed });
    }
    const effects = timestampsOfMove(row.status, input.to);
    const takesInCharge = input.to === 'taken' && !row.assignee_id;
    const updated = await updateIncidentVersioned(trx, structureId, id, row.version, {
      status: input.to,
      ...(effects.setTakenAt && !row.taken_at ? { taken_at: trx.fn.now() } : {}),
      ...(effects.resolvedAt === 'set' ? { resolved_at: trx.fn.now() } : effects.resolvedAt === 'clear' ? { resolved_at: null } : {}),
      ...(takesInCharge ? { assignee_id: actor.id } : {}),
      // The service clock: school hours taken; a reopened incident's resolve due time counted again from now.
      ...clockPatchOfMove(row, input.to, { calendar, targets: effects.resolvedAt === 'clear' ? await serviceTargetsOf(trx, structureId, String(row.severity_id)) : DEFAULT_TARGETS }, now),
    });
    if (!updated) throw conflict(row);
    await appendIncidentEvent(trx, {
      incidentId: id,
      structureId,
      kind: 'status_changed',
      actorId: actor.id,
      fromStatus: row.status,
      toStatus: input.to,
      comment: input.comment || null,
    });
    if (takesInCharge) {
      await appendIncidentEvent(trx, { incidentId: id, structureId, kind: 'assigned', actorId: actor.id, data: { fromAssigneeId: null, toAssigneeId: actor.id } });
    }
    // An out-of-service incident that ends puts its equipment back in service; reopened, it takes it out again.
    if (row.out_of_service) {
      const wasOpen = (OPEN_STATUSES as readonly string[]).includes(row.status);
      const isOpen = (OPEN_STATUSES as readonly string[]).includes(input.to);
      if (wasOpen && !isOpen) await announceBackInService(trx, structureId, String(row.equipment_id), id, actor.id);
      if (!wasOpen && isOpen) await announceOutOfService(trx, structureId, String(row.equipment_id), id, actor.id);
    }
    return updated;
  });
}

export async function commentIncident(ctx: ModuleContext, actor: Actor, structureId: string, id: string, text: string): Promise<IncidentEventRow> {
  const [row, following] = await Promise.all([getIncidentRow(ctx.knex, structureId, id), isFollower(ctx.knex, structureId, id, actor.id)]);
  if (!row) throw new NotFoundError();
  if (!mayComment(actor, factsOf(row), following)) throw new ForbiddenError('incident:errors.mayNotComment');
  return ctx.knex.transaction((trx) => appendIncidentEvent(trx, { incidentId: id, structureId, kind: 'comment', actorId: actor.id, comment: text }));
}

/** "Me too": the user follows the incident (and its mails) instead of declaring a duplicate. Idempotent. */
export async function followIncident(ctx: ModuleContext, actor: Actor, structureId: string, id: string): Promise<{ incidentId: string; following: true; added: boolean }> {
  return ctx.knex.transaction(async (trx) => {
    const row = await currentRow(trx, structureId, id);
    if (!mayFollow(factsOf(row))) throw new RefusedError('incident_resolved', 'incident:errors.resolvedNoFollow', { status: row.status }, { status: row.status });
    // The reporter is concerned already; following their own incident changes nothing.
    const added = row.reporter_id === actor.id ? false : await addFollower(trx, structureId, id, actor.id);
    if (added) await appendIncidentEvent(trx, { incidentId: id, structureId, kind: 'follower_added', actorId: actor.id });
    return { incidentId: String(id), following: true as const, added };
  });
}

/** Who may be assigned: a delegate of the school's service.informatique (a referent), or a holder of incident.manage. */
export async function mayBeAssigned(ctx: ModuleContext, structureId: string, userId: string): Promise<boolean> {
  const account = await ctx.host.accounts.getFunctionalAccount(structureId, SERVICE_ACCOUNT_LOGIN);
  if (account?.delegates.some((d) => d.id === userId)) return true;
  const [user] = await ctx.host.directory.getUsers([userId]);
  if (!user || !user.structures.includes(structureId)) return false;
  return ctx.host.rights.can(user, INCIDENT_MANAGE, structureId);
}

/** The referents offered in the "assign to" list. */
export async function assignableUsers(ctx: ModuleContext, structureId: string): Promise<Array<Pick<HostUser, 'id' | 'login' | 'displayName'>>> {
  const account = await ctx.host.accounts.getFunctionalAccount(structureId, SERVICE_ACCOUNT_LOGIN);
  return (account?.delegates ?? []).map((d) => ({ id: d.id, login: d.login, displayName: d.displayName }));
}

export async function assignIncident(
  ctx: ModuleContext,
  actor: Actor,
  structureId: string,
  id: string,
  input: { assigneeId: string | null; version?: number },
): Promise<IncidentRow> {
  // The host is asked before the transaction: no network I/O while rows are locked.
  if (input.assigneeId !== null && !(await mayBeAssigned(ctx, structureId, input.assigneeId))) {
    throw new ValidationError([{ field: 'assigneeId', message: 'not a referent of this school' }], 'incident:errors.assigneeNotReferent');
  }
  return ctx.knex.transaction(async (trx) => {
    const row = await currentRow(trx, structureId, id, input.version);
    if (row.assignee_id === input.assigneeId) return row;
    const updated = await updateIncidentVersioned(trx, structureId, id, row.version, { assignee_id: input.assigneeId });
    if (!updated) throw conflict(row);
    await appendIncidentEvent(trx, {
      incidentId: id,
      structureId,
      kind: 'assigned',
      actorId: actor.id,
      data: { fromAssigneeId: row.assignee_id, toAssigneeId: input.assigneeId },
    });
    return updated;
  });
}

export async function escalateIncident(
  ctx: ModuleContext,
  actor: Actor,
  structureId: string,
  id: string,
  input: { level: number; domain?: ExpertiseDomain; comment?: string; version?: number },
): Promise<IncidentRow> {
  return ctx.knex.transaction(async (trx) => {
    const row = await currentRow(trx, structureId, id, input.version);
    const decision = decideEscalation(factsOf(row), input.level, input.domain);
    if (!decision.ok) {
      if (decision.reason === 'domain_required') throw new ValidationError([{ field: 'domain', message: 'required from level 1 on' }], 'incident:errors.domainRequired');
      if (decision.reason === 'resolved') throw new RefusedError('incident_resolved', 'incident:errors.resolvedNoEscalation', { status: row.status }, { status: row.status });
      throw new RefusedError('escalation_refused', 'incident:errors.escalationRefused', { level: decision.currentLevel }, { currentLevel: decision.currentLevel });
    }
    const updated = await updateIncidentVersioned(trx, structureId, id, row.version, { level: decision.level, domain: decision.domain });
    if (!updated) throw conflict(row);
    await appendIncidentEvent(trx, {
      incidentId: id,
      structureId,
      kind: 'escalated',
      actorId: actor.id,
      comment: input.comment || null,
      data: { fromLevel: row.level, toLevel: decision.level, fromDomain: row.domain, toDomain: decision.domain },
    });
    return updated;
  });
}

export interface IncidentDetail {
  incident: IncidentViewRow;
  events: IncidentEventRow[];
  followerIds: string[];
  following: boolean;
  reopenDays: number;
}

export async function incidentDetail(ctx: ModuleContext, actor: Actor, structureId: string, id: string): Promise<IncidentDetail> {
  const [incident, events, followers, reopenDays] = await Promise.all([
    getIncidentView(ctx.knex, structureId, id),
    listIncidentEvents(ctx.knex, structureId, id),
    followerIds(ctx.knex, structureId, id),
    reopenDaysOf(ctx.knex, structureId),
  ]);
  if (!incident) throw new NotFoundError();
  return { incident, events, followerIds: followers, following: followers.includes(actor.id), reopenDays };
}

export interface ListQuery {
  statuses?: readonly IncidentStatus[];
  typeId?: string;
  severityId?: string;
  equipmentId?: string;
  /** 'me', 'none' or a user id. */
  assignee?: string;
  mine?: boolean;
  limit: number;
  beforeId?: string;
  counts?: boolean;
  /** 'due': the soonest due first (the service clock), by keyset on (due time, id) from `afterDue`. */
  sort?: 'newest' | 'due';
  afterDue?: DueKey;
}

export interface IncidentPage {
  items: IncidentViewRow[];
  hasMore: boolean;
  counts?: Record<IncidentStatus, number>;
}

/**
 * A page of a school's incidents. Managers see the whole inbox; a declarer sees their own ("mine": reported or
 * followed), or the open incidents of one equipment (to say "me too" rather than declare it again).
 */
export async function listStructureIncidents(ctx: ModuleContext, actor: Actor, structureId: string, query: ListQuery): Promise<IncidentPage> {
  const filter: IncidentFilter = {
    statuses: query.statuses,
    typeId: query.typeId,
    severityId: query.severityId,
    equipmentId: query.equipmentId,
  };
  if (query.assignee) filter.assignee = query.assignee === 'none' ? { none: true } : query.assignee === 'me' ? actor.id : query.assignee;
  if (query.mine) filter.involving = actor.id;
  if (!managesIncidents(actor) && !query.mine) {
    if (!query.equipmentId) throw new ForbiddenError('incident:errors.inboxForManagers');
    filter.statuses = (query.statuses ?? OPEN_STATUSES).filter((s) => (OPEN_STATUSES as readonly string[]).includes(s));
    if (!filter.statuses.length) return { items: [], hasMore: false };
  }
  const [rows, counts] = await Promise.all([
    listIncidents(ctx.knex, [structureId], filter, { limit: query.limit, beforeId: query.beforeId, sort: query.sort, afterDue: query.afterDue }),
    query.counts ? countByStatus(ctx.knex, [structureId], filter) : Promise.resolve(undefined),
  ]);
  return { items: rows.slice(0, query.limit), hasMore: rows.length > query.limit, counts };
}

/** "My incidents" across the user's schools where they may declare: reported or followed, newest first. */
export async function listMyIncidents(ctx: ModuleContext, userId: string, structureIds: string[], page: { limit: number; beforeId?: string }): Promise<IncidentPage> {
  const rows = await listIncidents(ctx.knex, structureIds, { involving: userId }, { ...page, withLastEvent: true });
  return { items: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}
