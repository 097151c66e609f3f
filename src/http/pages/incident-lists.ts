import { z } from 'zod';
import { page, PageRoute, PageResult, RouteContext } from '../route';
import { AppError } from '../../errors';
import { errorBody } from '../errors';
import { IncidentListKind, listValues } from '../../store/incident-lists';
import { createListValue, moveListValue, updateListValue } from '../../services/incident-lists';
import { presentListValue } from '../incident-presenters';
import { listLabel } from '../api/incident-lists';

/** The school admin's pages for the lists of incident types and severities: add, rename, reorder, retire, restore. */

type Ctx = RouteContext<unknown, unknown>;
const DONE = ['created', 'renamed', 'moved', 'retired', 'restored'] as const;
const LISTS: Array<{ kind: IncidentListKind; slug: string }> = [
  { kind: 'incidentType', slug: 'incident-types' },
  { kind: 'severity', slug: 'severities' },
];

async function listPage(c: Ctx, kind: IncidentListKind, slug: string, extra: { done?: string; error?: { message: string; fields: Array<{ field: string; message: string }> }; status?: number; values?: Record<string, string> } = {}): Promise<PageResult> {
  const t = c.state.t;
  const [rows, structures] = await Promise.all([
    listValues(c.module.knex, kind, c.structureId, { includeRetired: true }),
    c.module.host.directory.getStructures([c.structureId]),
  ]);
  return {
    view: 'pages/incident-lists',
    title: t(`incident:lists.${kind}.title`),
    structureId: c.structureId,
    status: extra.status,
    data: {
      kind,
      slug,
      other: LISTS.find((l) => l.kind !== kind)!,
      structureId: c.structureId,
      structureName: structures[0]?.name ?? c.structureId,
      values: rows.map((r) => presentListValue(r, t)),
      done: extra.done ?? null,
      error: extra.error ?? null,
      newLabel: extra.values?.label ?? '',
    },
  };
}

function pageError(error: unknown, c: Ctx) {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, c.state.t);
  const fields = ((body.details as { fields?: Array<{ field: string; message: string }> } | undefined)?.fields ?? []).map((f) => ({
    field: f.field,
    message: c.state.t(`incident:lists.error.${f.field}`, { defaultValue: f.message }),
  }));
  return { message: body.message, fields, status: error.status };
}

/** Run a change, then back to the list (Post/Redirect/Get), or the list with the error. */
async function change(c: Ctx, kind: IncidentListKind, slug: string, done: (typeof DONE)[number], run: () => Promise<unknown>, values?: Record<string, string>): Promise<PageResult> {
  try {
    await run();
  } catch (error) {
    const e = pageError(error, c);
    if (e.status === 404) throw error;
    return listPage(c, kind, slug, { error: e, status: e.status, values });
  }
  return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/admin/${slug}?done=${done}` };
}

export const incidentListPages: PageRoute[] = LISTS.flatMap(({ kind, slug }) => {
  const base = `/structures/:sid/admin/${slug}`;
  const invalid = async (error: AppError, c: Ctx) => {
    const raw = (c.body ?? {}) as Record<string, unknown>;
    const e = pageError(error, c);
    return listPage(c, kind, slug, { error: e, status: 400, values: { label: typeof raw.label === 'string' ? raw.label : '' } });
  };
  return [
    page({
      method: 'get',
      path: base,
      summary: `The school's list (${slug}) with forms to add, rename, reorder, retire and restore.`,
      action: 'module.configure',
      scope: { kind: 'structure' },
      query: z.object({ done: z.enum(DONE).optional(), lang: z.string().max(10).optional() }),
      async handler(c) {
        return listPage(c, kind, slug, { done: c.query.done });
      },
    }),
    page({
      method: 'post',
      path: base,
      summary: `Adds a value to ${slug}.`,
      action: 'module.configure',
      scope: { kind: 'structure' },
      body: z.object({ label: listLabel }),
      onInvalid: invalid,
      async handler(c) {
        return change(c, kind, slug, 'created', () => createListValue(c.module, kind, c.structureId, c.body.label), { label: c.body.label });
      },
    }),
    ...(
      [
        ['rename', 'renamed', `Renames a value of ${slug}.`],
        ['move', 'moved', `Moves a value of ${slug} up or down.`],
        ['retire', 'retired', `Retires a value of ${slug} (old incidents keep it; it is no longer offered).`],
        ['restore', 'restored', `Offers a retired value of ${slug} again.`],
      ] as const
    ).map(([verb, done, summary]) =>
      page({
        method: 'post',
        // The value's own id finds its school (another school's value is a 404), as for the API's PUT.
        path: `/admin/${slug}/:id/${verb}`,
        summary,
        action: 'module.configure',
        scope: { kind: 'record', table: kind },
        body: verb === 'rename' ? z.object({ label: listLabel }) : verb === 'move' ? z.object({ direction: z.enum(['up', 'down']) }) : undefined,
        onInvalid: invalid,
        async handler(c) {
          const body = (c.body ?? {}) as { label?: string; direction?: 'up' | 'down' };
          return change(c, kind, slug, done, () => {
            if (verb === 'rename') return updateListValue(c.module, kind, c.structureId, c.recordId, { label: body.label! });
            if (verb === 'move') return moveListValue(c.module, kind, c.structureId, c.recordId, body.direction!);
            return updateListValue(c.module, kind, c.structureId, c.recordId, { retired: verb === 'retire' });
          });
        },
      }),
    ),
  ];
});
