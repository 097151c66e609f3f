/**
 * Attached files: which contents are accepted, how a user's file name is made safe to show, how a file is named in a
 * download. Pure rules (no I/O), unit-tested in test/unit/attachments.test.ts.
 */

export const ATTACHMENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

/** At most this many files per incident, counting the ones already there. */
export const MAX_ATTACHMENTS_PER_INCIDENT = 5;
/** Default size limit of one file (config `maxFileBytes`, env MAX_FILE_BYTES). */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

const EXTENSIONS: Record<AttachmentType, string[]> = {
  'image/jpeg': ['jpg', 'jpeg'],
  'image/png': ['png'],
  'image/webp': ['webp'],
  'application/pdf': ['pdf'],
};

export function isImageType(type: AttachmentType): boolean {
  return type !== 'application/pdf';
}

/**
 * The type of a file from its first bytes (its "magic number"), whatever its name or declared type say; null when it
 * is none of the accepted ones.
 */
export function sniffType(data: Uint8Array): AttachmentType | null {
  const starts = (bytes: number[], at = 0) => data.length >= at + bytes.length && bytes.every((b, i) => data[at + i] === b);
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  // RIFF....WEBP
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  // %PDF-
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  return null;
}

const MAX_NAME = 120;

/** The last path segment of a name a browser sent, without control, bidirectional or reserved characters. */
export function cleanName(name: string, max = MAX_NAME): string {
  const base = (name ?? '').normalize('NFC').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    // C0/C1 controls, bidirectional overrides and isolates, zero-width characters, BOM.
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  return [...cleaned].slice(0, max).join('');
}

/**
 * A file name fit for display and for a download's Content-Disposition: the last path segment only, no control or
 * bidirectional characters, no characters file systems refuse, at most 120 characters, and an extension that matches
 * the checked type (a PNG sent as `photo.jpg` is offered as `photo.jpg.png`). Never used to store the file.
 */
export function sanitizeFileName(name: string, type: AttachmentType): string {
  const base = cleanName(name, 1000);
  const extensions = EXTENSIONS[type];
  const dot = base.lastIndexOf('.');
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
  let stem = extensions.includes(ext) ? base.slice(0, dot) : base;
  const suffix = extensions.includes(ext) ? base.slice(dot) : `.${extensions[0]}`;
  stem = [...stem].slice(0, MAX_NAME - suffix.length).join('').trim();
  if (!stem) stem = isImageType(type) ? 'image' : 'document';
  return stem + suffix;
}

/** RFC 5987 / RFC 6266: a plain ASCII fallback `filename` and the exact UTF-8 name in `filename*`. */
export function contentDisposition(disposition: 'inline' | 'attachment', name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Images are shown in the page; a PDF, whose content the module does not rewrite, is downloaded, not opened in the site. */
export function dispositionOf(type: AttachmentType): 'inline' | 'attachment' {
  return isImageType(type) ? 'inline' : 'attachment';
}
