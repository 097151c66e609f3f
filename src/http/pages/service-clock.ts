import { z } from 'zod';
import { page, PageRoute, PageResult, RouteContext } from '../route';
import { AppError, ValidationError } from '../../errors';
import { errorBody } from '../errors';
import { INCIDENT_DECLARE, INCIDENT_MANAGE } from '../../domain/incident-policy';
import { incidentDetail } from '../../services/incidents';
import { confirmIncident } from '../../services/service-clock';
import { getSettings } from '../../store/settings';
import { presentIncidentDetail, userIdsOf } from '../incident-presenters';
import { incidentActor, usersByIds } from '../api/incidents';
import { confirmBody } from '../api/service-clock';

type Ctx = RouteContext<unknown, unknown>;
const READERS = [INCIDENT_DECLARE, INCIDENT_MANAGE];
const DONE = ['confirmed', 'reopened'] as const;

/**
 * The page the "closed" mail links to: the reporter says whether the problem is fixed. A GET only shows the question
 * (mail scanners follow links: a link alone changes nothing); one click on "fixed" (a POST) records the answer; "not
 * fixed" reopens the incident with the reporter's comment. Works without JavaScript.
 */
async function confirmPage(c: Ctx, extra: { done?: (typeof DONE)[number]; formError?: { message: string; fields: Array<{ field: string; message: string }> } | null; comment?: string; status?: number } = {}): Promise<PageResult> {
  const t = c.state.t;
  const actor = await incidentActor(c.module, c, c.structureId);
  const detail = await incidentDetail(c.module, actor, c.structureId, c.recordId);
  const users = await usersByIds(c.module, userIdsOf(detail));
  const incident = presentIncidentDetail(detail, t, users, actor);
  const zone = (await getSettings(c.module.knex, c.structureId))?.time_zone ?? 'Europe/Paris';
  const f = new Intl.DateTimeFormat(c.state.lang === 'en' ? 'en-GB' : 'fr-FR', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
  const fmt = (value: string | null | undefined) => (value ? f.format(new Date(value)) : '');
  // The comment that closed it, if any: what the referent says they did.
  const closing = [...detail.events].reverse().find((e) => (e.kind === 'status_changed' && e.to_status === 'closed'));
  const isReporter = detail.incident.reporter_id === actor.id;
  return {
    view: 'pages/incident-confirm',
    title: t('clock:confirm.title', { number: incident.id }),
    structureId: c.structureId,
    status: extra.status,
    data: {
      incident,
      isReporter,
      closingComment: closing?.comment ?? null,
      fmt,
      notice: extra.done ? t(`clock:confirm.done.${extra.done}`) : null,
      formError: extra.formError ?? null,
      comment: extra.comment ?? '',
    },
  };
}

function formErrorOf(error: unknown, c: Ctx) {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, c.state.t);
  const fields = ((body.details as { fields?: Array<{ field: string; message: string }> } | undefined)?.fields ?? []).map((f) => ({
    field: f.field,
    message: c.state.t(`clock:confirm.error.${f.field}`, { defaultValue: f.message }),
  }));
  return { message: body.message, fields, status: error.status };
}

export const serviceClockPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/incidents/:id/confirm',
    summary: 'The reporter confirms that their closed incident is fixed, or reopens it with a comment (the link of the "closed" mail; a GET changes nothing).',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    query: z.object({ done: z.enum(DONE).optional(), lang: z.string().max(10).optional() }),
    async handler(c): Promise<PageResult> {
      return confirmPage(c, { done: c.query.done });
    },
  }),
  page({
    method: 'post',
    path: '/incidents/:id/confirm',
    summary: 'Records the reporter\'s answer: fixed=true confirms, fixed=false with a comment reopens the incident.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    body: confirmBody,
    async onInvalid(error: ValidationError, c) {
      const raw = (c.body ?? {}) as Record<string, unknown>;
      return confirmPage(c, { formError: formErrorOf(error, c), comment: typeof raw.comment === 'string' ? raw.comment : '', status: 400 });
    },
    async handler(c): Promise<PageResult> {
      const actor = await incidentActor(c.module, c, c.structureId);
      try {
        await confirmIncident(c.module, actor, c.structureId, c.recordId, { fixed: c.body.fixed, comment: c.body.comment || undefined, version: c.body.version });
      } catch (error) {
        // Another user's attempt is refused outright (403 page); a refused answer shows the page again with why.
        if (!(error instanceof AppError) || error.status === 403 || error.status === 404) throw error;
        const formError = formErrorOf(error, c);
        return confirmPage(c, { formError, comment: c.body.comment ?? '', status: formError.status });
      }
      return { redirect: `${c.module.manifest.prefix}/incidents/${c.recordId}/confirm?done=${c.body.fixed ? 'confirmed' : 'reopened'}` };
    },
  }),
];
