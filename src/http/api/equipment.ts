import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { listEquipment, listResourceTypes } from '../../store/equipment';
import { presentEquipment, presentResourceType, presentUserRef } from '../presenters';
import { outOfServiceOf } from '../../services/availability';

export const equipmentReadRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/structures/:sid/resource-types',
    summary: 'The resource types of a school, each with its purpose (booking or incident).',
    action: 'module.access',
    scope: { kind: 'structure' },
    query: z.object({ includeRetired: z.enum(['0', '1']).optional() }),
    async handler({ structureId, query, module, state }) {
      const rows = await listResourceTypes(module.knex, structureId, { includeRetired: query.includeRetired === '1' });
      return rows.map((r) => presentResourceType(r, state.t));
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/equipment',
    summary: 'The equipment of a school (rooms and things), with its type, purpose and responsible account.',
    action: 'module.access',
    scope: { kind: 'structure' },
    query: z.object({ purpose: z.enum(['booking', 'incident']).optional(), typeId: z.string().regex(/^\d+$/).optional() }),
    async handler({ structureId, query, module, state }) {
      const [rows, outOfService] = await Promise.all([
        listEquipment(module.knex, structureId, { purpose: query.purpose, typeId: query.typeId }),
        outOfServiceOf(module.knex, structureId),
      ]);
      const responsibleIds = [...new Set(rows.map((r) => r.responsible_id))];
      const users = new Map((await module.host.directory.getUsers(responsibleIds)).map((u) => [u.id, u]));
      return rows.map((r) => {
        const incidentId = outOfService.get(String(r.id));
        return presentEquipment(r, state.t, presentUserRef(users.get(r.responsible_id)), incidentId ? { inService: false, outOfServiceIncidentId: incidentId } : { inService: true });
      });
    },
  }),
];
