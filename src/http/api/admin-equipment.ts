import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { plainText, dbId } from './bookings';
import { presentEquipment, presentResourceType, presentUserRef } from '../presenters';
import { getEquipment, ResourceTypeRow } from '../../store/equipment';
import {
  createEquipment,
  createResourceType,
  deleteEquipment,
  importEquipment,
  reorder,
  setRetired,
  updateEquipment,
  updateResourceType,
} from '../../services/equipment';
import type { ModuleContext } from '../../context';
import type { T } from '../../i18n';
import { RefusedError } from '../../errors';

const name = plainText(120).transform((s) => s.trim()).refine((s) => s.length > 0, 'required');
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour #RRGGBB');
const minutes = z.number().int().min(0).max(60 * 24 * 366);

const resourceTypeBody = z
  .object({
    name,
    purpose: z.enum(['booking', 'incident']),
    color: color.default('#1f6fb2'),
    needsValidation: z.boolean().default(false),
    minNoticeMinutes: minutes.default(0),
    maxNoticeDays: z.number().int().min(1).max(730).nullable().default(null),
    maxLengthMinutes: z.number().int().min(5).max(60 * 24 * 14).nullable().default(null),
    withinOpeningHours: z.boolean().default(false),
  })
  .strict();

const equipmentBody = z
  .object({
    name,
    typeId: dbId,
    description: plainText(1000).default(''),
    location: plainText(200).default(''),
    responsibleId: z.string().min(1).max(200).nullable().optional(),
  })
  .strict();

async function presentOne(module: ModuleContext, structureId: string, id: string, t: T) {
  const row = (await getEquipment(module.knex, structureId, id))!;
  const [responsible] = await module.host.directory.getUsers([row.responsible_id]);
  return presentEquipment(row, t, presentUserRef(responsible));
}

const CONFIGURE = 'module.configure';

export const adminEquipmentRoutes: ApiRoute[] = [
  route({
    method: 'post',
    path: '/structures/:sid/resource-types',
    summary: 'Creates a resource type (booking or incident purpose, colour, validation and booking rules).',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: resourceTypeBody,
    status: 201,
    example: { name: 'Salles de sciences', purpose: 'booking' },
    async handler(c) {
      return presentResourceType((await createResourceType(c.module, c.structureId, c.body)) as ResourceTypeRow, c.state.t);
    },
  }),
  route({
    method: 'put',
    path: '/resource-types/:id',
    summary: 'Edits a resource type (its purpose cannot change while it has bookings).',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'resourceType' },
    body: resourceTypeBody.partial(),
    example: { color: '#1e7a34' },
    async handler(c) {
      return presentResourceType((await updateResourceType(c.module, c.structureId, c.recordId, c.body)) as ResourceTypeRow, c.state.t);
    },
  }),
  route({
    method: 'post',
    path: '/resource-types/:id/retire',
    summary: 'Retires (or with {retired:false} restores) a resource type: kept on old records, no longer offered.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'resourceType' },
    body: z.object({ retired: z.boolean().default(true) }).strict(),
    async handler(c) {
      return presentResourceType((await setRetired(c.module, 'rsv_resource_types', c.structureId, c.recordId, c.body.retired)) as ResourceTypeRow, c.state.t);
    },
  }),
  route({
    method: 'post',
    path: '/structures/:sid/resource-types/order',
    summary: 'Reorders the resource types.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: z.object({ ids: z.array(dbId).min(1).max(500) }).strict(),
    example: { ids: ['1'] },
    async handler(c) {
      await reorder(c.module, 'rsv_resource_types', c.structureId, c.body.ids);
      return undefined;
    },
  }),
  route({
    method: 'post',
    path: '/structures/:sid/equipment',
    summary: 'Adds a room or a piece of equipment (responsible: service.informatique unless given).',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: equipmentBody,
    status: 201,
    example: { name: 'Salle 21', typeId: '1', location: 'Bâtiment A' },
    async handler(c) {
      const row = await createEquipment(c.module, c.structureId, c.body);
      return presentOne(c.module, c.structureId, String(row.id), c.state.t);
    },
  }),
  route({
    method: 'put',
    path: '/equipment/:id',
    summary: 'Edits a room or a piece of equipment.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    body: equipmentBody.partial(),
    example: { location: 'Bâtiment B' },
    async handler(c) {
      await updateEquipment(c.module, c.structureId, c.recordId, c.body);
      return presentOne(c.module, c.structureId, c.recordId, c.state.t);
    },
  }),
  route({
    method: 'post',
    path: '/equipment/:id/retire',
    summary: 'Retires (or restores) equipment: it stays on old bookings and incidents, and is no longer offered.',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    body: z.object({ retired: z.boolean().default(true) }).strict(),
    async handler(c) {
      await setRetired(c.module, 'rsv_equipment', c.structureId, c.recordId, c.body.retired);
      return presentOne(c.module, c.structureId, c.recordId, c.state.t);
    },
  }),
  route({
    method: 'delete',
    path: '/equipment/:id',
    summary: 'Deletes equipment entered by mistake; 409 when it was ever booked or reported (retire it instead).',
    action: CONFIGURE,
    scope: { kind: 'record', table: 'equipment' },
    async handler(c) {
      await deleteEquipment(c.module, c.structureId, c.recordId);
      return undefined;
    },
  }),
  route({
    method: 'post',
    path: '/structures/:sid/equipment/order',
    summary: 'Reorders the equipment.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: z.object({ ids: z.array(dbId).min(1).max(2000) }).strict(),
    example: { ids: ['1'] },
    async handler(c) {
      await reorder(c.module, 'rsv_equipment', c.structureId, c.body.ids);
      return undefined;
    },
  }),
  route({
    method: 'post',
    path: '/structures/:sid/equipment/import',
    summary: 'Imports an equipment list from CSV: a preview (apply: false), then apply: true inserts every line or none.',
    action: CONFIGURE,
    scope: { kind: 'structure' },
    body: z.object({ csv: z.string().min(1).max(90_000), apply: z.boolean().default(false) }).strict(),
    example: { csv: 'nom;type;emplacement\nSalle 30;1. Réserver une salle;Bâtiment D', apply: false },
    async handler(c) {
      const result = await importEquipment(c.module, c.structureId, c.body.csv, c.body.apply);
      const t = c.state.t;
      const body = {
        applied: result.applied,
        created: result.created,
        lines: result.lines.map((l) => ({ line: l.line, name: l.name, type: l.typeName, typeId: l.typeId, location: l.location, errors: l.errors.map((key) => t(key)) })),
      };
      if (c.body.apply && !result.applied) {
        throw new RefusedError('import_refused', 'admin:importRefused', { count: body.lines.filter((l) => l.errors.length).length }, body);
      }
      return body;
    },
  }),
];
