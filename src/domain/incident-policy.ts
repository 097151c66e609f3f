/**
 * Who may do what to an incident, beyond the route's secured action (the route lets `incident.declare` and
 * `incident.manage` holders in; these rules decide the rest). Pure functions of values, unit-tested without a database.
 */
import type { Actor } from './policies';
import {
  allowedMoves,
  canMove,
  ExpertiseDomain,
  IncidentStatus,
  isOpen,
  isResolved,
  SupportLevel,
  SUPPORT_LEVELS,
} from './workflow';

export const INCIDENT_MANAGE = 'incident.manage';
export const INCIDENT_DECLARE = 'incident.declare';
/** Default of rsv_structure_settings.reopen_days. */
export const DEFAULT_REOPEN_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface IncidentFacts {
  status: IncidentStatus;
  reporterId: string;
  /** When it was closed or dismissed (null while open). */
  resolvedAt: Date | null;
  level: number;
  domain: ExpertiseDomain | null;
}

/** The referents (delegates of service.informatique) and whoever the school granted `incident.manage`. */
export function managesIncidents(actor: Actor): boolean {
  return actor.actions.includes(INCIDENT_MANAGE);
}

export function isReporter(actor: Actor, incident: Pick<IncidentFacts, 'reporterId'>): boolean {
  return actor.id === incident.reporterId;
}

/** The last moment the reporter may reopen their closed incident, or null when it is not closed. */
export function reopenDeadline(incident: Pick<IncidentFacts, 'status' | 'resolvedAt'>, reopenDays: number): Date | null {
  if (incident.status !== 'closed' || !incident.resolvedAt) return null;
  return new Date(incident.resolvedAt.getTime() + reopenDays * DAY_MS);
}

export type MoveDecision =
  | { ok: true }
  | { ok: false; reason: 'forbidden' }
  /** The workflow refuses the move (422): the current status and the moves it allows. */
  | { ok: false; reason: 'refused'; status: IncidentStatus; allowed: readonly IncidentStatus[] }
  /** The reporter's reopening window is over (422). */
  | { ok: false; reason: 'reopen_window_passed'; reopenDays: number };

/**
 * Only managers move incidents through the workflow. The one exception is the school's promise to the reporter:
 * a closed incident whose problem came back may be reopened by its reporter within `reopenDays` of its closing.
 */
export function decideMove(actor: Actor, incident: IncidentFacts, to: IncidentStatus, opts: { now: Date; reopenDays: number }): MoveDecision {
  if (managesIncidents(actor)) {
    return canMove(incident.status, to) ? { ok: true } : { ok: false, reason: 'refused', status: incident.status, allowed: allowedMoves(incident.status) };
  }
  if (isReporter(actor, incident) && incident.status === 'closed' && to === 'in_progress') {
    const deadline = reopenDeadline(incident, opts.reopenDays);
    if (deadline && opts.now.getTime() > deadline.getTime()) return { ok: false, reason: 'reopen_window_passed', reopenDays: opts.reopenDays };
    return { ok: true };
  }
  return { ok: false, reason: 'forbidden' };
}

/** The moves to offer this actor (the incident page's buttons). */
export function movesOffered(actor: Actor, incident: IncidentFacts, opts: { now: Date; reopenDays: number }): IncidentStatus[] {
  return allowedMoves(incident.status).filter((to) => decideMove(actor, incident, to, opts).ok);
}

/** Managers comment on any incident; the reporter and the followers ("me too") on the ones that concern them. */
export function mayComment(actor: Actor, incident: IncidentFacts, isFollower: boolean): boolean {
  return managesIncidents(actor) || isReporter(actor, incident) || isFollower;
}

/** "Me too" is for a problem still open; a resolved one that came back is reopened instead. */
export function mayFollow(incident: Pick<IncidentFacts, 'status'>): boolean {
  return isOpen(incident.status);
}

export type EscalationDecision =
  | { ok: true; level: SupportLevel; domain: ExpertiseDomain }
  | { ok: false; reason: 'resolved' }
  /** Escalating goes up one or more levels, never down nor to the same one (422). */
  | { ok: false; reason: 'not_higher'; currentLevel: number }
  /** From level 1 on a domain is required; the incident's current domain is kept when none is given (400). */
  | { ok: false; reason: 'domain_required' };

export function decideEscalation(incident: IncidentFacts, level: number, domain: ExpertiseDomain | undefined | null): EscalationDecision {
  if (isResolved(incident.status)) return { ok: false, reason: 'resolved' };
  if (!(SUPPORT_LEVELS as readonly number[]).includes(level) || level <= incident.level) return { ok: false, reason: 'not_higher', currentLevel: incident.level };
  const chosen = domain ?? incident.domain;
  if (!chosen) return { ok: false, reason: 'domain_required' };
  return { ok: true, level: level as SupportLevel, domain: chosen };
}

/** Escalation targets to offer (the incident page's select). */
export function levelsOffered(incident: IncidentFacts): SupportLevel[] {
  if (isResolved(incident.status)) return [];
  return SUPPORT_LEVELS.filter((l) => l > incident.level);
}

/**
 * The report sent to the ENT editor (level 3) leaves out the personal data of pupils and of their parents: their
 * names and logins are replaced by their profile. Staff are named (the editor may need to reach them); no login at all.
 */
export const PROFILES_LEFT_OUT_OF_REPORTS = ['Student', 'Relative'] as const;

export function mayNameInReport(profile: string | null | undefined): boolean {
  return Boolean(profile) && !(PROFILES_LEFT_OUT_OF_REPORTS as readonly string[]).includes(profile!);
}

export type ConfirmationDecision =
  | { ok: true; reopens: boolean }
  /** Only the reporter answers "is it fixed?" (403). */
  | { ok: false; reason: 'not_reporter' }
  /** Only a closed incident is confirmed or reopened this way (422): the current status. */
  | { ok: false; reason: 'not_closed'; status: IncidentStatus }
  /** "Not fixed" reopens the incident, within the school's reopening window (422). */
  | { ok: false; reason: 'reopen_window_passed'; reopenDays: number };

/**
 * The reporter's answer once their incident is closed: "fixed" records the confirmation; "not fixed" reopens it (to
 * in_progress) with their comment, as long as the school's reopening window is open. Nobody else answers for them, not
 * even a referent (who would simply reopen it).
 */
export function decideConfirmation(actor: Actor, incident: IncidentFacts, fixed: boolean, opts: { now: Date; reopenDays: number }): ConfirmationDecision {
  if (!isReporter(actor, incident)) return { ok: false, reason: 'not_reporter' };
  if (incident.status !== 'closed') return { ok: false, reason: 'not_closed', status: incident.status };
  if (fixed) return { ok: true, reopens: false };
  const deadline = reopenDeadline(incident, opts.reopenDays);
  if (deadline && opts.now.getTime() > deadline.getTime()) return { ok: false, reason: 'reopen_window_passed', reopenDays: opts.reopenDays };
  return { ok: true, reopens: true };
}
