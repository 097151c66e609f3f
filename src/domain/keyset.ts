/**
 * The opaque cursor of keyset pagination: the id of the last item of a page. Opaque so that clients pass it back
 * untouched and we may change what it holds; versioned so that an old cursor is refused cleanly (400), not misread.
 */
const PREFIX = 'k1.';

export function encodeCursor(lastId: string | number | bigint): string {
  return Buffer.from(`${PREFIX}${String(lastId)}`, 'utf8').toString('base64url');
}

/** The id inside a cursor, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX)) return null;
  const id = text.slice(PREFIX.length);
  return /^[1-9][0-9]{0,17}$/.test(id) ? id : null;
}
