import { z } from 'zod';
import { route, ApiRoute, filesOf, RawResponse, RouteContext } from '../route';
import { actionsOf } from '../request';
import type { ModuleContext } from '../../context';
import type { Actor } from '../../domain/policies';
import { INCIDENT_DECLARE, INCIDENT_MANAGE } from '../../domain/incident-policy';
import { EXPERTISE_DOMAINS, INCIDENT_STATUSES, IncidentStatus, OPEN_STATUSES } from '../../domain/workflow';
import { hasForbiddenControl, MAX_INCIDENT_TEXT, normalizeNewlines } from '../../domain/incident-text';
import { decodeCursor } from '../../domain/keyset';
import {
  assignIncident,
  commentIncident,
  declareIncident,
  escalateIncident,
  followIncident,
  incidentDetail,
  listStructureIncidents,
  transitionIncident,
} from '../../services/incidents';
import { incidentReportData } from '../../services/incident-report';
import { getIncidentView, IncidentViewRow } from '../../store/incidents';
import {
  localized,
  memoT,
  presentIncident,
  presentIncidentDetail,
  presentIncidentEvent,
  presentIncidentItem,
  Users,
} from '../incident-presenters';
import { buildIncidentReport, reportAsText } from '../incident-report';
import { MAX_ATTACHMENTS_PER_INCIDENT } from '../../domain/attachments';
import { declareWithAttachments, listAttachments } from '../../services/attachments';
import { presentAttachment, uploadedFiles } from '../attachment-presenters';
import { checkSortedCursor, incidentSort, nextSortedCursor, sortedCursor } from './incident-sort';

/** Plain text typed by a user: CRLF normalized, trimmed, 1..5,000 characters, no control character but \n and \t. */
export const incidentText = (max = MAX_INCIDENT_TEXT) =>
  z
    .string()
    .transform(normalizeNewlines)
    .pipe(
      z
        .string()
        .trim()
        .min(1, 'must not be empty')
        .max(max, `at most ${max} characters`)
        .refine((s) => !hasForbiddenControl(s), 'control characters are not allowed (only newline and tab)'),
    );

/** A database id, as a string of digits or a JSON number. */
export const incidentDbId = z
  .union([z.string(), z.number().int()])
  .transform(String)
  .pipe(z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be an id'));

/** An optional text: a blank one (an empty form field) counts as absent. */
export const optionalIncidentText = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), incidentText().optional());

const version = z.coerce.number().int().positive().max(2_147_483_647).optional();

/** A boolean in JSON, or a form field's text in a multipart declaration ("true"/"false", a checkbox's "on"). */
const formBoolean = z.union([z.boolean(), z.enum(['true', 'false', 'on', '1', '0']).transform((v) => v === 'true' || v === 'on' || v === '1')]);

export const declarationBody = z
  .object({ equipmentId: incidentDbId, typeId: incidentDbId, severityId: incidentDbId, description: incidentText(), outOfService: formBoolean.optional() })
  .strict();

export const transitionBody = z.object({ to: z.enum(INCIDENT_STATUSES), comment: optionalIncidentText, version }).strict();
export const commentBody = z.object({ text: incidentText() }).strict();
export const assignBody = z.object({ assigneeId: z.string().min(1).max(200).nullable(), version }).strict();
export const escalateBody = z
  .object({ level: z.coerce.number().int().min(1).max(3), domain: z.enum(EXPERTISE_DOMAINS).optional(), comment: optionalIncidentText, version })
  .strict();

/** `status=open`, `status=all`, one status, or several separated by commas. */
export const statusFilter = z
  .string()
  .max(100)
  .transform((s, ctx): IncidentStatus[] | undefined => {
    if (s === '' || s === 'all') return undefined;
    if (s === 'open') return [...OPEN_STATUSES];
    const list = [...new Set(s.split(','))];
    if (!list.every((x) => (INCIDENT_STATUSES as readonly string[]).includes(x))) {
      ctx.addIssue({ code: 'custom', message: `one of open, all, ${INCIDENT_STATUSES.join(', ')} (comma-separated)` });
      return z.NEVER;
    }
    return list as IncidentStatus[];
  });

const optionalId = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be an id').optional().or(z.literal('').transform(() => undefined));

export const cursorParam = z
  .string()
  .max(100)
  .transform((s, ctx) => {
    const id = decodeCursor(s);
    if (!id) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor given by this API' });
      return z.NEVER;
    }
    return id;
  });

export const listQuery = z.object({
  status: statusFilter.optional(),
  typeId: optionalId,
  severityId: optionalId,
  equipmentId: optionalId,
  assignee: z.string().min(1).max(200).optional(),
  mine: z.enum(['0', '1']).optional(),
  counts: z.enum(['0', '1']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** `newest` (default): newest first; `due`: the soonest due first, overdue ones at the top (the service clock). */
  sort: incidentSort.optional(),
  /** The nextCursor of the previous page, for the same sort. */
  cursor: z.string().max(100).optional(),
  lang: z.string().max(10).optional(),
}).superRefine(checkSortedCursor);

export async function incidentActor(module: ModuleContext, ctx: Pick<RouteContext<unknown, unknown>, 'user' | 'state'>, structureId: string): Promise<Actor> {
  return { id: ctx.user.id, actions: (await actionsOf(module, ctx.state))[structureId] ?? [] };
}

/** The host's users named by these ids, in one call. */
export async function usersByIds(module: ModuleContext, ids: Array<string | null | undefined>): Promise<Users> {
  const unique = [...new Set(ids.filter((id): id is string => Boolean(id)))];
  const users = await module.host.directory.getUsers(unique);
  return new Map(users.map((u) => [u.id, u]));
}

const READERS = [INCIDENT_DECLARE, INCIDENT_MANAGE];

export const incidentRoutes: ApiRoute[] = [
  route({
    method: 'post',
    path: '/structures/:sid/incidents',
    summary:
      'Declares an incident on an equipment of the school. Always creates a new incident (see /incidents/:id/follow for "me too"). ' +
      'Also as multipart/form-data with the same fields plus `file` (photos or PDF, as POST /incidents/:id/attachments; the answer then has `attachments`).',
    action: INCIDENT_DECLARE,
    scope: { kind: 'structure' },
    service: 'incidents',
    body: declarationBody,
    multipart: { maxFiles: MAX_ATTACHMENTS_PER_INCIDENT },
    status: 201,
    example: { equipmentId: '1', typeId: '1', severityId: '1', description: 'Le vidéoprojecteur ne s’allume plus.' },
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const files = uploadedFiles(filesOf(c.req));
      // Declared alone, the incident comes back with its labels; with files, their event moved it since: read again.
      const { incident, attachments } = files.length
        ? await declareWithAttachments(c.module, actor, c.structureId, c.body, files)
        : { incident: await declareIncident(c.module, actor, c.structureId, c.body), attachments: null };
      const view = files.length ? await getIncidentView(c.module.knex, c.structureId, incident.id) : (incident as IncidentViewRow);
      c.res.location(`${c.module.manifest.prefix}/api/v1/incidents/${incident.id}`);
      // The reporter is the signed-in user: no need to ask the host's directory.
      const presented = presentIncident(view ?? incident, c.state.t, new Map([[c.user.id, c.user]]));
      return attachments ? { ...presented, attachments: attachments.map((a) => presentAttachment(c.module, a)) } : presented;
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/incidents',
    summary:
      'Incidents of the school, newest first (sort=due: the soonest due first, overdue ones at the top), by keyset pagination ({items, nextCursor}; ' +
      'counts per status with counts=1). Each item has its serviceClock. ' +
      'Managers see the inbox; a declarer sees mine=1 or the open incidents of one equipmentId.',
    action: READERS,
    scope: { kind: 'structure' },
    service: 'incidents',
    query: listQuery,
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const page = await listStructureIncidents(c.module, actor, c.structureId, {
        statuses: c.query.status,
        typeId: c.query.typeId,
        severityId: c.query.severityId,
        equipmentId: c.query.equipmentId,
        assignee: c.query.assignee,
        mine: c.query.mine === '1',
        counts: c.query.counts === '1',
        limit: c.query.limit,
        sort: c.query.sort,
        ...sortedCursor(c.query.sort, c.query.cursor),
      });
      const users = await usersByIds(c.module, page.items.flatMap((i) => [i.reporter_id, i.assignee_id]));
      const last = page.items[page.items.length - 1];
      const t = memoT(c.state.t);
      return {
        items: page.items.map((i) => presentIncidentItem(i, t, users)),
        nextCursor: page.hasMore && last ? nextSortedCursor(c.query.sort, last) : null,
        ...(page.counts ? { counts: page.counts } : {}),
      };
    },
  }),
  route({
    method: 'get',
    path: '/incidents/:id',
    summary: 'An incident with its history (events), its attached files (attachments) and what the caller may do with it (can).',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const detail = await incidentDetail(c.module, actor, c.structureId, c.recordId);
      const users = await usersByIds(c.module, [detail.incident.reporter_id, detail.incident.assignee_id, ...detail.events.flatMap((e) => [e.actor_id, e.data?.fromAssigneeId as string, e.data?.toAssigneeId as string])]);
      const attachments = await listAttachments(c.module.knex, c.structureId, c.recordId);
      return { ...presentIncidentDetail(detail, c.state.t, users, actor), attachments: attachments.map((a) => presentAttachment(c.module, a)) };
    },
  }),
  route({
    method: 'post',
    path: '/incidents/:id/transitions',
    summary: 'Moves an incident through the workflow (incident.manage; the reporter may reopen a closed one). 422 when the workflow refuses; 409 when someone moved it first.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: transitionBody,
    example: { to: 'taken' },
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const row = await localized(c.state.t, () =>
        transitionIncident(c.module, actor, c.structureId, c.recordId, { to: c.body.to, comment: c.body.comment || undefined, version: c.body.version }),
      );
      return presentIncident(row, c.state.t, await usersByIds(c.module, [row.reporter_id, row.assignee_id]));
    },
  }),
  route({
    method: 'post',
    path: '/incidents/:id/comments',
    summary: 'Adds a comment to the history (managers, the reporter, the followers).',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: commentBody,
    status: 201,
    example: { text: 'Toujours en panne ce matin.' },
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const event = await commentIncident(c.module, actor, c.structureId, c.recordId, c.body.text);
      return presentIncidentEvent(event, c.state.t, await usersByIds(c.module, [event.actor_id]));
    },
  }),
  route({
    method: 'post',
    path: '/incidents/:id/follow',
    summary: '"Me too": the user follows the open incident (and its mails) instead of declaring a duplicate. Idempotent.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      return followIncident(c.module, actor, c.structureId, c.recordId);
    },
  }),
  route({
    method: 'post',
    path: '/incidents/:id/assign',
    summary: 'Assigns the incident to a referent of the school (a delegate of service.informatique or a holder of incident.manage); null unassigns.',
    action: INCIDENT_MANAGE,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: assignBody,
    example: { assigneeId: 'u-referent2' },
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const row = await assignIncident(c.module, actor, c.structureId, c.recordId, c.body);
      return presentIncident(row, c.state.t, await usersByIds(c.module, [row.reporter_id, row.assignee_id]));
    },
  }),
  route({
    method: 'post',
    path: '/incidents/:id/escalate',
    summary: 'Raises the support level (1 referent, 2 expertise, 3 ENT editor) with its domain (required from level 1 on unless already set).',
    action: INCIDENT_MANAGE,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: escalateBody,
    example: { level: 1, domain: 'technical' },
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const row = await escalateIncident(c.module, actor, c.structureId, c.recordId, {
        level: c.body.level,
        domain: c.body.domain,
        comment: c.body.comment || undefined,
        version: c.body.version,
      });
      return presentIncident(row, c.state.t, await usersByIds(c.module, [row.reporter_id, row.assignee_id]));
    },
  }),
  route({
    method: 'get',
    path: '/incidents/:id/report',
    summary: "The report for the ENT editor (level 3): the incident and its history, pupils' and parents' names and logins left out. format=json (default) or text.",
    action: INCIDENT_MANAGE,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    query: z.object({ format: z.enum(['json', 'text']).default('json'), lang: z.string().max(10).optional() }),
    async handler(c) {
      const data = await incidentReportData(c.module, c.structureId, c.recordId);
      const report = buildIncidentReport(data, c.state.t);
      const filename = `incident-${c.recordId}.${c.query.format === 'text' ? 'txt' : 'json'}`;
      if (c.query.format === 'text') {
        return new RawResponse('text/plain; charset=utf-8', reportAsText(report, c.state.t), { 'Content-Disposition': `inline; filename="${filename}"` });
      }
      return report;
    },
  }),
];
