import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { hasForbiddenControl } from '../../domain/incident-text';
import { INCIDENT_DECLARE, INCIDENT_MANAGE } from '../../domain/incident-policy';
import { IncidentListKind, listValues } from '../../store/incident-lists';
import { createListValue, reorderList, updateListValue } from '../../services/incident-lists';
import { presentListValue } from '../incident-presenters';

/** A value's label: one line, 1..100 characters. */
export const listLabel = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'at most 100 characters')
  .refine((s) => !hasForbiddenControl(s) && !s.includes('\n') && !s.includes('\t'), 'one line, no control characters');

const idList = z.array(z.union([z.string(), z.number().int()]).transform(String).pipe(z.string().regex(/^[1-9][0-9]{0,17}$/))).min(1).max(500);

/** The two lists share one set of routes: `incident-types` and `severities`. */
const LISTS: Array<{ kind: IncidentListKind; plural: string; table: 'incidentType' | 'severity'; what: string }> = [
  { kind: 'incidentType', plural: 'incident-types', table: 'incidentType', what: 'incident types' },
  { kind: 'severity', plural: 'severities', table: 'severity', what: 'severities' },
];

export const incidentListRoutes: ApiRoute[] = LISTS.flatMap(({ kind, plural, table, what }) => [
  route({
    method: 'get',
    path: `/structures/:sid/${plural}`,
    summary: `The school's ${what}, in order; retired ones only with includeRetired=1.`,
    action: [INCIDENT_DECLARE, INCIDENT_MANAGE, 'module.configure'],
    scope: { kind: 'structure' },
    service: 'incidents',
    query: z.object({ includeRetired: z.enum(['0', '1']).optional(), lang: z.string().max(10).optional() }),
    async handler(c) {
      const rows = await listValues(c.module.knex, kind, c.structureId, { includeRetired: c.query.includeRetired === '1' });
      return rows.map((r) => presentListValue(r, c.state.t));
    },
  }),
  route({
    method: 'post',
    path: `/structures/:sid/${plural}`,
    summary: `Adds a value at the end of the school's ${what}.`,
    action: 'module.configure',
    scope: { kind: 'structure' },
    body: z.object({ label: listLabel }).strict(),
    status: 201,
    example: { label: 'Imprimante' },
    async handler(c) {
      return presentListValue(await createListValue(c.module, kind, c.structureId, c.body.label), c.state.t);
    },
  }),
  route({
    method: 'put',
    path: `/structures/:sid/${plural}/order`,
    summary: `Reorders the school's ${what}: the listed ids first, in that order.`,
    action: 'module.configure',
    scope: { kind: 'structure' },
    body: z.object({ ids: idList }).strict(),
    example: { ids: ['1'] },
    async handler(c) {
      return (await reorderList(c.module, kind, c.structureId, c.body.ids)).map((r) => presentListValue(r, c.state.t));
    },
  }),
  route({
    method: 'put',
    path: `/${plural}/:id`,
    summary: `Renames a value, retires it (no longer offered; old incidents keep it) or restores it.`,
    action: 'module.configure',
    scope: { kind: 'record', table },
    body: z
      .object({ label: listLabel.optional(), retired: z.boolean().optional() })
      .strict()
      .refine((b) => b.label !== undefined || b.retired !== undefined, { message: 'give label or retired', path: ['label'] }),
    example: { label: 'Logiciels pédagogiques' },
    async handler(c) {
      return presentListValue(await updateListValue(c.module, kind, c.structureId, c.recordId, c.body), c.state.t);
    },
  }),
]);
