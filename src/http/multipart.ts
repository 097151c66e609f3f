import busboy from 'busboy';
import type { Request } from 'express';
import { PayloadTooLargeError, ValidationError } from '../errors';

export interface UploadedFile {
  field: string;
  /** The name the browser sent: for display only, never used as a storage name. */
  filename: string;
  declaredType: string;
  data: Buffer;
}

export interface MultipartLimits {
  maxFileBytes: number;
  maxFiles: number;
  maxFields?: number;
}

/**
 * Reads a multipart/form-data request in memory within limits: an oversized file or too many files is refused
 * whole (413), so nothing half-read is ever stored.
 */
export function parseMultipart(req: Request, limits: MultipartLimits): Promise<{ fields: Record<string, string>; files: UploadedFile[] }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, fields: limits.maxFields ?? 50, fieldSize: 200_000 } });
    } catch {
      reject(new ValidationError([{ field: '(body)', message: 'malformed multipart body' }]));
      return;
    }
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    let failed: Error | null = null;
    const fail = (error: Error) => {
      if (!failed) failed = error;
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new PayloadTooLargeError());
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A body cut short errors the file's stream too (then the parser's 'error' answers 400).
      stream.on('error', () => fail(new ValidationError([{ field: '(body)', message: 'malformed multipart body' }])));
      stream.on('limit', () => fail(new PayloadTooLargeError({ maxBytes: limits.maxFileBytes, maxMb: Math.round((limits.maxFileBytes / 1048576) * 10) / 10 }, 'fileTooLarge', { maxBytes: limits.maxFileBytes })));
      stream.on('close', () => {
        const data = Buffer.concat(chunks);
        // An empty file input still sends a part with no name: not a file.
        if (info.filename || data.length) files.push({ field, filename: info.filename ?? '', declaredType: info.mimeType, data });
      });
    });
    parser.on('filesLimit', () => fail(new PayloadTooLargeError({ maxFiles: limits.maxFiles }, 'tooManyFiles', { maxFiles: limits.maxFiles })));
    parser.on('fieldsLimit', () => fail(new PayloadTooLargeError()));
    parser.on('error', () => reject(new ValidationError([{ field: '(body)', message: 'malformed multipart body' }])));
    parser.on('close', () => (failed ? reject(failed) : resolve({ fields, files })));
    req.pipe(parser);
  });
}

export function isMultipart(req: Request): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}
