import type { ModuleContext } from '../context';
import type { HostStructure, HostUser } from '../host';
import { NotFoundError } from '../errors';
import { getIncidentView, followerIds, IncidentViewRow } from '../store/incidents';
import { listIncidentEvents, IncidentEventRow } from '../store/incident-events';

export interface IncidentReportData {
  structure: HostStructure;
  incident: IncidentViewRow;
  events: IncidentEventRow[];
  followers: number;
  /** Everyone the incident names, with their profile (to leave pupils' and parents' identities out). */
  users: Map<string, HostUser>;
  generatedAt: Date;
}

/** Gathers what the level-3 report for the ENT editor is made of. Sending it by mail is the notifications' job. */
export async function incidentReportData(ctx: ModuleContext, structureId: string, id: string, now = new Date()): Promise<IncidentReportData> {
  const [incident, events, followers, structures] = await Promise.all([
    getIncidentView(ctx.knex, structureId, id),
    listIncidentEvents(ctx.knex, structureId, id),
    followerIds(ctx.knex, structureId, id),
    ctx.host.directory.getStructures([structureId]),
  ]);
  if (!incident) throw new NotFoundError();
  const ids = new Set<string>([incident.reporter_id]);
  if (incident.assignee_id) ids.add(incident.assignee_id);
  for (const e of events) {
    ids.add(e.actor_id);
    for (const key of ['fromAssigneeId', 'toAssigneeId']) if (typeof e.data?.[key] === 'string') ids.add(e.data[key] as string);
  }
  const users = new Map((await ctx.host.directory.getUsers([...ids])).map((u) => [u.id, u]));
  return {
    structure: structures[0] ?? { id: structureId, name: structureId },
    incident,
    events,
    followers: followers.length,
    users,
    generatedAt: now,
  };
}
