import { z } from 'zod';
import { page, PageRoute, PageResult } from '../route';
import { INCIDENT_MANAGE } from '../../domain/incident-policy';
import { labelsOf } from '../../services/labels';

/** 3 columns x 8 rows on an A4 sheet (public/module.css, `@page labels`). */
export const LABELS_PER_SHEET = 24;

export const labelPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/labels',
    summary: "Printable A4 sheets of QR labels (3 x 8) of the school's equipment in use, or of one room (?room= a location or a room's name).",
    action: ['module.configure', INCIDENT_MANAGE],
    scope: { kind: 'structure' },
    service: 'incidents',
    query: z.object({ room: z.string().max(200).optional(), lang: z.string().max(10).optional() }),
    async handler(c): Promise<PageResult> {
      const t = c.state.t;
      const room = c.query.room?.trim() || undefined;
      const [{ labels, rooms }, [structure]] = await Promise.all([labelsOf(c.module, c.structureId, room), c.module.host.directory.getStructures([c.structureId])]);
      const school = structure?.name ?? c.structureId;
      // The QR code is the library's SVG (paths only); it is decoration here, the label's text says what it is.
      const items = labels.map((l) => ({ ...l, svg: l.svg.replace('<svg ', '<svg class="qr" aria-hidden="true" focusable="false" ') }));
      const sheets: Array<typeof items> = [];
      for (let i = 0; i < items.length; i += LABELS_PER_SHEET) sheets.push(items.slice(i, i + LABELS_PER_SHEET));
      return {
        view: 'pages/labels',
        title: t('attachments:labels.title', { school }),
        structureId: c.structureId,
        data: { structureId: c.structureId, school, sheets, count: items.length, rooms, room: room ?? '' },
      };
    },
  }),
];
