import type { HostUser } from '../host';
import type { T } from '../i18n';
import { AppError } from '../errors';
import type { Actor } from '../domain/policies';
import { levelsOffered, managesIncidents, mayComment, mayFollow, movesOffered, reopenDeadline } from '../domain/incident-policy';
import type { IncidentStatus } from '../domain/workflow';
import type { IncidentRow, IncidentViewRow } from '../store/incidents';
import type { IncidentEventRow } from '../store/incident-events';
import type { ListValueRow } from '../store/incident-lists';
import type { IncidentDetail } from '../services/incidents';
import { WorkflowRefusedError } from '../services/incidents';
import { labelOf, presentUserRef, PublicUser } from './presenters';
import { serviceClockOf } from '../services/service-clock';
import { decideConfirmation } from '../domain/incident-policy';

/**
 * Whitelists of what leaves the server about incidents (API and pages alike). A new column never leaks by accident:
 * it has to be added here.
 */

/**
 * i18next's t costs tens of microseconds a call; a page of 100 incidents asks the same few labels hundreds of times.
 * This remembers the answers to plain lookups (a key, no options) for one request.
 */
export function memoT(t: T): T {
  const cache = new Map<string, string>();
  const memo = ((key: unknown, ...rest: unknown[]) => {
    if (typeof key !== 'string' || rest.length) return (t as unknown as (...a: unknown[]) => string)(key, ...rest);
    let value = cache.get(key);
    if (value === undefined) cache.set(key, (value = (t as unknown as (k: string) => string)(key)));
    return value;
  }) as unknown as T;
  return memo;
}

export type Users = Map<string, Pick<HostUser, 'id' | 'login' | 'displayName' | 'profile'>>;

export function statusLabel(t: T, status: IncidentStatus): string {
  return t(`incident:status.${status}`);
}

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function userRef(users: Users, id: string | null): PublicUser | null {
  if (!id) return null;
  return presentUserRef(users.get(id)) ?? { id, login: '', displayName: '' };
}

function hasLabels(row: IncidentRow | IncidentViewRow): row is IncidentViewRow {
  return 'equipment_name' in row;
}

/** An incident; with its labels when the row carries them (lists and the incident page). */
export function presentIncident(row: IncidentRow | IncidentViewRow, t: T, users: Users = new Map()) {
  const base = {
    id: String(row.id),
    structureId: row.structure_id,
    status: row.status,
    statusLabel: statusLabel(t, row.status),
    level: row.level,
    domain: row.domain,
    equipmentId: String(row.equipment_id),
    typeId: String(row.type_id),
    severityId: String(row.severity_id),
    description: row.description,
    reporterId: row.reporter_id,
    assigneeId: row.assignee_id,
    reporter: userRef(users, row.reporter_id),
    assignee: userRef(users, row.assignee_id),
    version: row.version,
    outOfService: row.out_of_service,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    takenAt: iso(row.taken_at),
    resolvedAt: iso(row.resolved_at),
    lastEventAt: iso(row.last_event_at)!,
    /** Due times in school hours and whether one has passed (the service clock). */
    serviceClock: serviceClockOf(row),
    /** The reporter's answer once the incident was closed: fixed, or not (then it was reopened). */
    confirmation: row.confirmed_at ? { at: iso(row.confirmed_at)!, fixed: row.confirmed_fixed === true } : null,
  };
  if (!hasLabels(row)) return base;
  return {
    ...base,
    equipment: {
      id: String(row.equipment_id),
      name: row.equipment_name,
      typeId: String(row.equipment_type_id),
      typeName: labelOf({ name: row.equipment_type_name, name_key: row.equipment_type_name_key }, t),
    },
    type: { id: String(row.type_id), label: labelOf({ label: row.type_label, label_key: row.type_label_key }, t), retired: row.type_retired_at !== null },
    severity: { id: String(row.severity_id), label: labelOf({ label: row.severity_label, label_key: row.severity_label_key }, t), retired: row.severity_retired_at !== null },
    ...(row.last_event_kind ? { lastEvent: { kind: row.last_event_kind, toStatus: row.last_event_to_status ?? null } } : {}),
  };
}

/** A list item: the description is cut (the store already sent only its first characters). */
export function presentIncidentItem(row: IncidentViewRow, t: T, users: Users) {
  const { description, ...rest } = presentIncident(row, t, users);
  return { ...rest, excerpt: description };
}

/** The kind-specific facts of an event, whitelisted per kind. */
function eventData(event: IncidentEventRow, users: Users) {
  const d = event.data ?? {};
  switch (event.kind) {
    case 'assigned':
      return { from: userRef(users, (d.fromAssigneeId as string | null) ?? null), to: userRef(users, (d.toAssigneeId as string | null) ?? null) };
    case 'escalated':
      return { fromLevel: d.fromLevel ?? null, toLevel: d.toLevel ?? null, fromDomain: d.fromDomain ?? null, toDomain: d.toDomain ?? null };
    case 'created':
      return { equipmentId: d.equipmentId ?? null, typeId: d.typeId ?? null, severityId: d.severityId ?? null };
    case 'confirmed':
    case 'reopened':
      return { fixed: d.fixed === true };
    default:
      return {};
  }
}

export function presentIncidentEvent(event: IncidentEventRow, t: T, users: Users) {
  return {
    id: String(event.id),
    kind: event.kind,
    actor: userRef(users, event.actor_id),
    fromStatus: event.from_status,
    toStatus: event.to_status,
    fromStatusLabel: event.from_status ? statusLabel(t, event.from_status) : null,
    toStatusLabel: event.to_status ? statusLabel(t, event.to_status) : null,
    comment: event.comment,
    data: eventData(event, users),
    createdAt: iso(event.created_at)!,
  };
}

/** The user ids an incident page names (to ask the host for them in one call). */
export function userIdsOf(detail: Pick<IncidentDetail, 'incident' | 'events'>): string[] {
  const ids = new Set<string>([detail.incident.reporter_id]);
  if (detail.incident.assignee_id) ids.add(detail.incident.assignee_id);
  for (const e of detail.events) {
    ids.add(e.actor_id);
    for (const key of ['fromAssigneeId', 'toAssigneeId']) {
      const v = e.data?.[key];
      if (typeof v === 'string') ids.add(v);
    }
  }
  return [...ids];
}

/** The incident page's and GET /incidents/:id's answer: the incident, its history, and what the viewer may do. */
export function presentIncidentDetail(detail: IncidentDetail, t: T, users: Users, viewer: Actor, now = new Date()) {
  const row = detail.incident;
  const facts = { status: row.status, reporterId: row.reporter_id, resolvedAt: row.resolved_at, level: row.level, domain: row.domain };
  const manages = managesIncidents(viewer);
  return {
    ...presentIncident(row, t, users),
    events: detail.events.map((e) => presentIncidentEvent(e, t, users)),
    followers: detail.followerIds.length,
    following: detail.following,
    reopenUntil: iso(reopenDeadline(facts, detail.reopenDays)),
    can: {
      moves: movesOffered(viewer, facts, { now, reopenDays: detail.reopenDays }),
      comment: mayComment(viewer, facts, detail.following),
      follow: mayFollow(facts) && !detail.following && row.reporter_id !== viewer.id,
      assign: manages,
      escalate: manages ? levelsOffered(facts) : [],
      report: manages,
      /** The reporter may answer "is it fixed?" (POST /incidents/:id/confirm): fixed, and reopen when not. */
      confirm: {
        fixed: decideConfirmation(viewer, facts, true, { now, reopenDays: detail.reopenDays }).ok && row.confirmed_fixed !== true,
        notFixed: decideConfirmation(viewer, facts, false, { now, reopenDays: detail.reopenDays }).ok,
      },
    },
  };
}

export function presentListValue(row: ListValueRow, t: T) {
  return {
    id: String(row.id),
    label: labelOf(row, t),
    position: row.position,
    retired: row.retired_at !== null,
    seeded: row.seed_code !== null,
  };
}

/** Puts the localized status labels into a refused move's message (services speak in codes, the edge in words). */
export function localizeIncidentError(error: unknown, t: T): unknown {
  if (error instanceof WorkflowRefusedError) {
    const { status, requested, allowed } = error.status422;
    Object.assign(error.params, {
      statusLabel: t('incident:quoted', { label: statusLabel(t, status) }),
      requestedLabel: t('incident:quoted', { label: statusLabel(t, requested) }),
      allowedLabels: allowed.map((s) => t('incident:quoted', { label: statusLabel(t, s) })).join(', '),
    });
  }
  return error;
}

/** Runs a service call and localizes its refusal, for the API and the pages. */
export async function localized<R>(t: T, run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (error) {
    throw error instanceof AppError ? localizeIncidentError(error, t) : error;
  }
}
