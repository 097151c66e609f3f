import { route, ApiRoute, RawResponse } from '../route';
import { INCIDENT_DECLARE, INCIDENT_MANAGE } from '../../domain/incident-policy';
import { declarationLink, qrSvg } from '../../services/labels';

export const labelRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/equipment/:id/qr.svg',
    summary: 'The QR code (SVG) of the equipment\'s absolute declaration link `<public URL>/reservations/incidents/new?equipment=ID`, for one label.',
    action: [INCIDENT_DECLARE, 'module.configure', INCIDENT_MANAGE],
    scope: { kind: 'record', table: 'equipment' },
    service: 'incidents',
    async handler(c) {
      const svg = await qrSvg(declarationLink(c.module, c.recordId));
      return new RawResponse('image/svg+xml; charset=utf-8', svg, {
        'Content-Disposition': `inline; filename="qr-${c.recordId}.svg"`,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'private, max-age=3600',
      });
    },
  }),
];
