import { decodeCursor, decodeDueCursor, encodeCursor, encodeDueCursor } from '../../src/domain/keyset';

describe('keyset cursors', () => {
  it('an id cursor comes back', () => {
    expect(decodeCursor(encodeCursor('123'))).toBe('123');
  });

  it.each([
    [new Date('2026-10-12T15:00:00.000Z'), '42'],
    [null, '7'],
  ])('a due-time cursor comes back: %s', (due, id) => {
    expect(decodeDueCursor(encodeDueCursor(due, id))).toEqual({ due, id });
  });

  it('a cursor of one order is refused by the other', () => {
    expect(decodeDueCursor(encodeCursor('123'))).toBeNull();
    expect(decodeCursor(encodeDueCursor(new Date(), '123'))).toBeNull();
  });

  it.each(['', 'not a cursor!', Buffer.from('d1.x.1').toString('base64url'), Buffer.from('d1.1.0').toString('base64url')])('refuses %j', (c) => {
    expect(decodeDueCursor(c)).toBeNull();
  });
});
