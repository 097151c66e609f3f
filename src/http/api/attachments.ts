import { z } from 'zod';
import { route, ApiRoute, filesOf } from '../route';
import { INCIDENT_DECLARE, INCIDENT_MANAGE } from '../../domain/incident-policy';
import { MAX_ATTACHMENTS_PER_INCIDENT } from '../../domain/attachments';
import { attachToIncident, readAttachment } from '../../services/attachments';
import { fileResponse, presentAttachment, uploadedFiles } from '../attachment-presenters';
import { incidentActor, optionalIncidentText } from './incidents';

const READERS = [INCIDENT_DECLARE, INCIDENT_MANAGE];

export const attachmentRoutes: ApiRoute[] = [
  route({
    method: 'post',
    path: '/incidents/:id/attachments',
    summary:
      'Attaches files: multipart/form-data, field `file` (one or more), optional `comment` (the files then belong to that comment). ' +
      'JPEG, PNG, WebP or PDF, checked by their content; 10 MB per file by default (MAX_FILE_BYTES), at most 5 per incident. ' +
      'Images are re-encoded without any metadata (EXIF, GPS, XMP, ICC) and get a thumbnail. 201 [{id, name, contentType, size, url, thumbnailUrl?}]; ' +
      '400 (no file, malformed body), 413 (too large, too many) or 415 (refused type) store nothing. Managers, the reporter and the followers.',
    action: READERS,
    scope: { kind: 'record', table: 'incident' },
    service: 'incidents',
    multipart: { maxFiles: MAX_ATTACHMENTS_PER_INCIDENT },
    body: z.object({ comment: optionalIncidentText }).strict(),
    status: 201,
    async handler(c) {
      const actor = await incidentActor(c.module, c, c.structureId);
      const files = uploadedFiles(filesOf(c.req));
      const { attachments } = await attachToIncident(c.module, actor, c.structureId, c.recordId, files, { comment: c.body.comment || undefined });
      return attachments.map((a) => presentAttachment(c.module, a));
    },
  }),
  route({
    method: 'get',
    path: '/attachments/:id',
    summary:
      'An attached file (images re-encoded, metadata stripped), with its checked Content-Type, Content-Disposition (inline for images, ' +
      'attachment for PDF) and X-Content-Type-Options: nosniff. 404 when the user may not see its incident.',
    action: READERS,
    scope: { kind: 'record', table: 'attachment' },
    service: 'incidents',
    async handler(c) {
      const { row, data } = await readAttachment(c.module, c.structureId, c.recordId, 'file');
      return fileResponse(row, data, 'file');
    },
  }),
  route({
    method: 'get',
    path: '/attachments/:id/thumbnail',
    summary: 'The thumbnail of an attached image (WebP, 320 px at most); 404 for a PDF or when the user may not see its incident.',
    action: READERS,
    scope: { kind: 'record', table: 'attachment' },
    service: 'incidents',
    async handler(c) {
      const { row, data } = await readAttachment(c.module, c.structureId, c.recordId, 'thumbnail');
      return fileResponse(row, data, 'thumbnail');
    },
  }),
];
