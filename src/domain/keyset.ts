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

const DUE_PREFIX = 'd1.';

/**
 * The cursor of a list sorted by due time: the last item's due time (null: none, sorted last) and id. Another prefix,
 * so that a cursor of one order is refused (400) by the other.
 */
export function encodeDueCursor(due: Date | null, lastId: string | number | bigint): string {
  return Buffer.from(`${DUE_PREFIX}${due ? due.getTime() : 'inf'}.${String(lastId)}`, 'utf8').toString('base64url');
}

export function decodeDueCursor(cursor: string): { due: Date | null; id: string } | null {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(cursor)) return null;
  const m = /^d1\.(-?\d{1,15}|inf)\.([1-9][0-9]{0,17})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return null;
  const due = m[1] === 'inf' ? null : new Date(Number(m[1]));
  if (due && Number.isNaN(due.getTime())) return null;
  return { due, id: m[2]! };
}
