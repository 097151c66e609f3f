import { z } from 'zod';
import { page, PageRoute, PageResult, RouteContext } from '../route';
import { actionsOf } from '../request';
import type { ModuleContext } from '../../context';
import type { T } from '../../i18n';
import { AppError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import { errorBody } from '../errors';
import type { Actor } from '../../domain/policies';
import { INCIDENT_DECLARE, INCIDENT_MANAGE, managesIncidents } from '../../domain/incident-policy';
import { EXPERTISE_DOMAINS, INCIDENT_STATUSES, IncidentStatus, OPEN_STATUSES } from '../../domain/workflow';
import { encodeCursor } from '../../domain/keyset';
import { checkSortedCursor, incidentSort, nextSortedCursor, sortedCursor } from '../api/incident-sort';
import { listEquipment } from '../../store/equipment';
import { enabledServicesOf, getSettings, serviceEnabled } from '../../store/settings';
import { listValues } from '../../store/incident-lists';
import { getIncidentView, structureOfEquipment } from '../../store/incidents';
import {
  assignableUsers,
  assignIncident,
  commentIncident,
  declareIncident,
  escalateIncident,
  followIncident,
  incidentDetail,
  listMyIncidents,
  listStructureIncidents,
  transitionIncident,
} from '../../services/incidents';
import { labelOf } from '../presenters';
import { filesOf } from '../route';
import { MAX_ATTACHMENTS_PER_INCIDENT } from '../../domain/attachments';
import { attachToIncident, declareWithAttachments, listAttachments } from '../../services/attachments';
import { attachmentLimits, presentAttachment, sizeFormatter, thumbnailSize, uploadedFiles } from '../attachment-presenters';
import { localized, memoT, presentIncidentDetail, presentIncidentEvent, presentIncidentItem, presentListValue, userIdsOf } from '../incident-presenters';
import {
  assignBody,
  cursorParam,
  declarationBody,
  escalateBody,
  incidentActor,
  optionalIncidentText,
  statusFilter,
  transitionBody,
  usersByIds,
} from '../api/incidents';

type Ctx = RouteContext<unknown, unknown>;
const READERS = [INCIDENT_DECLARE, INCIDENT_MANAGE];
const INBOX_PAGE_SIZE = 50;
const MINE_PAGE_SIZE = 50;

/** Dates in the school's time zone and the reader's language. */
function dateFormatter(lang: string, zone: string) {
  const f = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
  return (value: string | Date | null | undefined) => (value ? f.format(new Date(value)) : '');
}

async function zoneOf(module: ModuleContext, structureId: string): Promise<string> {
  return (await getSettings(module.knex, structureId))?.time_zone ?? 'Europe/Paris';
}

async function structureName(module: ModuleContext, structureId: string): Promise<string> {
  const [s] = await module.host.directory.getStructures([structureId]);
  return s?.name ?? structureId;
}

/** The fields of a refused form, with a message per field in the reader's language. */
function formErrors(error: unknown, t: T) {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, t);
  const details = (body.details ?? {}) as { fields?: Array<{ field: string; message: string }> };
  const fields = [...new Map((details.fields ?? []).map((f) => [f.field, { field: f.field, message: t(`incident:form.error.${f.field}`, { defaultValue: f.message }) }])).values()];
  return { message: body.message, fields, status: error.status };
}

// ---- the declaration form ------------------------------------------------------------------------------------------

const declarationQuery = z.object({
  structure: z.string().min(1).max(200).optional(),
  equipment: z.string().regex(/^[1-9][0-9]{0,17}$/).optional(),
  lang: z.string().max(10).optional(),
});

interface DeclarationValues {
  equipmentId: string;
  typeId: string;
  severityId: string;
  description: string;
}

async function declarationFormData(c: Ctx, structureId: string, values: DeclarationValues) {
  const t = c.state.t;
  const actor = await incidentActor(c.module, c, structureId);
  const [equipment, types, severities, name] = await Promise.all([
    listEquipment(c.module.knex, structureId),
    listValues(c.module.knex, 'incidentType', structureId),
    listValues(c.module.knex, 'severity', structureId),
    structureName(c.module, structureId),
  ]);
  // Grouped by type, in the school's order: the rooms first, then "2. Demande maintenance" (wifi, ENT, projectors...).
  const groups: Array<{ typeName: string; items: Array<{ id: string; name: string; location: string }> }> = [];
  for (const e of equipment) {
    const typeName = labelOf({ name: e.type_name, name_key: e.type_name_key }, t);
    let group = groups[groups.length - 1];
    if (!group || group.typeName !== typeName) groups.push((group = { typeName, items: [] }));
    group.items.push({ id: String(e.id), name: e.name, location: e.location });
  }
  let openIncidents: ReturnType<typeof presentIncidentItem>[] = [];
  const chosen = equipment.find((e) => String(e.id) === values.equipmentId);
  if (chosen) {
    const page = await listStructureIncidents(c.module, actor, structureId, { equipmentId: String(chosen.id), statuses: OPEN_STATUSES, limit: 10 });
    const users = await usersByIds(c.module, page.items.map((i) => i.reporter_id));
    openIncidents = page.items.map((i) => presentIncidentItem(i, t, users));
  }
  return {
    structureId,
    structureName: name,
    groups,
    chosen: chosen ? { id: String(chosen.id), name: chosen.name } : null,
    types: types.map((v) => presentListValue(v, t)),
    severities: severities.map((v) => presentListValue(v, t)),
    values,
    openIncidents,
    attachmentLimits: attachmentLimits(c.module),
    fmt: dateFormatter(c.state.lang, await zoneOf(c.module, structureId)),
    errors: null as ReturnType<typeof formErrors> | null,
  };
}

/**
 * The declaration link carries the school (`?structure=`) or only the equipment (`?equipment=`, the QR code on a
 * projector): the school is found among the user's own, then the same checks as the route chain's apply to it.
 */
async function declarationStructure(c: Ctx, query: z.infer<typeof declarationQuery>): Promise<string | null> {
  let structureId: string | undefined;
  if (query.equipment) {
    structureId = await structureOfEquipment(c.module.knex, query.equipment, c.user.structures);
    if (!structureId) throw new NotFoundError();
  } else if (query.structure) {
    if (!c.user.structures.includes(query.structure)) throw new NotFoundError();
    structureId = query.structure;
  } else {
    const candidates = await declarableStructures(c);
    if (candidates.length !== 1) return null;
    structureId = candidates[0];
  }
  if (!(await serviceEnabled(c.module.knex, structureId!, 'incidents'))) throw new NotFoundError();
  if (!((await actionsOf(c.module, c.state))[structureId!] ?? []).includes(INCIDENT_DECLARE)) throw new ForbiddenError('incident:errors.mayNotDeclare');
  return structureId!;
}

/** The user's schools where the incident service is on and they may declare (or manage). */
async function declarableStructures(c: Ctx, actions: string[] = [INCIDENT_DECLARE]): Promise<string[]> {
  const [rights, services] = await Promise.all([actionsOf(c.module, c.state), enabledServicesOf(c.module.knex, c.user.structures)]);
  return c.user.structures.filter((s) => services[s]?.incidents && actions.some((a) => (rights[s] ?? []).includes(a)));
}

const declarationForm = z.object({
  equipmentId: z.string().max(40).default(''),
  typeId: z.string().max(40).default(''),
  severityId: z.string().max(40).default(''),
  description: z.string().max(200_000).default(''),
  outOfService: z.string().max(5).optional(),
});

// ---- the incident page -------------------------------------------------------------------------------------------

const DONE = ['declared', 'moved', 'taken', 'commented', 'followed', 'assigned', 'escalated', 'attached'] as const;

async function incidentPage(c: Ctx, extra: { notice?: string | null; formError?: { message: string; fields: Array<{ field: string; message: string }> } | null; status?: number } = {}): Promise<PageResult> {
  const t = c.state.t;
  const actor = await incidentActor(c.module, c, c.structureId);
  const detail = await incidentDetail(c.module, actor, c.structureId, c.recordId);
  const users = await usersByIds(c.module, userIdsOf(detail));
  const incident = presentIncidentDetail(detail, t, users, actor);
  const manages = managesIncidents(actor);
  const [name, zone, referents] = await Promise.all([
    structureName(c.module, c.structureId),
    zoneOf(c.module, c.structureId),
    manages ? assignableUsers(c.module, c.structureId) : Promise.resolve([]),
  ]);
  const fmt = dateFormatter(c.state.lang, zone);
  const attachments = (await listAttachments(c.module.knex, c.structureId, c.recordId)).map((a) => presentAttachment(c.module, a));
  return {
    view: 'pages/incident',
    title: t('incident:page.title', { number: incident.id }),
    structureId: c.structureId,
    status: extra.status,
    data: {
      incident,
      timeline: detail.events.map((e) => describeEvent(presentIncidentEvent(e, t, users), t, fmt)),
      structureName: name,
      manages,
      referents,
      domains: EXPERTISE_DOMAINS,
      fmt,
      notice: extra.notice ?? null,
      formError: extra.formError ?? null,
      attachments: attachments.map((a) => ({ ...a, thumb: thumbnailSize(a) })),
      attachmentsLeft: Math.max(0, MAX_ATTACHMENTS_PER_INCIDENT - attachments.length),
      attachmentLimits: attachmentLimits(c.module),
      fmtSize: sizeFormatter(t, c.state.lang),
    },
  };
}

/** One line of the timeline, in words. */
function describeEvent(e: ReturnType<typeof presentIncidentEvent>, t: T, fmt: (d: string) => string) {
  const actor = e.actor?.displayName || t('incident:event.someone');
  const data = e.data as Record<string, unknown>;
  let text: string;
  switch (e.kind) {
    case 'created':
      text = t('incident:event.created', { actor });
      break;
    case 'status_changed':
      text = t('incident:event.status_changed', { actor, from: e.fromStatusLabel, to: e.toStatusLabel });
      break;
    case 'comment':
      text = t('incident:event.comment', { actor });
      break;
    case 'assigned': {
      const to = data.to as { displayName: string } | null;
      text = to ? t('incident:event.assigned', { actor, to: to.displayName }) : t('incident:event.unassigned', { actor });
      break;
    }
    case 'escalated':
      text = t('incident:event.escalated', { actor, level: t(`incident:level.${data.toLevel}`), domain: t(`incident:domain.${data.toDomain}`) });
      break;
    case 'follower_added':
      text = t('incident:event.follower_added', { actor });
      break;
    case 'attachment_added':
      text = t('attachments:event.added', { actor, count: Number((e.data as { attachments?: number }).attachments ?? 1) });
      break;
    case 'confirmed':
      text = t('incident:event.confirmed', { actor });
      break;
    case 'reopened':
      text = t('incident:event.reopened', { actor });
      break;
    default:
      text = t('incident:event.other', { actor, kind: e.kind });
  }
  return { id: e.id, kind: e.kind, text, comment: e.comment, at: e.createdAt, when: fmt(e.createdAt), toStatus: e.toStatus };
}

/** A form on the incident page: run it, then back to the page (Post/Redirect/Get), or the page with the error. */
async function incidentAction(c: Ctx, done: (typeof DONE)[number], run: (actor: Actor) => Promise<unknown>, back?: string): Promise<PageResult> {
  const actor = await incidentActor(c.module, c, c.structureId);
  try {
    await localized(c.state.t, () => run(actor));
  } catch (error) {
    if (!(error instanceof AppError) || error instanceof NotFoundError || error.status === 403) throw error;
    return incidentPage(c, { formError: formErrors(error, c.state.t), status: error.status });
  }
  if (back === 'inbox') return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/inbox?done=${done}&incident=${c.recordId}` };
  return { redirect: `${c.module.manifest.prefix}/incidents/${c.recordId}?done=${done}` };
}

/** An invalid form on the incident page shows the page again with the fields named. */
async function incidentFormInvalid(error: ValidationError, c: Ctx): Promise<PageResult> {
  return incidentPage(c, { formError: formErrors(error, c.state.t), status: 400 });
}

const back = z.enum(['inbox', 'incident']).optional();

// ---- the inbox -----------------------------------------------------------------------------------------------------

const TABS = ['open', ...INCIDENT_STATUSES, 'all'] as const;

const inboxQuery = z.object({
  status: z.enum(TABS).default('open'),
  typeId: z.string().regex(/^[1-9][0-9]{0,17}$/).optional().or(z.literal('').transform(() => undefined)),
  severityId: z.string().regex(/^[1-9][0-9]{0,17}$/).optional().or(z.literal('').transform(() => undefined)),
  equipmentId: z.string().regex(/^[1-9][0-9]{0,17}$/).optional().or(z.literal('').transform(() => undefined)),
  assignee: z.string().max(200).optional().or(z.literal('').transform(() => undefined)),
  /** newest (default) or due: the soonest due first, overdue ones at the top (the service clock). */
  sort: incidentSort.default('newest'),
  cursor: z.string().max(100).optional(),
  done: z.enum(DONE).optional(),
  incident: z.string().regex(/^[1-9][0-9]{0,17}$/).optional(),
  lang: z.string().max(10).optional(),
}).superRefine(checkSortedCursor);

export const incidentPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/incidents/new',
    summary: 'The declaration form (?structure=SID, or ?equipment=ID from a QR code: pre-filled, with the open incidents of that equipment first).',
    action: 'signedIn',
    scope: { kind: 'user' },
    query: declarationQuery,
    async handler(c): Promise<PageResult> {
      const t = c.state.t;
      const structureId = await declarationStructure(c, c.query);
      if (!structureId) {
        const ids = await declarableStructures(c);
        if (!ids.length) throw new ForbiddenError('incident:errors.mayNotDeclare');
        const schools = await c.module.host.directory.getStructures(ids);
        return { view: 'pages/incident-new', title: t('incident:new.title'), data: { chooseSchool: schools } };
      }
      const data = await declarationFormData(c, structureId, { equipmentId: c.query.equipment ?? '', typeId: '', severityId: '', description: '' });
      return { view: 'pages/incident-new', title: t('incident:new.title'), structureId, data: { ...data, chooseSchool: null } };
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/incidents/new',
    summary: 'Declares from the form (multipart with photos, or urlencoded); a refused form comes back with its errors, nothing stored.',
    action: INCIDENT_DECLARE,
    scope: { kind: 'structure' },
    service: 'incidents',
    body: declarationForm,
    multipart: { maxFiles: MAX_ATTACHMENTS_PER_INCIDENT },
    async onInvalid(error, c) {
      const raw = (c.body ?? {}) as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : '');
      const values = { equipmentId: str(raw.equipmentId), typeId: str(raw.typeId), severityId: str(raw.severityId), description: str(raw.description) };
      const data = await declarationFormData(c, c.structureId, values);
      return { view: 'pages/incident-new', title: c.state.t('incident:new.title'), structureId: c.structureId, status: 400, data: { ...data, chooseSchool: null, errors: formErrors(error, c.state.t) } };
    },
    async handler(c): Promise<PageResult> {
      const values = { equipmentId: c.body.equipmentId, typeId: c.body.typeId, severityId: c.body.severityId, description: c.body.description, outOfService: c.body.outOfService === 'on' };
      try {
        const parsed = declarationBody.safeParse(values);
        if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message })));
        const actor = await incidentActor(c.module, c, c.structureId);
        const files = uploadedFiles(filesOf(c.req));
        const incident = files.length
          ? (await declareWithAttachments(c.module, actor, c.structureId, parsed.data, files)).incident
          : await declareIncident(c.module, actor, c.structureId, parsed.data);
        return { redirect: `${c.module.manifest.prefix}/incidents/${incident.id}/declared` };
      } catch (error) {
        const errors = formErrors(error, c.state.t);
        const data = await declarationFormData(c, c.structureId, values);
        return { view: 'pages/incident-new', title: c.state.t('incident:new.title'), structureId: c.structureId, status: errors.status, data: { ...data, chooseSchool: null, errors } };
      }
    },
  }),
  page({
    method: 'get',
    path: '/incidents/mine',
    summary: 'My incidents: the ones I declared or follow, in all my schools, with their status and last change.',
    action: 'signedIn',
    scope: { kind: 'user' },
    query: z.object({ cursor: cursorParam.optional(), lang: z.string().max(10).optional() }),
    async handler(c): Promise<PageResult> {
      const t = memoT(c.state.t);
      const structureIds = await declarableStructures(c, READERS);
      const page = await listMyIncidents(c.module, c.user.id, structureIds, { limit: MINE_PAGE_SIZE, beforeId: c.query.cursor });
      const [schools, zone] = await Promise.all([
        c.module.host.directory.getStructures(structureIds),
        structureIds[0] ? zoneOf(c.module, structureIds[0]) : Promise.resolve('Europe/Paris'),
      ]);
      const users = await usersByIds(c.module, page.items.map((i) => i.assignee_id));
      const last = page.items[page.items.length - 1];
      return {
        view: 'pages/incidents-mine',
        title: t('incident:mine.title'),
        data: {
          items: page.items.map((i) => presentIncidentItem(i, t, users)),
          schools: Object.fromEntries(schools.map((s) => [s.id, s.name])),
          severalSchools: structureIds.length > 1,
          declareIn: structureIds,
          nextCursor: page.hasMore && last ? encodeCursor(last.id) : null,
          firstPage: Boolean(c.query.cursor),
          fmt: dateFormatter(c.state.lang, zone),
        },
      };
    },
  }),
  page({
    method: 'get',
    path: '/incidents/:id/declared',
    summary: 'The confirmation after a declaration, with the incident number.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    async handler(c): Promise<PageResult> {
      const t = c.state.t;
      const row = await getIncidentView(c.module.knex, c.structureId, c.recordId);
      if (!row) throw new NotFoundError();
      const users = await usersByIds(c.module, [row.reporter_id]);
      return {
        view: 'pages/incident-declared',
        title: t('incident:declared.title', { number: String(row.id) }),
        structureId: c.structureId,
        data: { incident: presentIncidentItem(row, t, users), structureId: c.structureId },
      };
    },
  }),
  page({
    method: 'get',
    path: '/incidents/:id',
    summary: 'The incident page: its facts, its timeline, and the forms the reader may use.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    query: z.object({ done: z.enum(DONE).optional(), lang: z.string().max(10).optional() }),
    async handler(c): Promise<PageResult> {
      return incidentPage(c, { notice: c.query.done ? c.state.t(`incident:notice.${c.query.done}`) : null });
    },
  }),
  page({
    method: 'post',
    path: '/incidents/:id/transition',
    summary: 'Changes the status from the incident page or the inbox ("take in charge" in one click).',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: transitionBody.extend({ back }),
    onInvalid: incidentFormInvalid,
    async handler(c): Promise<PageResult> {
      const { to, comment, version } = c.body;
      return incidentAction(c, to === 'taken' ? 'taken' : 'moved', (actor) => transitionIncident(c.module, actor, c.structureId, c.recordId, { to, comment: comment || undefined, version }), c.body.back);
    },
  }),
  page({
    method: 'post',
    path: '/incidents/:id/comment',
    summary: 'Adds a comment from the incident page, with files or not (multipart); files alone are added without a comment.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: z.object({ text: optionalIncidentText }).strict(),
    multipart: { maxFiles: MAX_ATTACHMENTS_PER_INCIDENT },
    onInvalid: incidentFormInvalid,
    async handler(c): Promise<PageResult> {
      const files = uploadedFiles(filesOf(c.req));
      const text = c.body.text || undefined;
      if (!files.length && !text) return incidentFormInvalid(new ValidationError([{ field: 'text', message: 'must not be empty' }]), c);
      if (!files.length) return incidentAction(c, 'commented', (actor) => commentIncident(c.module, actor, c.structureId, c.recordId, text!));
      return incidentAction(c, text ? 'commented' : 'attached', (actor) => attachToIncident(c.module, actor, c.structureId, c.recordId, files, { comment: text }));
    },
  }),
  page({
    method: 'post',
    path: '/incidents/:id/follow',
    summary: '"Me too" from the declaration form or the incident page.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    async handler(c): Promise<PageResult> {
      return incidentAction(c, 'followed', (actor) => followIncident(c.module, actor, c.structureId, c.recordId));
    },
  }),
  page({
    method: 'post',
    path: '/incidents/:id/assign',
    summary: 'Assigns the incident to a fellow referent (empty: nobody).',
    action: INCIDENT_MANAGE,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: z.object({ assigneeId: z.string().max(200).default(''), version: assignBody.shape.version }).strict(),
    onInvalid: incidentFormInvalid,
    async handler(c): Promise<PageResult> {
      return incidentAction(c, 'assigned', (actor) => assignIncident(c.module, actor, c.structureId, c.recordId, { assigneeId: c.body.assigneeId || null, version: c.body.version }));
    },
  }),
  page({
    method: 'post',
    path: '/incidents/:id/escalate',
    summary: 'Raises the support level from the incident page.',
    action: INCIDENT_MANAGE,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: z.preprocess((b) => (b && typeof b === 'object' && (b as Record<string, unknown>).domain === '' ? { ...(b as object), domain: undefined } : b), escalateBody),
    onInvalid: incidentFormInvalid,
    async handler(c): Promise<PageResult> {
      const { level, domain, comment, version } = c.body;
      return incidentAction(c, 'escalated', (actor) => escalateIncident(c.module, actor, c.structureId, c.recordId, { level, domain, comment: comment || undefined, version }));
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/inbox',
    summary: "The referents' inbox: tabs per status with counts, filters, keyset pagination.",
    action: INCIDENT_MANAGE,
    scope: { kind: 'structure' },
    service: 'incidents',
    query: inboxQuery,
    async handler(c): Promise<PageResult> {
      const t = memoT(c.state.t);
      const q = c.query;
      const actor = await incidentActor(c.module, c, c.structureId);
      const statuses = statusFilter.parse(q.status);
      const page = await listStructureIncidents(c.module, actor, c.structureId, {
        statuses,
        typeId: q.typeId,
        severityId: q.severityId,
        equipmentId: q.equipmentId,
        assignee: q.assignee,
        counts: true,
        limit: INBOX_PAGE_SIZE,
        sort: q.sort,
        ...sortedCursor(q.sort, q.cursor),
      });
      const [name, zone, referents, equipment, types, severities] = await Promise.all([
        structureName(c.module, c.structureId),
        zoneOf(c.module, c.structureId),
        assignableUsers(c.module, c.structureId),
        listEquipment(c.module.knex, c.structureId, { includeRetired: true }),
        listValues(c.module.knex, 'incidentType', c.structureId, { includeRetired: true }),
        listValues(c.module.knex, 'severity', c.structureId, { includeRetired: true }),
      ]);
      const users = await usersByIds(c.module, page.items.flatMap((i) => [i.reporter_id, i.assignee_id]));
      const counts = page.counts!;
      const tabCount = (tab: (typeof TABS)[number]) =>
        tab === 'open' ? OPEN_STATUSES.reduce((n, s) => n + counts[s], 0) : tab === 'all' ? INCIDENT_STATUSES.reduce((n, s) => n + counts[s], 0) : counts[tab as IncidentStatus];
      const filters: Record<string, string | undefined> = { status: q.status, typeId: q.typeId, severityId: q.severityId, equipmentId: q.equipmentId, assignee: q.assignee, sort: q.sort };
      const base = `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/inbox`;
      const link = (overrides: Record<string, string | undefined>) => {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries({ ...filters, ...overrides })) if (v && !(k === 'status' && v === 'open') && !(k === 'sort' && v === 'newest')) params.set(k, v);
        const s = params.toString();
        return s ? `${base}?${s}` : base;
      };
      const last = page.items[page.items.length - 1];
      const actions = (await actionsOf(c.module, c.state))[c.structureId] ?? [];
      return {
        view: 'pages/inbox',
        title: t('incident:inbox.title', { school: name }),
        structureId: c.structureId,
        data: {
          structureId: c.structureId,
          structureName: name,
          tabs: TABS.map((tab) => ({ tab, label: t(`incident:inbox.tab.${tab}`), count: tabCount(tab), href: link({ status: tab, cursor: undefined }), current: tab === q.status })),
          currentTab: q.status,
          filters,
          items: page.items.map((i) => presentIncidentItem(i, t, users)),
          referents,
          equipment: equipment.map((e) => ({ id: String(e.id), name: e.name })),
          types: types.map((v) => presentListValue(v, t)),
          severities: severities.map((v) => presentListValue(v, t)),
          nextHref: page.hasMore && last ? link({ cursor: nextSortedCursor(q.sort, last) }) : null,
          firstHref: q.cursor ? link({ cursor: undefined }) : null,
          mineHref: link({ assignee: 'me', cursor: undefined }),
          unassignedHref: link({ assignee: 'none', cursor: undefined }),
          clearHref: link({ typeId: undefined, severityId: undefined, equipmentId: undefined, assignee: undefined, cursor: undefined }),
          notice: q.done && q.incident ? t(`incident:inbox.done.${q.done}`, { number: q.incident, defaultValue: t(`incident:notice.${q.done}`) }) : null,
          me: c.user.id,
          canConfigure: actions.includes('module.configure'),
          fmt: dateFormatter(c.state.lang, zone),
          sort: q.sort,
          sortLinks: incidentSort.options.map((s) => ({ sort: s, href: link({ sort: s, cursor: undefined }), current: s === q.sort })),
        },
      };
    },
  }),
];

