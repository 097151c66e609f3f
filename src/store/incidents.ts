import type { Knex } from 'knex';
import { insertIncidentWithEvent } from './incident-events';
import { IncidentStatus, OPEN_STATUSES, OPEN_STATUSES_SQL, ExpertiseDomain } from '../domain/workflow';
import type { IncidentEventKind } from './incident-events';

export interface IncidentRow {
  id: string;
  structure_id: string;
  equipment_id: string;
  type_id: string;
  severity_id: string;
  description: string;
  reporter_id: string;
  assignee_id: string | null;
  level: number;
  domain: ExpertiseDomain | null;
  status: IncidentStatus;
  version: number;
  out_of_service: boolean;
  created_at: Date;
  updated_at: Date;
  taken_at: Date | null;
  resolved_at: Date | null;
  last_event_at: Date;
  /** The service clock (migration 0008): due times in school hours, null when the school never opens. */
  take_in_charge_due_at: Date | null;
  resolve_due_at: Date | null;
  /** School hours from declaration to taken in charge, and to resolved (numeric: a string from pg). */
  taken_school_hours: string | number | null;
  resolved_school_hours: string | number | null;
  /** The reporter's answer after the incident was closed ("fixed", or "not fixed": reopened). */
  confirmed_at: Date | null;
  confirmed_fixed: boolean | null;
}

/** An incident with the labels of its equipment, type and severity (one query, for lists and the incident page). */
export interface IncidentViewRow extends Omit<IncidentRow, 'description'> {
  /** The whole description on the incident page; its first characters in lists. */
  description: string;
  equipment_name: string;
  equipment_type_id: string;
  equipment_type_name: string | null;
  equipment_type_name_key: string | null;
  type_label: string | null;
  type_label_key: string | null;
  type_retired_at: Date | null;
  severity_label: string | null;
  severity_label_key: string | null;
  severity_retired_at: Date | null;
  /** Only in "my incidents": the latest event. */
  last_event_kind?: IncidentEventKind;
  last_event_to_status?: IncidentStatus | null;
}

/** Characters of the description kept in lists. */
export const EXCERPT_LENGTH = 160;

/** Written out once, from the workflow's list: a literal IN list lets PostgreSQL use the partial "open" indexes. */
const OPEN_SQL = `i.status IN (${OPEN_STATUSES_SQL})`;

const LABEL_COLUMNS = [
  'e.name as equipment_name',
  'e.type_id as equipment_type_id',
  'rt.name as equipment_type_name',
  'rt.name_key as equipment_type_name_key',
  'it.label as type_label',
  'it.label_key as type_label_key',
  'it.retired_at as type_retired_at',
  'sv.label as severity_label',
  'sv.label_key as severity_label_key',
  'sv.retired_at as severity_retired_at',
];

const LIST_COLUMNS = [
  'i.id', 'i.structure_id', 'i.equipment_id', 'i.type_id', 'i.severity_id', 'i.reporter_id', 'i.assignee_id', 'i.level', 'i.domain',
  'i.status', 'i.version', 'i.out_of_service', 'i.created_at', 'i.updated_at', 'i.taken_at', 'i.resolved_at', 'i.last_event_at',
  'i.take_in_charge_due_at', 'i.resolve_due_at', 'i.taken_school_hours', 'i.resolved_school_hours', 'i.confirmed_at', 'i.confirmed_fixed',
];
/** What a list's page query (LIST_COLUMNS and the description's excerpt) gives the outer query that adds the labels. */
const PAGE_COLUMNS = [...LIST_COLUMNS, 'i.description'];

/**
 * The due time the inbox sorts by: taking in charge while new, resolving after; none sorts last. Written exactly as
 * the expression of the index rsv_incidents_inbox_due (migration 0008), so that PostgreSQL uses it.
 */
export const DUE_SQL = `coalesce(CASE WHEN i.status = 'new' THEN i.take_in_charge_due_at ELSE i.resolve_due_at END, 'infinity'::timestamptz)`;

/**
 * Joined on the primary keys, each label row checked to be the incident's school's. The checks are written
 * `IS NOT DISTINCT FROM` (the columns are NOT NULL, so it means `=`): as plain equalities they put the five tables'
 * structure_id in one equivalence class and the planner weighs every join order over it, 1.5 ms of planning and
 * 0.9 ms of execution for a 20-row inbox page instead of 0.35 ms and 0.2 ms (issue 9's bench, 1,000,000 incidents).
 */
function withLabels(q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q
    .joinRaw('JOIN rsv_equipment e ON e.id = i.equipment_id AND e.structure_id IS NOT DISTINCT FROM i.structure_id')
    .joinRaw('JOIN rsv_resource_types rt ON rt.id = e.type_id AND rt.structure_id IS NOT DISTINCT FROM i.structure_id')
    .joinRaw('JOIN rsv_incident_types it ON it.id = i.type_id AND it.structure_id IS NOT DISTINCT FROM i.structure_id')
    .joinRaw('JOIN rsv_severities sv ON sv.id = i.severity_id AND sv.structure_id IS NOT DISTINCT FROM i.structure_id');
}

export interface NewIncident {
  structureId: string;
  equipmentId: string;
  typeId: string;
  severityId: string;
  description: string;
  reporterId: string;
  outOfService?: boolean;
  /** The declaration instant (default: the database's now()) and the due times computed from it. */
  createdAt?: Date;
  takeInChargeDueAt?: Date | null;
  resolveDueAt?: Date | null;
}

/** Every column of an incident row, by name (a prepared statement's result never depends on the table's layout). */
export const ROW_COLUMNS: readonly string[] = [...LIST_COLUMNS.map((c) => c.slice(2)), 'description'];

/** A declaration, its 'created' event and its notification in one statement (see insertIncidentWithEvent). */
export async function insertIncident(knex: Knex, input: NewIncident, eventData: Record<string, unknown>): Promise<IncidentRow> {
  const columns = {
    structure_id: input.structureId,
    equipment_id: input.equipmentId,
    type_id: input.typeId,
    severity_id: input.severityId,
    description: input.description,
    reporter_id: input.reporterId,
    out_of_service: input.outOfService ?? false,
    ...(input.createdAt ? { created_at: input.createdAt, updated_at: input.createdAt, last_event_at: input.createdAt } : {}),
    take_in_charge_due_at: input.takeInChargeDueAt ?? null,
    resolve_due_at: input.resolveDueAt ?? null,
  };
  return insertIncidentWithEvent<IncidentRow>(knex, columns, ROW_COLUMNS, eventData);
}

/** The labels of what a declaration names, and whether each may be declared on; null for what the school lacks. */
export interface DeclarationFacts {
  /** Declarable: neither the equipment nor its type retired. */
  equipment: Pick<IncidentViewRow, 'equipment_name' | 'equipment_type_id' | 'equipment_type_name' | 'equipment_type_name_key'> | null;
  type: Pick<IncidentViewRow, 'type_label' | 'type_label_key' | 'type_retired_at'> | null;
  severity: (Pick<IncidentViewRow, 'severity_label' | 'severity_label_key' | 'severity_retired_at'> & { take_in_charge_hours: string; resolve_hours: string }) | null;
}

/**
 * What a declaration names, checked in one query: the school's equipment (still declarable), its incident type and
 * severity (with the severity's service targets, for the due times), and their labels for the answer.
 */
export async function declarationFacts(knex: Knex, structureId: string, ids: { equipmentId: string; typeId: string; severityId: string }): Promise<DeclarationFacts> {
  const { rows } = await knex.raw<{ rows: Array<Record<string, unknown>> }>(
    `SELECT e.id IS NOT NULL AS has_equipment, e.name AS equipment_name, e.type_id AS equipment_type_id,
            rt.name AS equipment_type_name, rt.name_key AS equipment_type_name_key,
            it.id IS NOT NULL AS has_type, it.label AS type_label, it.label_key AS type_label_key, it.retired_at AS type_retired_at,
            sv.id IS NOT NULL AS has_severity, sv.label AS severity_label, sv.label_key AS severity_label_key, sv.retired_at AS severity_retired_at,
            sv.take_in_charge_hours, sv.resolve_hours
       FROM (VALUES (1)) AS one (n)
       LEFT JOIN (rsv_equipment e JOIN rsv_resource_types rt ON rt.id = e.type_id AND rt.retired_at IS NULL)
              ON e.structure_id = ? AND e.id = ? AND e.retired_at IS NULL
       LEFT JOIN rsv_incident_types it ON it.structure_id = ? AND it.id = ?
       LEFT JOIN rsv_severities sv ON sv.structure_id = ? AND sv.id = ?`,
    [structureId, ids.equipmentId, structureId, ids.typeId, structureId, ids.severityId],
  );
  const r = rows[0]! as DeclarationFacts['equipment'] & DeclarationFacts['type'] & NonNullable<DeclarationFacts['severity']> & { has_equipment: boolean; has_type: boolean; has_severity: boolean };
  return {
    equipment: r.has_equipment ? { equipment_name: r.equipment_name, equipment_type_id: String(r.equipment_type_id), equipment_type_name: r.equipment_type_name, equipment_type_name_key: r.equipment_type_name_key } : null,
    type: r.has_type ? { type_label: r.type_label, type_label_key: r.type_label_key, type_retired_at: r.type_retired_at } : null,
    severity: r.has_severity
      ? { severity_label: r.severity_label, severity_label_key: r.severity_label_key, severity_retired_at: r.severity_retired_at, take_in_charge_hours: r.take_in_charge_hours, resolve_hours: r.resolve_hours }
      : null,
  };
}

/** The bare row, to decide a change on (read inside the change's transaction). */
export async function getIncidentRow(knex: Knex, structureId: string, id: string): Promise<IncidentRow | undefined> {
  return knex('rsv_incidents').where({ structure_id: structureId, id }).first();
}

export async function getIncidentView(knex: Knex, structureId: string, id: string): Promise<IncidentViewRow | undefined> {
  return withLabels(knex('rsv_incidents as i'))
    .where({ 'i.structure_id': structureId, 'i.id': id })
    .first('i.*', ...LABEL_COLUMNS);
}

export type IncidentPatch = Partial<
  Pick<IncidentRow, 'status' | 'assignee_id' | 'level' | 'domain' | 'take_in_charge_due_at' | 'resolve_due_at' | 'taken_school_hours' | 'resolved_school_hours' | 'confirmed_fixed'>
> & {
  taken_at?: Date | Knex.Raw;
  resolved_at?: Date | Knex.Raw | null;
  confirmed_at?: Date | Knex.Raw | null;
};

/**
 * Optimistic concurrency: the change applies only if nobody changed the incident since `version` was read.
 * Returns null when somebody did (the caller answers 409).
 */
export async function updateIncidentVersioned(trx: Knex.Transaction, structureId: string, id: string, version: number, patch: IncidentPatch): Promise<IncidentRow | null> {
  const rows = await trx('rsv_incidents')
    .where({ structure_id: structureId, id, version })
    .update({ ...patch, version: version + 1, updated_at: trx.fn.now() })
    .returning('*');
  return (rows[0] as IncidentRow | undefined) ?? null;
}

export interface IncidentFilter {
  /** Only these statuses (none: all). */
  statuses?: readonly IncidentStatus[];
  typeId?: string;
  severityId?: string;
  equipmentId?: string;
  /** A user id, or 'none' for unassigned. */
  assignee?: string | { none: true };
  /** Incidents the user reported or follows ("my incidents"). */
  involving?: string;
}

function applyFilter(q: Knex.QueryBuilder, structureIds: string[], filter: IncidentFilter, withStatus: boolean): Knex.QueryBuilder {
  // One structure: an equality, so that the (structure_id, ..., id DESC) indexes give the order without a sort.
  if (structureIds.length === 1) q.where('i.structure_id', structureIds[0]!);
  else q.whereIn('i.structure_id', structureIds);
  if (withStatus && filter.statuses) {
    const open = filter.statuses.length === OPEN_STATUSES.length && OPEN_STATUSES.every((s) => filter.statuses!.includes(s));
    if (open) q.whereRaw(OPEN_SQL);
    else if (filter.statuses.length === 1) q.where('i.status', filter.statuses[0]!);
    else q.whereIn('i.status', [...filter.statuses]);
  }
  if (filter.typeId) q.where('i.type_id', filter.typeId);
  if (filter.severityId) q.where('i.severity_id', filter.severityId);
  if (filter.equipmentId) q.where('i.equipment_id', filter.equipmentId);
  if (filter.assignee !== undefined) {
    if (typeof filter.assignee === 'string') q.where('i.assignee_id', filter.assignee);
    else q.whereNull('i.assignee_id');
  }
  if (filter.involving) {
    const userId = filter.involving;
    q.where(function () {
      this.where('i.reporter_id', userId).orWhereIn(
        'i.id',
        function () {
          this.select('f.incident_id').from('rsv_incident_followers as f').whereIn('f.structure_id', structureIds).where('f.user_id', userId);
        },
      );
    });
  }
  return q;
}

/** Where a page sorted by due time resumes: after this due time (null: none, sorted last) and this id. */
export interface DueKey {
  due: Date | null;
  id: string;
}

/**
 * Newest first, by keyset: `beforeId` is the last id of the previous page. Never OFFSET: a page costs the same at the
 * end of 100,000 incidents as at the start, and incidents declared meanwhile (higher ids) never shift the walk.
 * Returns up to `limit + 1` rows so the caller knows whether there is a next page.
 *
 * `sort: 'due'`: the soonest due first (overdue ones at the top), by keyset on (due time, id): `afterDue` is the last
 * row of the previous page (index rsv_incidents_inbox_due for the open ones).
 */
export async function listIncidents(
  knex: Knex,
  structureIds: string[],
  filter: IncidentFilter,
  page: { limit: number; beforeId?: string; withLastEvent?: boolean; sort?: 'newest' | 'due'; afterDue?: DueKey },
): Promise<IncidentViewRow[]> {
  if (!structureIds.length) return [];
  if (page.sort === 'due') return listByDue(knex, structureIds, filter, page);
  // The page first (an index scan in id order that stops after limit + 1 rows), then the labels of those rows only.
  // With the label joins under the LIMIT, the planner underestimates the rows (the structure_id join conditions) and
  // sorts a school's whole history: 6.8 s p99 for a first page of a school with 100,000 incidents (issue 9's bench).
  const pageRows = knex('rsv_incidents as i').select(...LIST_COLUMNS, knex.raw('left(i.description, ?) as description', [EXCERPT_LENGTH]));
  applyFilter(pageRows, structureIds, filter, true);
  if (page.beforeId) pageRows.where('i.id', '<', page.beforeId);
  pageRows.orderBy('i.id', 'desc').limit(page.limit + 1);
  // The page's columns named, not `i.*`: a statement without a star projection is prepared (src/db), so PostgreSQL
  // plans the inbox's most frequent query once per connection.
  const q = withLabels(knex.from(pageRows.as('i'))).select(...PAGE_COLUMNS, ...LABEL_COLUMNS);
  if (page.withLastEvent) {
    q.select('le.kind as last_event_kind', 'le.to_status as last_event_to_status').joinRaw(
      `LEFT JOIN LATERAL (SELECT ev.kind, ev.to_status FROM rsv_incident_events ev WHERE ev.incident_id = i.id ORDER BY ev.id DESC LIMIT 1) le ON true`,
    );
  }
  return q.orderBy('i.id', 'desc');
}

async function listByDue(knex: Knex, structureIds: string[], filter: IncidentFilter, page: { limit: number; afterDue?: DueKey }): Promise<IncidentViewRow[]> {
  const pageRows = knex('rsv_incidents as i').select(...LIST_COLUMNS, knex.raw('left(i.description, ?) as description', [EXCERPT_LENGTH]));
  applyFilter(pageRows, structureIds, filter, true);
  if (page.afterDue) {
    pageRows.whereRaw(`(${DUE_SQL}, i.id) > (?::timestamptz, ?::bigint)`, [page.afterDue.due ? page.afterDue.due.toISOString() : 'infinity', page.afterDue.id]);
  }
  pageRows.orderByRaw(`${DUE_SQL} ASC, i.id ASC`).limit(page.limit + 1);
  return withLabels(knex.from(pageRows.as('i'))).select(...PAGE_COLUMNS, ...LABEL_COLUMNS).orderByRaw(`${DUE_SQL} ASC, i.id ASC`);
}

/** Counts per status under the same filters (except the status): the inbox's tabs. */
export async function countByStatus(knex: Knex, structureIds: string[], filter: IncidentFilter): Promise<Record<IncidentStatus, number>> {
  const counts = { new: 0, taken: 0, in_progress: 0, dismissed: 0, closed: 0 } as Record<IncidentStatus, number>;
  if (!structureIds.length) return counts;
  const q = knex('rsv_incidents as i').select('i.status').count<Array<{ status: IncidentStatus; count: string }>>('* as count').groupBy('i.status');
  applyFilter(q, structureIds, filter, false);
  for (const row of await q) counts[row.status] = Number(row.count);
  return counts;
}

/** The open incidents of one equipment ("me too" on the declaration form), newest first. */
export async function openIncidentsOfEquipment(knex: Knex, structureId: string, equipmentId: string, limit = 20): Promise<IncidentViewRow[]> {
  return (await listIncidents(knex, [structureId], { equipmentId, statuses: OPEN_STATUSES }, { limit })).slice(0, limit);
}

export async function isFollower(knex: Knex, structureId: string, incidentId: string, userId: string): Promise<boolean> {
  const row = await knex('rsv_incident_followers').where({ structure_id: structureId, incident_id: incidentId, user_id: userId }).first('user_id');
  return Boolean(row);
}

/** Adds a follower once; true when the user was not following yet. */
export async function addFollower(trx: Knex.Transaction, structureId: string, incidentId: string, userId: string): Promise<boolean> {
  const { rows } = await trx.raw<{ rows: unknown[] }>(
    `INSERT INTO rsv_incident_followers (incident_id, user_id, structure_id) VALUES (?, ?, ?)
     ON CONFLICT (incident_id, user_id) DO NOTHING RETURNING user_id`,
    [incidentId, userId, structureId],
  );
  return rows.length > 0;
}

export async function followerIds(knex: Knex, structureId: string, incidentId: string): Promise<string[]> {
  return knex('rsv_incident_followers').where({ structure_id: structureId, incident_id: incidentId }).orderBy('created_at').pluck('user_id');
}

/** The school of an equipment, among the user's schools (the declaration link carries only the equipment). */
export async function structureOfEquipment(knex: Knex, equipmentId: string, structureIds: string[]): Promise<string | undefined> {
  if (!structureIds.length) return undefined;
  const row = await knex('rsv_equipment').where({ id: equipmentId }).whereIn('structure_id', structureIds).first('structure_id');
  return row?.structure_id;
}
