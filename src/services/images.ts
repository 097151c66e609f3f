import type Sharp from 'sharp';
import { UnsupportedMediaTypeError, ValidationError } from '../errors';
import { AttachmentType, cleanName, isImageType, sanitizeFileName, sniffType } from '../domain/attachments';

/**
 * An uploaded file made safe to keep: its type checked from its content, images re-encoded by sharp (turned upright by
 * their EXIF orientation first, then written without any metadata: EXIF with the phone's GPS position, XMP, IPTC, ICC
 * profile with its author) with a thumbnail; PDFs kept byte for byte after their header is checked.
 */
export interface PreparedFile {
  name: string;
  contentType: AttachmentType;
  data: Buffer;
  width: number | null;
  height: number | null;
  thumbnail: Buffer | null;
}

/** Larger photos are scaled down to this many pixels on their longest side (a phone's 48 MP photo is 8000 px wide). */
export const MAX_IMAGE_SIDE = 4096;
export const THUMBNAIL_SIDE = 320;
/**
 * Refuse images of more pixels than this before decoding them: a small PNG can claim 30,000 x 30,000 pixels and ask
 * gigabytes of memory (a "decompression bomb"). 50 MP covers the photos of current phones.
 */
export const MAX_INPUT_PIXELS = 50_000_000;

/**
 * sharp and libvips are loaded with the first image (about 20 MB of a web process's memory that most requests never
 * need), then kept.
 */
let sharpLoading: Promise<typeof Sharp> | null = null;
function loadSharp(): Promise<typeof Sharp> {
  // A failed load (a broken native install) is not kept: it is said at each upload, and tried again.
  sharpLoading ??= import('sharp').then(
    (m) => m.default,
    (error: unknown) => {
      sharpLoading = null;
      throw error;
    },
  );
  return sharpLoading;
}

const SHARP_FORMAT: Record<Exclude<AttachmentType, 'application/pdf'>, string> = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp' };

function refused(name: string, reason: 'type' | 'unreadable'): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError({ name }, reason === 'type' ? 'attachments:errors.type' : 'attachments:errors.unreadable', {
    file: name,
    accepted: ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'],
  });
}

export async function prepareFile(file: { filename: string; data: Buffer }): Promise<PreparedFile> {
  const sharp = await loadSharp();
  const shownName = cleanName(file.filename) || '?';
  if (!file.data.length) throw new ValidationError([{ field: 'file', message: `${shownName}: empty file` }], 'attachments:errors.empty');
  const type = sniffType(file.data);
  if (!type) throw refused(shownName, 'type');
  const name = sanitizeFileName(file.filename, type);
  if (!isImageType(type)) return { name, contentType: type, data: file.data, width: null, height: null, thumbnail: null };

  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' as const };
  let format: string | undefined;
  try {
    format = (await sharp(file.data, options).metadata()).format;
  } catch {
    throw refused(shownName, 'unreadable');
  }
  if (format !== SHARP_FORMAT[type as keyof typeof SHARP_FORMAT]) throw refused(shownName, 'unreadable');
  try {
    // sharp writes no metadata unless asked (no keepMetadata/withMetadata here): EXIF, XMP, IPTC and ICC are dropped.
    let pipeline = sharp(file.data, options).rotate().resize({ width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, fit: 'inside', withoutEnlargement: true });
    if (type === 'image/jpeg') pipeline = pipeline.jpeg({ quality: 85, mozjpeg: true });
    else if (type === 'image/png') pipeline = pipeline.png();
    else pipeline = pipeline.webp({ quality: 85 });
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    const thumbnail = await sharp(data).resize({ width: THUMBNAIL_SIDE, height: THUMBNAIL_SIDE, fit: 'inside', withoutEnlargement: true }).webp({ quality: 70 }).toBuffer();
    return { name, contentType: type, data, width: info.width, height: info.height, thumbnail };
  } catch {
    throw refused(shownName, 'unreadable');
  }
}

/** One file after the other: five 12 MP photos decoded at once would hold hundreds of megabytes. */
export async function prepareFiles(files: Array<{ filename: string; data: Buffer }>): Promise<PreparedFile[]> {
  const prepared: PreparedFile[] = [];
  for (const file of files) prepared.push(await prepareFile(file));
  return prepared;
}
