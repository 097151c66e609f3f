import request from 'supertest';
import { startTestHost, TestHost } from '../helpers/host';

let h: TestHost;
beforeAll(async () => {
  h = await startTestHost();
});
afterAll(async () => {
  await h.stop();
});

const form = (cookie: string, path: string, body: Record<string, string>) => request(h.app).post(path).set('Cookie', cookie).type('form').send(body);

describe('the school admin works from plain forms', () => {
  it('the home page links the administration for the admin only', async () => {
    const admin = await h.as('direction');
    expect((await admin.get('/reservations/', 'text/html')).text).toContain('/reservations/structures/college-a/admin');
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/reservations/', 'text/html')).text).not.toContain('/admin"');
    expect((await teacher.get('/reservations/structures/college-a/admin', 'text/html')).status).toBe(403);
  });

  it('adds a room, then edits it, moves it and retires it', async () => {
    const admin = await h.as('direction');
    const rooms = await h.db.knex('rsv_resource_types').where({ structure_id: 'college-a', seed_code: 'rooms' }).first();
    const created = await form(admin.cookie, '/reservations/structures/college-a/admin/equipment', { _csrf: admin.csrf, name: 'Salle 40 <b>', typeId: String(rooms.id), location: 'Bâtiment E', description: '' });
    expect(created.status).toBe(400);
    expect(created.text).toContain('role="alert"');
    const ok = await form(admin.cookie, '/reservations/structures/college-a/admin/equipment', { _csrf: admin.csrf, name: 'Salle 40', typeId: String(rooms.id), location: 'Bâtiment E', description: '' });
    expect(ok.status).toBe(303);
    const row = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', name: 'Salle 40' }).first();
    const page = await admin.get('/reservations/structures/college-a/admin/equipment?done=created', 'text/html');
    expect(page.text).toContain('Salle 40');
    expect(page.text).toContain('Ajouté.');
    expect((await form(admin.cookie, `/reservations/equipment/${row.id}/edit`, { _csrf: admin.csrf, name: 'Salle 40 bis', typeId: String(rooms.id), location: 'Bâtiment E', description: 'Labo' })).status).toBe(303);
    expect((await form(admin.cookie, `/reservations/equipment/${row.id}/move`, { _csrf: admin.csrf, direction: 'up' })).status).toBe(303);
    expect((await form(admin.cookie, `/reservations/equipment/${row.id}/retire`, { _csrf: admin.csrf, retired: '1' })).status).toBe(303);
    const after = await h.db.knex('rsv_equipment').where({ id: row.id }).first();
    expect(after.name).toBe('Salle 40 bis');
    expect(after.retired_at).not.toBeNull();
  });

  it('imports an equipment CSV file: preview, then apply', async () => {
    const admin = await h.as('direction');
    const csv = 'nom;type;emplacement\nSalle 50;1. Réserver une salle;Bâtiment F\nTNI salle 50;2. Demande maintenance;Salle 50\n';
    const preview = await request(h.app)
      .post('/reservations/structures/college-a/admin/equipment/import')
      .set('Cookie', admin.cookie)
      .field('_csrf', admin.csrf)
      .attach('file', Buffer.from(csv, 'utf8'), { filename: 'salles.csv', contentType: 'text/csv' });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('2 ligne(s) prête(s) à importer.');
    const hidden = /name="csv" value="([^"]*)"/.exec(preview.text)![1]!.replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const applied = await form(admin.cookie, '/reservations/structures/college-a/admin/equipment/import', { _csrf: admin.csrf, csv: hidden, apply: '1' });
    expect(applied.status).toBe(303);
    expect(await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', name: 'TNI salle 50' }).first()).toBeDefined();
  });

  it('an oversized CSV file is refused whole', async () => {
    const admin = await h.as('direction');
    const res = await request(h.app)
      .post('/reservations/structures/college-a/admin/equipment/import')
      .set('Cookie', admin.cookie)
      .field('_csrf', admin.csrf)
      .attach('file', Buffer.alloc(200_000, 'a'), { filename: 'big.csv', contentType: 'text/csv' });
    expect(res.status).toBe(413);
  });

  it('saves the settings: holidays, opening hours, services', async () => {
    const admin = await h.as('direction');
    const body: Record<string, string> = { _csrf: admin.csrf, planning: 'on', incidents: 'on', timeZone: 'Europe/Paris', holidays: "2027-02-13;2027-03-01;Vacances d'hiver\n2027-04-10;2027-04-26;Vacances de printemps", reopenDays: '30', showBookingOwners: 'on', hours_mon: '08:00-12:00, 13:30-17:30', hours_tue: '08:00-17:30', hours_wed: '08:00-12:30', hours_thu: '08:00-17:30', hours_fri: '08:00-16:30', hours_sat: '', hours_sun: '' };
    expect((await form(admin.cookie, '/reservations/structures/college-a/admin/settings', body)).status).toBe(303);
    const s = await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).first();
    expect(s.holidays).toHaveLength(2);
    expect(s.opening_hours.mon).toEqual([['08:00', '12:00'], ['13:30', '17:30']]);
    const bad = await form(admin.cookie, '/reservations/structures/college-a/admin/settings', { ...body, hours_mon: '18:00-08:00' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('openingHours.mon.0');
  });

  it('a referent validates and refuses pending bookings from the list', async () => {
    const teacher = await h.as('enseignant');
    const tablets = await h.db.knex('rsv_equipment').where({ seed_code: 'demo-tablets' }).first();
    const a = await teacher.post('/structures/college-a/bookings', { equipmentId: String(tablets.id), startsAt: '2030-03-05T10:00', endsAt: '2030-03-05T11:00', reason: 'Sortie' });
    const b = await teacher.post('/structures/college-a/bookings', { equipmentId: String(tablets.id), startsAt: '2030-03-06T10:00', endsAt: '2030-03-06T11:00' });
    const referent = await h.as('referent1');
    expect([a.status, b.status]).toEqual([201, 201]);
    const list = await referent.get('/reservations/structures/college-a/bookings/pending', 'text/html');
    expect(list.text.slice(list.text.indexOf('<main'), list.text.indexOf('</main>'))).toContain('Chariot de tablettes');
    expect((await form(referent.cookie, `/reservations/bookings/${a.body.id}/decide`, { _csrf: referent.csrf, decision: 'validated' })).status).toBe(303);
    expect((await form(referent.cookie, `/reservations/bookings/${b.body.id}/decide`, { _csrf: referent.csrf, decision: 'refused', reason: '' })).status).toBe(400);
    expect((await form(referent.cookie, `/reservations/bookings/${b.body.id}/decide`, { _csrf: referent.csrf, decision: 'refused', reason: 'Déjà prêtées' })).status).toBe(303);
    expect((await h.db.knex('rsv_bookings').whereIn('id', [a.body.id, b.body.id]).orderBy('id')).map((r: { status: string }) => r.status)).toEqual(['validated', 'refused']);
  });

  it('manages resource types from the form', async () => {
    const admin = await h.as('direction');
    const res = await form(admin.cookie, '/reservations/structures/college-a/admin/resource-types', { _csrf: admin.csrf, name: 'Laboratoires', purpose: 'booking', color: '#7a3e9d', needsValidation: 'on', minNoticeMinutes: '60', maxNoticeDays: '', maxLengthMinutes: '120' });
    expect(res.status).toBe(303);
    const row = await h.db.knex('rsv_resource_types').where({ structure_id: 'college-a', name: 'Laboratoires' }).first();
    expect(row).toMatchObject({ needs_validation: true, min_notice_minutes: 60, max_length_minutes: 120, max_notice_days: null });
    const page = await admin.get('/reservations/structures/college-a/admin/resource-types', 'text/html');
    expect(page.text).toContain('fill="#7a3e9d"');
    expect((await form(admin.cookie, '/reservations/structures/college-a/admin/resource-types', { _csrf: admin.csrf, name: 'X', purpose: 'booking', color: 'red' })).status).toBe(400);
  });
});
