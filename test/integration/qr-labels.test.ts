import request from 'supertest';
import sharp from 'sharp';
import jsQR from 'jsqr';
import { startTestHost, TestHost, Client } from '../helpers/host';

/**
 * QR labels (issue 11, point 6): the SVG of one label and the printable sheet. Each QR code, rendered to pixels and
 * decoded, gives the absolute declaration link of its equipment.
 */
let h: TestHost;
let referent: Client;
const PUBLIC_URL = 'http://127.0.0.1:3000';

/** Renders an SVG to pixels (sharp) and decodes the QR code in it (jsQR), as a phone's camera would. */
async function decodeSvg(svg: string): Promise<string | null> {
  const { data, info } = await sharp(Buffer.from(svg), { density: 600 })
    .resize({ width: 400, kernel: 'nearest' })
    .flatten({ background: '#ffffff' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height)?.data ?? null;
}

async function equipmentId(code: string, structure = 'college-a'): Promise<string> {
  return String((await h.db.knex('rsv_equipment').where({ structure_id: structure, seed_code: code }).first()).id);
}

beforeAll(async () => {
  h = await startTestHost({ publicUrl: PUBLIC_URL });
  referent = await h.as('referent1');
});
afterAll(async () => {
  await h.stop();
});

describe('GET /equipment/:id/qr.svg', () => {
  it('is an SVG whose QR code decodes to the absolute declaration link', async () => {
    const id = await equipmentId('demo-projector-12');
    const teacher = await h.as('enseignant');
    const res = await teacher.get(`/equipment/${id}/qr.svg`, 'image/svg+xml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const svg = res.text || (res.body as Buffer).toString('utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).not.toMatch(/<script|on\w+=|style=/i);
    expect(await decodeSvg(svg)).toBe(`${PUBLIC_URL}/reservations/incidents/new?equipment=${id}`);
  });

  it('the link it gives opens the declaration form with that equipment chosen', async () => {
    const id = await equipmentId('demo-iwb-14');
    const teacher = await h.as('enseignant');
    const res = await teacher.get(`/equipment/${id}/qr.svg`, 'image/svg+xml');
    const link = new URL((await decodeSvg(res.text || (res.body as Buffer).toString('utf8')))!);
    const form = await teacher.get(`${link.pathname}${link.search}`, 'text/html');
    expect(form.status).toBe(200);
    expect(form.text).toContain(`<option value="${id}" selected>`);
  });

  it("another school's equipment is a 404; a pupil (no incident.declare) a 403; signed out a 401", async () => {
    const other = await equipmentId('demo-projector-b1', 'college-b');
    expect((await referent.get(`/equipment/${other}/qr.svg`)).status).toBe(404);
    expect((await (await h.as('eleve')).get(`/equipment/${await equipmentId('demo-projector-12')}/qr.svg`)).status).toBe(403);
    expect((await h.anonymous().get(`/equipment/${other}/qr.svg`)).status).toBe(401);
  });
});

describe('the labels page', () => {
  it("lists the school's equipment in use, each with its name, location and a QR code of its own link", async () => {
    const res = await referent.get('/reservations/structures/college-a/labels', 'text/html');
    expect(res.status).toBe(200);
    const inUse = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a' }).whereNull('retired_at').orderBy('id');
    const labels = [...res.text.matchAll(/<li class="label" data-equipment-id="(\d+)">([\s\S]*?)<\/li>/g)];
    expect(labels.map((m) => m[1]).sort()).toEqual(inUse.map((e) => String(e.id)).sort());
    // Nothing of college-b.
    expect(res.text).not.toContain('Salle B1');
    for (const [, id, html] of labels.slice(0, 3)) {
      const e = inUse.find((x) => String(x.id) === id)!;
      expect(html).toContain(`<p class="label-name">${e.name}</p>`);
      const svg = html!.match(/<svg[\s\S]*?<\/svg>/)![0];
      expect(svg).toContain('aria-hidden="true"');
      expect(await decodeSvg(svg)).toBe(`${PUBLIC_URL}/reservations/incidents/new?equipment=${id}`);
    }
    // Printable: one sheet of 24 labels at most, no inline style or script.
    const sheets = res.text.match(/<section class="label-sheet"/g) ?? [];
    expect(sheets.length).toBe(Math.ceil(inUse.length / 24));
    expect(res.text).not.toMatch(/style="|<script>/);
  });

  it('?room= keeps one room: the equipment located there and the room itself', async () => {
    const res = await referent.get(`/reservations/structures/college-a/labels?room=${encodeURIComponent('Salle 12')}`, 'text/html');
    expect(res.status).toBe(200);
    const ids = [...res.text.matchAll(/data-equipment-id="(\d+)"/g)].map((m) => m[1]).sort();
    expect(ids).toEqual([await equipmentId('demo-projector-12'), await equipmentId('demo-room-12')].sort());
    expect(res.text).toContain('<option value="Salle 12" selected>Salle 12</option>');
  });

  it('escapes names and locations', async () => {
    const id = await equipmentId('demo-printer-cdi');
    await h.db.knex('rsv_equipment').where({ id }).update({ name: '<script>alert("qr")</script>', location: '"><img src=x onerror=alert(1)>' });
    try {
      const res = await referent.get('/reservations/structures/college-a/labels', 'text/html');
      expect(res.text).not.toContain('<script>alert("qr")</script>');
      expect(res.text).not.toContain('<img src=x onerror=alert(1)>');
      expect(res.text).toContain('&lt;script&gt;alert(&#34;qr&#34;)&lt;/script&gt;');
      expect(res.text).toContain('&#34;&gt;&lt;img src=x onerror=alert(1)&gt;');
      const filtered = await referent.get(`/reservations/structures/college-a/labels?room=${encodeURIComponent('"><img src=x onerror=alert(1)>')}`, 'text/html');
      expect(filtered.text).not.toContain('<img src=x onerror=alert(1)>');
      expect([...filtered.text.matchAll(/data-equipment-id="(\d+)"/g)].map((m) => m[1])).toEqual([id]);
    } finally {
      await h.db.knex('rsv_equipment').where({ id }).update({ name: 'Imprimante du CDI', location: 'CDI' });
    }
  });

  it('is for the referents and the admin: a teacher gets 403, college-b 404; linked from the admin home and the inbox', async () => {
    expect((await (await h.as('enseignant')).get('/reservations/structures/college-a/labels', 'text/html')).status).toBe(403);
    expect((await (await h.as('enseignant2')).get('/reservations/structures/college-a/labels', 'text/html')).status).toBe(404);
    const direction = await h.as('direction');
    expect((await direction.get('/reservations/structures/college-a/labels', 'text/html')).status).toBe(200);
    const admin = await direction.get('/reservations/structures/college-a/admin', 'text/html');
    expect(admin.text).toContain('href="/reservations/structures/college-a/labels"');
    const inbox = await referent.get('/reservations/structures/college-a/inbox', 'text/html');
    expect(inbox.text).toContain('href="/reservations/structures/college-a/labels"');
  });

  it('the print styles: an A4 page of 3 x 8 labels', async () => {
    const css = await request(h.app).get('/reservations/assets/module.css');
    expect(css.text).toMatch(/@page labels \{ size: A4/);
    expect(css.text).toMatch(/\.label-grid \{[^}]*grid-template-columns: repeat\(3, 66mm\); grid-auto-rows: 35mm;/);
  });
});
