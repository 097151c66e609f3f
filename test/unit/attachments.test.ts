import { contentDisposition, dispositionOf, sanitizeFileName, sniffType } from '../../src/domain/attachments';
import { inRoom, roomsOf } from '../../src/services/labels';

const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (s: string) => new TextEncoder().encode(s);

describe('the type of a file comes from its first bytes', () => {
  it.each([
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10), 'image/jpeg'],
    ['PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0), 'image/png'],
    ['WebP', text('RIFF\u0010\u0000\u0000\u0000WEBPVP8 '), 'image/webp'],
    ['PDF', text('%PDF-1.7\n'), 'application/pdf'],
    ['text named photo.jpg', text('Bonjour, ceci est du texte'), null],
    ['RIFF but WAVE', text('RIFF\u0010\u0000\u0000\u0000WAVEfmt '), null],
    ['GIF', text('GIF89a'), null],
    ['SVG', text('<svg xmlns="http://www.w3.org/2000/svg"/>'), null],
    ['HTML', text('<!doctype html><script>'), null],
    ['two bytes of JPEG', bytes(0xff, 0xd8), null],
    ['empty', bytes(), null],
    ['%PDF without the dash', text('%PDF1.7'), null],
  ])('%s', (_name, data, expected) => {
    expect(sniffType(data)).toBe(expected);
  });
});

describe('a file name is made safe to show and to download', () => {
  it.each([
    ['photo.jpg', 'image/jpeg', 'photo.jpg'],
    ['IMG_2041.JPEG', 'image/jpeg', 'IMG_2041.JPEG'],
    ['../../etc/passwd', 'application/pdf', 'passwd.pdf'],
    ['C:\\Users\\claire\\Bureau\\panne.png', 'image/png', 'panne.png'],
    ['photo.jpg', 'image/png', 'photo.jpg.png'],
    ['rapport.pdf.exe', 'application/pdf', 'rapport.pdf.exe.pdf'],
    ['évier\u202Egpj.exe', 'image/jpeg', 'éviergpj.exe.jpg'],
    ['a\u0000b\u0007c.webp', 'image/webp', 'abc.webp'],
    ['<script>alert(1)</script>.png', 'image/png', 'script_.png'],
    ['<img src=x onerror=alert(1)>.png', 'image/png', '_img src=x onerror=alert(1)_.png'],
    ['', 'image/jpeg', 'image.jpg'],
    ['.jpg', 'image/jpeg', 'jpg.jpg'],
    ['   ', 'application/pdf', 'document.pdf'],
    ['x'.repeat(300) + '.pdf', 'application/pdf', 'x'.repeat(116) + '.pdf'],
  ] as const)('%j as %s -> %j', (name, type, expected) => {
    expect(sanitizeFileName(name, type)).toBe(expected);
  });
});

describe('Content-Disposition (RFC 6266, RFC 5987)', () => {
  it('an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('inline', 'Vidéoprojecteur salle 12.jpg')).toBe(
      `inline; filename="Videoprojecteur salle 12.jpg"; filename*=UTF-8''Vid%C3%A9oprojecteur%20salle%2012.jpg`,
    );
  });
  it('quotes and backslashes never break out of the fallback', () => {
    const header = contentDisposition('attachment', 'a"b\\c\'d(e).pdf');
    expect(header).toBe(`attachment; filename="a_b_c'd(e).pdf"; filename*=UTF-8''a%22b%5Cc%27d%28e%29.pdf`);
  });
  it('images inline, PDF as a download', () => {
    expect(dispositionOf('image/webp')).toBe('inline');
    expect(dispositionOf('application/pdf')).toBe('attachment');
  });
});

describe('labels of one room', () => {
  const projector = { name: 'Vidéoprojecteur salle 12', location: 'Salle 12' };
  const room = { name: 'Salle 12', location: 'Bâtiment A, 1er étage' };
  const other = { name: 'TNI salle 14', location: 'Salle 14' };
  it.each([
    [projector, 'Salle 12', true],
    [room, 'salle 12 ', true],
    [other, 'Salle 12', false],
    [room, 'Bâtiment A, 1er étage', true],
  ])('%j in %j: %s', (e, r, expected) => {
    expect(inRoom(e, r)).toBe(expected);
  });
  it('the rooms offered are the locations, once each, in natural order', () => {
    expect(roomsOf([projector, room, other, { location: 'salle 12' }, { location: '' }])).toEqual(['Bâtiment A, 1er étage', 'Salle 12', 'Salle 14']);
  });
});
