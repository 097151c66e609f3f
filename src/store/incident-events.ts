import type { Knex } from 'knex';
import type { IncidentStatus } from '../domain/workflow';
import { recordNotification } from '../notifications/outbox';

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

/**
 * THE one way an incident event is written, always inside the transaction of the change it records ("nothing about an
 * incident is ever updated without an event"). Requiring a transaction makes a forgotten one a type error.
 *
 * The notifications (mail outbox) hook in here, in the same transaction, so that a change and the mails it causes
 * commit or roll back together.
 */
export async function appendIncidentEvent(trx: Knex.Transaction, event: IncidentEventInput): Promise<IncidentEventRow> {
  // The event and the incident's last_event_at in one statement (one round trip). The creation row already carries
  // last_event_at = now(); every later event moves it ("my incidents" shows it).
  const { rows } = await trx.raw<{ rows: IncidentEventRow[] }>(
    `WITH ev AS (
       INSERT INTO rsv_incident_events (incident_id, structure_id, kind, actor_id, from_status, to_status, comment, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING *
     ), moved AS (
       UPDATE rsv_incidents i SET last_event_at = ev.created_at
         FROM ev
        WHERE i.id = ev.incident_id AND i.structure_id = ev.structure_id AND ev.kind <> 'created'
     )
     SELECT * FROM ev`,
    [
      event.incidentId,
      event.structureId,
      event.kind,
      event.actorId,
      event.fromStatus ?? null,
      event.toStatus ?? null,
      event.comment ?? null,
      JSON.stringify(event.data ?? {}),
    ],
  );
  const row = rows[0]!;
  // Told by mail in the same transaction (a follower joining is not news for anyone, nor are files added on their
  // own: a comment carrying files is told as a comment).
  if (event.kind !== 'follower_added' && event.kind !== 'attachment_added') {
    await recordNotification(trx, {
      structureId: event.structureId,
      kind: `incident.${event.kind}`,
      subjectType: 'incident',
      subjectId: event.incidentId,
      eventId: String(row.id),
      actorId: event.actorId,
      data: { to: event.toStatus ?? null, level: (event.data as { toLevel?: number } | undefined)?.toLevel ?? null },
    });
  }
  return row;
}

/** The history of one incident, oldest first. */
export async function listIncidentEvents(knex: Knex, structureId: string, incidentId: string): Promise<IncidentEventRow[]> {
  return knex('rsv_incident_events').where({ structure_id: structureId, incident_id: incidentId }).orderBy('id');
}
