import type { Knex } from 'knex';
import type { IncidentStatus } from '../domain/workflow';
import { notificationsOn, wakeAfterCommit } from '../notifications/outbox';

/** The kinds of history entries. Later issues add theirs (attachments, confirmations...). */
export const INCIDENT_EVENT_KINDS = ['created', 'status_changed', 'comment', 'assigned', 'escalated', 'follower_added', 'attachment_added', 'confirmed', 'reopened'] as const;
/**
 * `confirmed`: the reporter says their closed incident is fixed; `reopened`: they say it is not, which moves it from
 * closed to in_progress (that event carries from_status and to_status like a status_changed). The kinds of event that
 * change an incident's status, for whatever counts moves and backlogs:
 */
export const STATUS_CHANGE_KINDS = ['status_changed', 'reopened'] as const;
export type IncidentEventKind = (typeof INCIDENT_EVENT_KINDS)[number];

export interface IncidentEventInput {
  incidentId: string;
  structureId: string;
  kind: IncidentEventKind;
  /** The host id of the user who did it. */
  actorId: string;
  fromStatus?: IncidentStatus | null;
  toStatus?: IncidentStatus | null;
  comment?: string | null;
  /** Kind-specific facts, e.g. {fromAssigneeId, toAssigneeId} or {fromLevel, toLevel, fromDomain, toDomain}. */
  data?: Record<string, unknown>;
}

export interface IncidentEventRow {
  id: string;
  incident_id: string;
  structure_id: string;
  kind: IncidentEventKind;
  actor_id: string;
  from_status: IncidentStatus | null;
  to_status: IncidentStatus | null;
  comment: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

const EVENT_COLUMNS = 'id, incident_id, structure_id, kind, actor_id, from_status, to_status, comment, data, created_at';

/**
 * The notification of an event, as a CTE over `ev` (the inserted event): told by mail in the event's own statement, so
 * in its transaction (a follower joining is not news for anyone, nor are files added on their own: a comment carrying
 * files is told as a comment). Its data (the new status and level) comes from the event. Binds: whether to tell.
 */
const SILENT_KINDS: readonly string[] = ['follower_added', 'attachment_added'];
const TOLD = `told AS (
   INSERT INTO rsv_notifications (structure_id, kind, subject_type, subject_id, event_id, actor_id, data)
   SELECT ev.structure_id, 'incident.' || ev.kind, 'incident', ev.incident_id, ev.id, ev.actor_id,
          jsonb_build_object('to', ev.to_status, 'level', ev.data->'toLevel')
     FROM ev WHERE ? AND ev.kind NOT IN (${SILENT_KINDS.map((k) => `'${k}'`).join(', ')})
 )`;

/**
 * THE one way an incident event is written, always inside the transaction of the change it records ("nothing about an
 * incident is ever updated without an event"). Requiring a transaction makes a forgotten one a type error.
 *
 * The event, the incident's last_event_at and the notification (mail outbox) in one statement: one round trip, and a
 * change and the mails it causes commit or roll back together. (The 'created' event is written with its incident, by
 * insertIncidentWithEvent.)
 */
export async function appendIncidentEvent(trx: Knex.Transaction, event: IncidentEventInput): Promise<IncidentEventRow> {
  const tell = notificationsOn(trx);
  const { rows } = await trx.raw<{ rows: IncidentEventRow[] }>(
    `WITH ev AS (
       INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, comment, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING ${EVENT_COLUMNS}
     ), moved AS (
       UPDATE rsv_incidents i SET last_event_at = ev.created_at
         FROM ev
        WHERE i.id = ev.incident_id AND i.structure_id = ev.structure_id
     ), ${TOLD}
     SELECT ${EVENT_COLUMNS} FROM ev`,
    [
      event.incidentId,
      event.structureId,
      event.kind,
      event.actorId,
      event.fromStatus ?? null,
      event.toStatus ?? null,
      event.comment ?? null,
      JSON.stringify(event.data ?? {}),
      tell,
    ],
  );
  if (tell && !SILENT_KINDS.includes(event.kind)) wakeAfterCommit(trx);
  return rows[0]!;
}

/**
 * A declaration in one statement: the incident, its 'created' event and the notification. A single statement commits
 * or fails as a whole, so it needs no transaction of its own (one round trip instead of four); inside a transaction
 * (files attached in the same change), it is part of it. `columns` are the incident's columns to insert.
 */
export async function insertIncidentWithEvent<R>(
  knex: Knex,
  columns: Record<string, unknown>,
  returning: readonly string[],
  eventData: Record<string, unknown>,
): Promise<R> {
  const tell = notificationsOn(knex);
  const names = Object.keys(columns);
  const { rows } = await knex.raw<{ rows: R[] }>(
    `WITH i AS (
       INSERT INTO rsv_incidents (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})
       RETURNING ${returning.join(', ')}
     ), ev AS (
       INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, data)
       SELECT i.id, i.structure_id, 'created', i.reporter_id, NULL, i.status, ?::jsonb FROM i
       RETURNING ${EVENT_COLUMNS}
     ), ${TOLD}
     SELECT ${returning.join(', ')} FROM i`,
    [...(Object.values(columns) as Knex.RawBinding[]), JSON.stringify(eventData), tell],
  );
  if (tell) wakeAfterCommit(knex);
  return rows[0]!;
}

/** The history of one incident, oldest first. */
export async function listIncidentEvents(knex: Knex, structureId: string, incidentId: string): Promise<IncidentEventRow[]> {
  return knex('rsv_incident_events').where({ structure_id: structureId, incident_id: incidentId }).orderBy('id');
}
