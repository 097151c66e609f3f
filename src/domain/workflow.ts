/**
 * The incident status workflow of DESIGN.md, as one table of allowed moves. The list of statuses lives here and
 * nowhere else: the API's validation, the store's filters, the pages' tabs and the tests all read it.
 *
 *   new         -> taken | in_progress | dismissed | closed
 *   taken       -> in_progress | dismissed | closed
 *   in_progress -> dismissed | closed
 *   dismissed   -> in_progress   (reopen)
 *   closed      -> in_progress   (reopen)
 */
export const INCIDENT_STATUSES = ['new', 'taken', 'in_progress', 'dismissed', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Statuses in which the referents still have something to do (the inbox's default tab). */
export const OPEN_STATUSES = ['new', 'taken', 'in_progress'] as const satisfies readonly IncidentStatus[];
/** The same, as a literal SQL list for `status IN (...)`: a literal lets PostgreSQL use the partial "open" indexes. */
export const OPEN_STATUSES_SQL = OPEN_STATUSES.map((s) => `'${s}'`).join(', ');
/** Closed or dismissed: the incident is resolved (resolved_at is set). */
export const RESOLVED_STATUSES = ['dismissed', 'closed'] as const satisfies readonly IncidentStatus[];

export const MOVES: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  new: ['taken', 'in_progress', 'dismissed', 'closed'],
  taken: ['in_progress', 'dismissed', 'closed'],
  in_progress: ['dismissed', 'closed'],
  dismissed: ['in_progress'],
  closed: ['in_progress'],
};

export function isIncidentStatus(value: unknown): value is IncidentStatus {
  return typeof value === 'string' && (INCIDENT_STATUSES as readonly string[]).includes(value);
}

export function allowedMoves(from: IncidentStatus): readonly IncidentStatus[] {
  return MOVES[from];
}

export function canMove(from: IncidentStatus, to: IncidentStatus): boolean {
  return MOVES[from].includes(to);
}

export function isOpen(status: IncidentStatus): boolean {
  return (OPEN_STATUSES as readonly string[]).includes(status);
}

export function isResolved(status: IncidentStatus): boolean {
  return (RESOLVED_STATUSES as readonly string[]).includes(status);
}

/** A move out of a resolved status: the incident is reopened. */
export function isReopening(from: IncidentStatus, to: IncidentStatus): boolean {
  return isResolved(from) && !isResolved(to);
}

/**
 * What a move does to the incident's timestamps: `taken_at` is set the first time the incident leaves `new` (whatever
 * the referent chose: taking it, solving it at once or dismissing it all count as having handled it);
 * `resolved_at` is set on closing or dismissing and cleared on reopening.
 */
export function timestampsOfMove(from: IncidentStatus, to: IncidentStatus): { setTakenAt: boolean; resolvedAt: 'set' | 'clear' | 'keep' } {
  return {
    setTakenAt: from === 'new' && to !== 'new',
    resolvedAt: isResolved(to) ? 'set' : isResolved(from) ? 'clear' : 'keep',
  };
}

/** Support levels of document 000: 0 local, 1 referent, 2 expertise, 3 the ENT editor. */
export const SUPPORT_LEVELS = [0, 1, 2, 3] as const;
export type SupportLevel = (typeof SUPPORT_LEVELS)[number];
/** From level 1 on, an incident carries the domain of expertise it needs. */
export const EXPERTISE_DOMAINS = ['functional', 'pedagogical', 'technical'] as const;
export type ExpertiseDomain = (typeof EXPERTISE_DOMAINS)[number];
/** The level whose escalation produces the report for the ENT editor. */
export const EDITOR_LEVEL = 3;
