import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { startTestHost, TestHost, API, Client } from '../helpers/host';
import { attachToIncident, sweepAbandonedFiles } from '../../src/services/attachments';
import { FolderStorage, newStorageKey } from '../../src/services/file-storage';
import type { ModuleContext } from '../../src/context';

/**
 * Photos and files on incidents (issue 11, point 1): checked by content, re-encoded without metadata, stored under
 * random keys, served only to who may see the incident; a refused or failed upload leaves no row and no file.
 */
let h: TestHost;
let filesDir: string;
let teacher: Client;
let referent: Client;
let projectorId: string;
let typeId: string;
let severityId: string;

/** Does this EXIF block (from sharp's metadata) point to a GPS IFD (tag 0x8825 in IFD0)? */
function exifHasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  const t = exif.subarray(exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? 6 : 0);
  const le = t.toString('latin1', 0, 2) === 'II';
  const u16 = (p: number) => (le ? t.readUInt16LE(p) : t.readUInt16BE(p));
  const ifd0 = le ? t.readUInt32LE(4) : t.readUInt32BE(4);
  for (let i = 0; i < u16(ifd0); i++) if (u16(ifd0 + 2 + i * 12) === 0x8825) return true;
  return false;
}

const XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Claire Martin</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>';

/** A phone's photo: 64 x 48 pixels stored sideways (EXIF orientation 6), with the phone's GPS position, author, XMP and ICC. */
async function phonePhoto(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#c03020' } })
    .jpeg()
    .withExif({
      IFD0: { Artist: 'Claire Martin', Make: 'PhoneMaker', Model: 'Phone 12' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' },
    } as never)
    .withXmp(XMP)
    .withIccProfile('srgb')
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

async function png(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 30, channels: 4, background: '#2050c0' } }).png().toBuffer();
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** A GET whose body is kept as bytes, whatever its type. */
function binary(client: Client, apiPath: string) {
  return request(h.app)
    .get(`${API}${apiPath}`)
    .set('Cookie', client.cookie)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
}

async function rowCount(): Promise<number> {
  return Number((await h.db.knex('rsv_attachments').count<{ n: string }[]>({ n: '*' }).first())!.n);
}

/** What is stored: rows and files (a refused upload changes neither). */
async function stored(): Promise<{ rows: number; files: number }> {
  return { rows: await rowCount(), files: listFiles(filesDir).length };
}

function upload(client: Client, incidentId: string, files: Array<{ data: Buffer; name: string; type?: string }>, fields: Record<string, string> = {}) {
  let req = request(h.app).post(`${API}/incidents/${incidentId}/attachments`).set('Cookie', client.cookie).set('X-CSRF-Token', client.csrf).set('Accept', 'application/json');
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  for (const f of files) req = req.attach('file', f.data, { filename: f.name, contentType: f.type ?? 'application/octet-stream' });
  return req;
}

async function declare(client: Client = teacher): Promise<string> {
  const res = await client.post(`/structures/college-a/incidents`, { equipmentId: projectorId, typeId, severityId, description: 'Le vidéoprojecteur ne s’allume plus.' });
  expect(res.status).toBe(201);
  return String(res.body.id);
}

beforeAll(async () => {
  filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rsv-files-'));
  h = await startTestHost({ config: { filesDir, mutationRateLimit: 0 } });
  teacher = await h.as('enseignant');
  referent = await h.as('referent1');
  const k = h.db.knex;
  projectorId = String((await k('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-projector-12' }).first()).id);
  typeId = String((await k('rsv_incident_types').where({ structure_id: 'college-a' }).orderBy('id').first()).id);
  severityId = String((await k('rsv_severities').where({ structure_id: 'college-a' }).orderBy('id').first()).id);
});
afterAll(async () => {
  await h.stop();
  fs.rmSync(filesDir, { recursive: true, force: true });
});

describe('a photo from a phone', () => {
  let incidentId: string;
  let attachment: { id: string; name: string; contentType: string; size: number; url: string; thumbnailUrl?: string };

  beforeAll(async () => {
    incidentId = await declare();
  });

  it('the test photo really carries EXIF with GPS, XMP, an ICC profile and a sideways orientation', async () => {
    const meta = await sharp(await phonePhoto()).metadata();
    expect(exifHasGps(meta.exif)).toBe(true);
    expect(meta.exif!.toString('latin1')).toContain('Claire Martin');
    expect(meta.xmp?.toString()).toContain('Claire Martin');
    expect(meta.icc?.length).toBeGreaterThan(0);
    expect(meta.orientation).toBe(6);
  });

  it('is accepted (201) with its name, checked type, size and links', async () => {
    const res = await upload(teacher, incidentId, [{ data: await phonePhoto(), name: 'Vidéoprojecteur panne.jpg', type: 'image/jpeg' }]);
    expect(res.status).toBe(201);
    expect(res.body).toHaveLength(1);
    attachment = res.body[0];
    expect(attachment).toEqual(
      expect.objectContaining({
        id: expect.stringMatching(/^\d+$/),
        name: 'Vidéoprojecteur panne.jpg',
        contentType: 'image/jpeg',
        size: expect.any(Number),
        url: `/reservations/api/v1/attachments/${attachment.id}`,
        thumbnailUrl: `/reservations/api/v1/attachments/${attachment.id}/thumbnail`,
      }),
    );
  });

  it('comes back without any metadata (no EXIF, GPS, XMP, ICC), turned upright', async () => {
    const res = await binary(teacher, `/attachments/${attachment.id}`);
    expect(res.status).toBe(200);
    const body = res.body as Buffer;
    expect(body.length).toBe(attachment.size);
    const meta = await sharp(body).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.iptc).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    // Orientation 6 applied: the 64 x 48 picture stands 48 x 64.
    expect([meta.width, meta.height]).toEqual([48, 64]);
    // Not a byte of it left either.
    expect(body.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
    expect(body.includes(Buffer.from('Claire Martin'))).toBe(false);
    expect(body.includes(Buffer.from('PhoneMaker'))).toBe(false);
  });

  it('GET /attachments/:id: the checked type, inline with its name (RFC 5987), nosniff, private cache', async () => {
    const res = await teacher.get(`/attachments/${attachment.id}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['content-disposition']).toBe(`inline; filename="Videoprojecteur panne.jpg"; filename*=UTF-8''Vid%C3%A9oprojecteur%20panne.jpg`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toMatch(/^private/);
    expect(res.headers['content-security-policy']).toContain('sandbox');
  });

  it('has a WebP thumbnail of 320 px at most, without metadata', async () => {
    const res = await binary(teacher, `/attachments/${attachment.id}/thumbnail`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const meta = await sharp(res.body as Buffer).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);
    expect(meta.exif).toBeUndefined();
  });

  it('is stored under a random key, never under its name; the incident lists it and its history says so', async () => {
    const row = await h.db.knex('rsv_attachments').where({ id: attachment.id }).first();
    expect(row.storage_key).toMatch(/^[0-9a-f]{32}$/);
    expect(row.uploader_id).toBe('u-enseignant');
    const files = listFiles(filesDir).map((f) => path.basename(f));
    expect(files).toContain(row.storage_key);
    expect(files.some((f) => f.includes('Vid'))).toBe(false);
    const detail = await teacher.get(`/incidents/${incidentId}`);
    expect(detail.body.attachments).toEqual([expect.objectContaining({ id: attachment.id, name: 'Vidéoprojecteur panne.jpg' })]);
    const event = detail.body.events.find((e: { kind: string }) => e.kind === 'attachment_added');
    expect(event).toBeDefined();
    expect(detail.body.attachments[0].eventId).toBe(event.id);
  });

  it('a referent of the school sees it; a teacher of college-b gets 404 for the file and its thumbnail', async () => {
    expect((await referent.get(`/attachments/${attachment.id}`)).status).toBe(200);
    const other = await h.as('enseignant2');
    for (const suffix of ['', '/thumbnail']) {
      const res = await other.get(`/attachments/${attachment.id}${suffix}`);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/json/);
    }
    expect((await (await h.as('referent-b')).get(`/attachments/${attachment.id}`)).status).toBe(404);
    expect((await h.anonymous().get(`/attachments/${attachment.id}`)).status).toBe(401);
    expect((await other.get('/attachments/999999999')).status).toBe(404);
  });
});

describe('other accepted files', () => {
  it('a PDF is kept byte for byte and downloaded (attachment), without a thumbnail', async () => {
    const incidentId = await declare();
    const res = await upload(teacher, incidentId, [{ data: PDF, name: 'devis réparation.pdf', type: 'application/pdf' }]);
    expect(res.status).toBe(201);
    expect(res.body[0]).toEqual(expect.objectContaining({ contentType: 'application/pdf', size: PDF.length }));
    expect(res.body[0].thumbnailUrl).toBeUndefined();
    const file = await binary(teacher, res.body[0].url.replace('/reservations/api/v1', ''));
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="devis reparation.pdf"; filename*=UTF-8''devis%20r%C3%A9paration.pdf`);
    expect(Buffer.from(file.body as Buffer).equals(PDF)).toBe(true);
    expect((await teacher.get(`/attachments/${res.body[0].id}/thumbnail`)).status).toBe(404);
  });

  it('a PNG named .jpg is taken as what it is, and named so', async () => {
    const incidentId = await declare();
    const res = await upload(teacher, incidentId, [{ data: await png(), name: 'capture.jpg', type: 'image/jpeg' }]);
    expect(res.status).toBe(201);
    expect(res.body[0]).toEqual(expect.objectContaining({ contentType: 'image/png', name: 'capture.jpg.png' }));
  });

  it('files with a comment belong to that comment (one history entry); the X-CSRF-Token may be the _csrf field instead', async () => {
    const incidentId = await declare();
    const res = await request(h.app)
      .post(`${API}/incidents/${incidentId}/attachments`)
      .set('Cookie', teacher.cookie)
      .field('_csrf', teacher.csrf)
      .field('comment', 'Voici le message affiché.')
      .attach('file', await png(), { filename: 'écran.png', contentType: 'image/png' })
      .attach('file', PDF, { filename: 'notice.pdf', contentType: 'application/pdf' });
    expect(res.status).toBe(201);
    expect(res.body).toHaveLength(2);
    const detail = await teacher.get(`/incidents/${incidentId}`);
    const comment = detail.body.events.find((e: { kind: string }) => e.kind === 'comment');
    expect(comment.comment).toBe('Voici le message affiché.');
    expect(detail.body.events.filter((e: { kind: string }) => e.kind === 'attachment_added')).toEqual([]);
    expect(detail.body.attachments.map((a: { eventId: string }) => a.eventId)).toEqual([comment.id, comment.id]);
  });
});

describe('refused uploads store nothing', () => {
  let incidentId: string;
  beforeAll(async () => {
    incidentId = await declare();
  });

  it('a text file renamed photo.jpg: 415, no row, no file', async () => {
    const before = await stored();
    const res = await upload(teacher, incidentId, [{ data: Buffer.from('Ceci est un fichier texte, pas une photo.\n'), name: 'photo.jpg', type: 'image/jpeg' }]);
    expect(res.status).toBe(415);
    expect(res.body.error).toBe('unsupported_media_type');
    expect(res.body.message).toContain('photo.jpg');
    expect(await stored()).toEqual(before);
  });

  it('one refused file among good ones refuses them all', async () => {
    const before = await stored();
    const res = await upload(teacher, incidentId, [
      { data: await png(), name: 'a.png' },
      { data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), name: 'b.png' },
    ]);
    expect(res.status).toBe(415);
    expect(await stored()).toEqual(before);
  });

  it('a file that starts like a JPEG but is not one: 415', async () => {
    const before = await stored();
    const res = await upload(teacher, incidentId, [{ data: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]), name: 'broken.jpg' }]);
    expect(res.status).toBe(415);
    expect(await stored()).toEqual(before);
  });

  it('an 11 MB file: 413, nothing stored', async () => {
    const before = await stored();
    const big = Buffer.alloc(11 * 1024 * 1024, 0x41);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    const res = await upload(teacher, incidentId, [{ data: big, name: 'grosse.jpg', type: 'image/jpeg' }]);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
    expect(res.body.message).toContain('10');
    expect(await stored()).toEqual(before);
  });

  it('6 files at once: 413, nothing stored', async () => {
    const before = await stored();
    const six = await Promise.all(Array.from({ length: 6 }, async (_, i) => ({ data: await png(), name: `p${i}.png` })));
    const res = await upload(teacher, incidentId, six);
    expect(res.status).toBe(413);
    expect(await stored()).toEqual(before);
  });

  it('a 6th file after 5: 413, nothing stored, the 5 still there', async () => {
    const five = await Promise.all(Array.from({ length: 5 }, async (_, i) => ({ data: await png(), name: `p${i}.png` })));
    expect((await upload(teacher, incidentId, five.slice(0, 3))).status).toBe(201);
    expect((await upload(teacher, incidentId, five.slice(3))).status).toBe(201);
    const before = await stored();
    const res = await upload(teacher, incidentId, [{ data: await png(), name: 'sixth.png' }]);
    expect(res.status).toBe(413);
    expect(res.body.details).toEqual({ maxPerIncident: 5, existing: 5 });
    expect(await stored()).toEqual(before);
    expect((await teacher.get(`/incidents/${incidentId}`)).body.attachments).toHaveLength(5);
  });

  it('no file, a file in another field, a malformed body: 400, nothing stored', async () => {
    const other = await declare();
    const before = await stored();
    expect((await upload(teacher, other, [], { comment: 'sans fichier' })).status).toBe(400);
    expect((await teacher.post(`/incidents/${other}/attachments`, {})).status).toBe(400);
    const stray = await request(h.app).post(`${API}/incidents/${other}/attachments`).set('Cookie', teacher.cookie).set('X-CSRF-Token', teacher.csrf).attach('photo', PDF, 'a.pdf');
    expect(stray.status).toBe(400);
    const malformed = await request(h.app)
      .post(`${API}/incidents/${other}/attachments`)
      .set('Cookie', teacher.cookie)
      .set('X-CSRF-Token', teacher.csrf)
      .set('Content-Type', 'multipart/form-data; boundary=XYZ')
      .send('--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc');
    expect(malformed.status).toBe(400);
    expect(await stored()).toEqual(before);
  });

  it('without CSRF token: 403; signed out: 401; nothing stored', async () => {
    const before = await stored();
    const noCsrf = await request(h.app).post(`${API}/incidents/${incidentId}/attachments`).set('Cookie', teacher.cookie).attach('file', PDF, 'a.pdf');
    expect(noCsrf.status).toBe(403);
    const anonymous = await request(h.app).post(`${API}/incidents/${incidentId}/attachments`).attach('file', PDF, 'a.pdf');
    expect(anonymous.status).toBe(401);
    expect(await stored()).toEqual(before);
  });

  it('a teacher who neither reported nor follows the incident may not attach (403); college-b gets 404', async () => {
    const mine = await declare(referent);
    const before = await stored();
    const res = await upload(teacher, mine, [{ data: PDF, name: 'a.pdf' }]);
    expect(res.status).toBe(403);
    expect((await upload(await h.as('enseignant2'), mine, [{ data: PDF, name: 'a.pdf' }])).status).toBe(404);
    expect(await stored()).toEqual(before);
  });

  it('two uploads racing for the last places: one wins, the other is refused and leaves no file', async () => {
    const racing = await declare();
    const files = await Promise.all(Array.from({ length: 3 }, async (_, i) => ({ data: await png(), name: `r${i}.png` })));
    const before = await stored();
    const results = await Promise.all([upload(teacher, racing, files), upload(teacher, racing, files)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 413]);
    // 3 images, each with its thumbnail.
    expect(await stored()).toEqual({ rows: before.rows + 3, files: before.files + 6 });
  });
});

describe('a declaration with photos (multipart POST /structures/:sid/incidents)', () => {
  it('creates the incident with its files in one go', async () => {
    const res = await request(h.app)
      .post(`${API}/structures/college-a/incidents`)
      .set('Cookie', teacher.cookie)
      .set('X-CSRF-Token', teacher.csrf)
      .field('equipmentId', projectorId)
      .field('typeId', typeId)
      .field('severityId', severityId)
      .field('description', 'Image violette, voir la photo.')
      .field('outOfService', 'false')
      .attach('file', await phonePhoto(), { filename: 'IMG_0001.JPG', contentType: 'image/jpeg' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/reservations/api/v1/incidents/${res.body.id}`);
    expect(res.body.description).toBe('Image violette, voir la photo.');
    expect(res.body.attachments).toEqual([expect.objectContaining({ name: 'IMG_0001.JPG', contentType: 'image/jpeg' })]);
    const detail = await teacher.get(`/incidents/${res.body.id}`);
    expect(detail.body.events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'attachment_added']);
    const file = await binary(teacher, res.body.attachments[0].url.replace('/reservations/api/v1', ''));
    expect((await sharp(file.body as Buffer).metadata()).exif).toBeUndefined();
  });

  it('a refused file refuses the declaration: no incident, no row, no file', async () => {
    const incidents = async () => Number((await h.db.knex('rsv_incidents').count<{ n: string }[]>({ n: '*' }).first())!.n);
    const [before, count] = [await stored(), await incidents()];
    const res = await request(h.app)
      .post(`${API}/structures/college-a/incidents`)
      .set('Cookie', teacher.cookie)
      .set('X-CSRF-Token', teacher.csrf)
      .field('equipmentId', projectorId)
      .field('typeId', typeId)
      .field('severityId', severityId)
      .field('description', 'Avec un faux fichier')
      .attach('file', Buffer.from('#!/bin/sh\nrm -rf /\n'), { filename: 'photo.jpg', contentType: 'image/jpeg' });
    expect(res.status).toBe(415);
    expect(await stored()).toEqual(before);
    expect(await incidents()).toBe(count);
  });

  it('an invalid declaration with a good photo: 400 and the photo is not kept', async () => {
    const before = await stored();
    const res = await request(h.app)
      .post(`${API}/structures/college-a/incidents`)
      .set('Cookie', teacher.cookie)
      .set('X-CSRF-Token', teacher.csrf)
      .field('equipmentId', '999999')
      .field('typeId', typeId)
      .field('severityId', severityId)
      .field('description', 'Équipement inconnu')
      .attach('file', await png(), { filename: 'a.png', contentType: 'image/png' });
    expect(res.status).toBe(400);
    expect(await stored()).toEqual(before);
  });
});

describe('storage', () => {
  const ctx = () => h.module.context as ModuleContext;
  /** A host storage kept in memory; `onPut` sees each write first (and may throw, as a full disk would). */
  const memoryStorage = (onPut: (key: string, data: Buffer, contentType: string) => void) => {
    const kept = new Map<string, Buffer>();
    const storage = {
      async put(key: string, data: Buffer, contentType: string) {
        onPut(key, data, contentType);
        kept.set(key, data);
        return { key, size: data.length };
      },
      async get(key: string) {
        return kept.get(key) ?? null;
      },
      async delete(key: string) {
        kept.delete(key);
      },
    };
    return { storage, kept };
  };
  const actor = { id: 'u-enseignant', actions: ['incident.declare'] };

  it("goes through the host's storage capability when the host has one (random keys, nothing in the folder)", async () => {
    const incidentId = await declare();
    const puts: Array<{ key: string; type: string; size: number }> = [];
    const { storage } = memoryStorage((key, data, contentType) => puts.push({ key, type: contentType, size: data.length }));
    const withStorage = { ...ctx(), host: { ...ctx().host, storage } } as ModuleContext;
    const before = listFiles(filesDir).length;
    const { attachments } = await attachToIncident(withStorage, actor, 'college-a', incidentId, [{ filename: 'photo.jpg', data: await phonePhoto() }]);
    expect(puts.map((p) => p.type)).toEqual(['image/jpeg', 'image/webp']);
    expect(puts.every((p) => /^[0-9a-f]{32}$/.test(p.key))).toBe(true);
    expect(attachments[0]!.storage_key).toBe(puts[0]!.key);
    expect(listFiles(filesDir).length).toBe(before);
  });

  it('a storage that fails half-way: the files already written are deleted, no row', async () => {
    const incidentId = await declare();
    let calls = 0;
    const { storage, kept } = memoryStorage(() => {
      if (++calls === 3) throw new Error('disk full');
    });
    const failing = { ...ctx(), host: { ...ctx().host, storage } } as ModuleContext;
    const rows = await rowCount();
    await expect(attachToIncident(failing, actor, 'college-a', incidentId, [{ filename: 'a.png', data: await png() }, { filename: 'b.png', data: await png() }])).rejects.toThrow('disk full');
    expect(kept.size).toBe(0);
    expect(await rowCount()).toBe(rows);
  });

  const pending = async () => (await h.db.knex('rsv_pending_files').select('key')).map((r: { key: string }) => r.key);

  it('the keys of an upload are journaled while its files are written, and leave with its rows (or its failure)', async () => {
    const incidentId = await declare();
    let seen: string[] = [];
    const { storage } = memoryStorage(() => undefined);
    const watching = { ...ctx(), host: { ...ctx().host, storage: { ...storage, put: async (key: string, data: Buffer, type: string) => {
      seen = await pending();
      return storage.put(key, data, type);
    } } } } as ModuleContext;
    const { attachments } = await attachToIncident(watching, actor, 'college-a', incidentId, [{ filename: 'photo.jpg', data: await phonePhoto() }]);
    // While the thumbnail was written, both keys were in the journal; once the rows committed, neither is.
    expect(seen).toEqual(expect.arrayContaining([attachments[0]!.storage_key, attachments[0]!.thumbnail_key]));
    expect(await pending()).toEqual([]);
    let calls = 0;
    const failing = { ...ctx(), host: { ...ctx().host, storage: memoryStorage(() => { if (++calls === 2) throw new Error('disk full'); }).storage } } as ModuleContext;
    await expect(attachToIncident(failing, actor, 'college-a', incidentId, [{ filename: 'a.png', data: await png() }, { filename: 'b.png', data: await png() }])).rejects.toThrow('disk full');
    expect(await pending()).toEqual([]);
  });

  it('after a crash between the files and the commit, the sweep deletes the files of keys pending for over an hour, and only those', async () => {
    const folder = new FolderStorage(filesDir);
    const abandoned = newStorageKey();
    const recent = newStorageKey();
    await folder.put(abandoned, Buffer.from('written, never committed'));
    await folder.put(recent, Buffer.from('an upload still under way'));
    await h.db.knex('rsv_pending_files').insert([{ key: abandoned, created_at: new Date(Date.now() - 2 * 3600_000) }, { key: recent }]);
    // A committed attachment whose key is, against all odds, still in the journal: never touched.
    const incidentId = await declare();
    const { attachments } = await attachToIncident(ctx(), actor, 'college-a', incidentId, [{ filename: 'a.png', data: await png() }]);
    const kept = attachments[0]!.storage_key;
    await h.db.knex('rsv_pending_files').insert({ key: kept, created_at: new Date(Date.now() - 2 * 3600_000) });
    expect(await sweepAbandonedFiles(ctx())).toBe(1);
    expect(await folder.get(abandoned)).toBeNull();
    expect((await folder.get(recent))?.toString()).toBe('an upload still under way');
    expect(await folder.get(kept)).not.toBeNull();
    expect((await pending()).sort()).toEqual([kept, recent].sort());
    await h.db.knex('rsv_pending_files').whereIn('key', [kept, recent]).delete();
    await folder.delete(recent);
  });

  it('a file the storage cannot delete keeps its journal entry, moved to the back of the queue', async () => {
    const stuck = newStorageKey();
    await h.db.knex('rsv_pending_files').insert({ key: stuck, created_at: new Date(Date.now() - 2 * 3600_000) });
    const { storage } = memoryStorage(() => undefined);
    const offline = { ...ctx(), host: { ...ctx().host, storage: { ...storage, delete: async () => { throw new Error('storage offline'); } } } } as ModuleContext;
    expect(await sweepAbandonedFiles(offline)).toBe(0);
    const entry = await h.db.knex('rsv_pending_files').where({ key: stuck }).first();
    expect(new Date(entry.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    // The storage answers again: an hour later the file goes.
    await h.db.knex('rsv_pending_files').where({ key: stuck }).update({ created_at: new Date(Date.now() - 2 * 3600_000) });
    expect(await sweepAbandonedFiles(ctx())).toBe(1);
    expect(await pending()).not.toContain(stuck);
  });
});

describe('the pages', () => {
  it('the declaration form is multipart, with a camera input and a file input named "file"', async () => {
    const res = await teacher.get('/reservations/incidents/new?structure=college-a', 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<form method="post" action="\/reservations\/structures\/college-a\/incidents\/new" class="incident-form" enctype="multipart\/form-data"/);
    expect(res.text).toMatch(/<input type="file" id="f-photo" name="file" multiple accept="image\/\*,application\/pdf" capture="environment"/);
    expect(res.text).toMatch(/<input type="file" id="f-files" name="file" multiple accept="image\/\*,application\/pdf"/);
    expect(res.text).not.toMatch(/<script>|style="/);
  });

  it('declaring with a photo without JavaScript: 303 to the confirmation; the incident page shows the thumbnail', async () => {
    const res = await request(h.app)
      .post('/reservations/structures/college-a/incidents/new')
      .set('Cookie', teacher.cookie)
      .set('Accept', 'text/html')
      .field('_csrf', teacher.csrf)
      .field('equipmentId', projectorId)
      .field('typeId', typeId)
      .field('severityId', severityId)
      .field('description', 'Le TNI clignote.')
      .attach('file', await phonePhoto(), { filename: 'tni <b>.jpg', contentType: 'image/jpeg' });
    expect(res.status).toBe(303);
    const id = res.headers.location!.match(/\/incidents\/(\d+)\/declared$/)![1]!;
    const attachment = await h.db.knex('rsv_attachments').where({ incident_id: id }).first();
    expect(attachment.original_name).toBe('tni _b_.jpg');
    const pageRes = await teacher.get(`/reservations/incidents/${id}`, 'text/html');
    expect(pageRes.status).toBe(200);
    expect(pageRes.text).toContain(`<img src="/reservations/api/v1/attachments/${attachment.id}/thumbnail" alt="" width="48" height="64"`);
    expect(pageRes.text).toContain(`href="/reservations/api/v1/attachments/${attachment.id}"`);
    expect(pageRes.text).toContain('tni _b_.jpg');
    expect(pageRes.text).toMatch(/<form method="post" action="\/reservations\/incidents\/\d+\/comment" class="comment-form" enctype="multipart\/form-data">/);
  });

  it('a refused file on the form: the error page says why, nothing stored', async () => {
    const before = await stored();
    const res = await request(h.app)
      .post('/reservations/structures/college-a/incidents/new')
      .set('Cookie', teacher.cookie)
      .set('Accept', 'text/html')
      .field('_csrf', teacher.csrf)
      .field('equipmentId', projectorId)
      .field('typeId', typeId)
      .field('severityId', severityId)
      .field('description', 'Avec un texte renommé')
      .attach('file', Buffer.from('texte'), { filename: 'photo.jpg', contentType: 'image/jpeg' });
    expect(res.status).toBe(415);
    expect(res.text).toContain('photo.jpg');
    expect(await stored()).toEqual(before);
  });

  it('the comment form takes files, alone or with a comment, without JavaScript', async () => {
    const incidentId = await declare();
    const withText = await request(h.app)
      .post(`/reservations/incidents/${incidentId}/comment`)
      .set('Cookie', teacher.cookie)
      .field('_csrf', teacher.csrf)
      .field('text', 'Photo de l’écran')
      .attach('file', await png(), { filename: 'ecran.png', contentType: 'image/png' });
    expect(withText.status).toBe(303);
    expect(withText.headers.location).toBe(`/reservations/incidents/${incidentId}?done=commented`);
    const alone = await request(h.app)
      .post(`/reservations/incidents/${incidentId}/comment`)
      .set('Cookie', teacher.cookie)
      .field('_csrf', teacher.csrf)
      .field('text', '')
      .attach('file', PDF, { filename: 'facture.pdf', contentType: 'application/pdf' });
    expect(alone.status).toBe(303);
    expect(alone.headers.location).toBe(`/reservations/incidents/${incidentId}?done=attached`);
    const empty = await request(h.app).post(`/reservations/incidents/${incidentId}/comment`).set('Cookie', teacher.cookie).type('form').send({ _csrf: teacher.csrf, text: '' });
    expect(empty.status).toBe(400);
    const plain = await request(h.app).post(`/reservations/incidents/${incidentId}/comment`).set('Cookie', teacher.cookie).type('form').send({ _csrf: teacher.csrf, text: 'Sans fichier' });
    expect(plain.status).toBe(303);
    const pageRes = await teacher.get(`/reservations/incidents/${incidentId}?done=attached`, 'text/html');
    expect(pageRes.text).toContain('Les fichiers ont été ajoutés.');
    expect(pageRes.text).toMatch(/<ul class="event-files"><li><a href="\/reservations\/api\/v1\/attachments\/\d+">ecran\.png<\/a>/);
    expect(pageRes.text).toContain('a joint un fichier');
    expect(pageRes.text).toContain('facture.pdf');
    expect(pageRes.text).toContain('Vous pouvez encore joindre 3 fichier(s)');
  });
});
