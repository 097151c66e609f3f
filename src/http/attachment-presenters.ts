import type { ModuleContext } from '../context';
import type { AttachmentRow } from '../store/attachments';
import { contentDisposition, dispositionOf, MAX_ATTACHMENTS_PER_INCIDENT, sanitizeFileName } from '../domain/attachments';
import { ValidationError } from '../errors';
import { RawResponse } from './route';
import type { UploadedFile } from './multipart';

/** The files sent in the `file` field (one or more); a file in any other field is a mistake worth naming. */
export function uploadedFiles(files: UploadedFile[]): UploadedFile[] {
  const stray = files.filter((f) => f.field !== 'file');
  if (stray.length) throw new ValidationError(stray.map((f) => ({ field: f.field, message: 'files go in the field "file"' })));
  return files;
}

/** An attached file as the API shows it (whitelist): never its storage key. */
export function presentAttachment(ctx: Pick<ModuleContext, 'manifest'>, row: AttachmentRow) {
  const url = `${ctx.manifest.prefix}/api/v1/attachments/${row.id}`;
  return {
    id: String(row.id),
    name: row.original_name,
    contentType: row.content_type,
    size: Number(row.size),
    url,
    ...(row.thumbnail_key ? { thumbnailUrl: `${url}/thumbnail` } : {}),
    ...(row.width && row.height ? { width: Number(row.width), height: Number(row.height) } : {}),
    eventId: row.event_id ? String(row.event_id) : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export type PresentedAttachment = ReturnType<typeof presentAttachment>;

/**
 * A stored file sent back: the type found in its content, never sniffed by the browser, shown inline (images) or
 * downloaded (PDF) under its display name, in a sandbox with nothing allowed to run.
 */
export function fileResponse(row: AttachmentRow, data: Buffer, which: 'file' | 'thumbnail'): RawResponse {
  const type = which === 'thumbnail' ? 'image/webp' : row.content_type;
  const name = which === 'thumbnail' ? sanitizeFileName(row.original_name.replace(/\.[a-z]+$/i, '-miniature'), 'image/webp') : row.original_name;
  return new RawResponse(type, data, {
    'Content-Disposition': contentDisposition(which === 'thumbnail' ? 'inline' : dispositionOf(row.content_type), name),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, max-age=3600',
    'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
}

/** What the forms tell about the limits (and public/module.js checks before sending). */
export function attachmentLimits(ctx: Pick<ModuleContext, 'config'>) {
  const maxBytes = ctx.config.maxFileBytes;
  return { max: MAX_ATTACHMENTS_PER_INCIDENT, maxBytes, maxMb: Math.round((maxBytes / 1048576) * 10) / 10 };
}

/** A size in the reader's words: 512 o, 48 Ko, 2,4 Mo. */
export function sizeFormatter(t: (key: string, params?: Record<string, unknown>) => string, lang: string) {
  const number = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { maximumFractionDigits: 1 });
  return (bytes: number) => {
    if (bytes < 1024) return t('attachments:size.bytes', { n: number.format(bytes) });
    if (bytes < 1024 * 1024) return t('attachments:size.kb', { n: number.format(Math.round(bytes / 1024)) });
    return t('attachments:size.mb', { n: number.format(bytes / 1048576) });
  };
}

/** The displayed size of a thumbnail (320 px on its longest side at most), for the img's width and height. */
export function thumbnailSize(a: { width?: number; height?: number }): { width: number; height: number } | null {
  if (!a.width || !a.height) return null;
  const scale = Math.min(1, 320 / Math.max(a.width, a.height));
  return { width: Math.max(1, Math.round(a.width * scale)), height: Math.max(1, Math.round(a.height * scale)) };
}
