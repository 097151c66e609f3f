import request from 'supertest';
import { startTestHost, TestHost } from '../helpers/host';

let h: TestHost;
beforeAll(async () => {
  h = await startTestHost();
});
afterAll(async () => {
  await h.stop();
});

type G = { action: string; subject: { kind: string; id: string } };

describe('each school decides who does what', () => {
  it('the admin reads the matrix; a teacher may not', async () => {
    const admin = await h.as('direction');
    const res = await admin.get('/structures/college-a/grants');
    expect(res.status).toBe(200);
    expect(res.body.subjects.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining(['Teacher', 'Student', 'AdminLocal', 'service.informatique', 'g-college-a-collectivite']));
    expect(res.body.grants).toContainEqual({ action: 'incident.manage', subject: { kind: 'delegates', id: 'service.informatique' } });
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/structures/college-a/grants')).status).toBe(403);
  });

  it('granting booking.book to Student in college-a lets eleve book there, and nowhere else', async () => {
    const admin = await h.as('direction');
    const pupil = await h.as('eleve');
    const room = await h.db.knex('rsv_equipment').where({ seed_code: 'demo-room-14' }).first();
    const body = { equipmentId: String(room.id), startsAt: '2030-05-06T10:00', endsAt: '2030-05-06T11:00' };
    expect((await pupil.post('/structures/college-a/bookings', body)).status).toBe(403);
    const current: G[] = (await admin.get('/structures/college-a/grants')).body.grants;
    const more = [...current, { action: 'booking.book', subject: { kind: 'profile', id: 'Student' } }, { action: 'module.access', subject: { kind: 'profile', id: 'Student' } }];
    expect((await admin.put('/structures/college-a/grants', { grants: more })).status).toBe(204);
    const fresh = await h.as('eleve');
    expect((await fresh.post('/structures/college-a/bookings', body)).status).toBe(201);
    expect((await fresh.get('/reservations/', 'text/html')).text).toContain('<span>Réservations - Incident</span>');
    // college-b kept its own grants.
    const adminB = await h.as('direction-b');
    const b: G[] = (await adminB.get('/structures/college-b/grants')).body.grants;
    expect(b).not.toContainEqual({ action: 'booking.book', subject: { kind: 'profile', id: 'Student' } });
    // Taking it back works at once.
    expect((await admin.put('/structures/college-a/grants', { grants: current })).status).toBe(204);
    expect((await fresh.post('/structures/college-a/bookings', { ...body, startsAt: '2030-05-07T10:00', endsAt: '2030-05-07T11:00' })).status).toBe(403);
  });

  it('refuses unknown actions or groups, and a matrix that locks the admins out', async () => {
    const admin = await h.as('direction');
    const bad = await admin.put('/structures/college-a/grants', { grants: [{ action: 'nuke.all', subject: { kind: 'group', id: 'g-college-b-collectivite' } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields.map((f: { field: string }) => f.field)).toEqual(['grants.0.action', 'grants.0.subject']);
    const lockout = await admin.put('/structures/college-a/grants', { grants: [] });
    expect(lockout.status).toBe(422);
    expect(lockout.body.error).toBe('admin_lockout');
  });

  it('the matrix page saves checked boxes without JavaScript', async () => {
    const admin = await h.as('direction');
    const page = await admin.get('/reservations/structures/college-a/admin/rights', 'text/html');
    expect(page.status).toBe(200);
    const checked = [...page.text.matchAll(/name="g" value="([^"]+)"[^>]*checked/g)].map((m) => m[1]!.replace(/&#124;/g, '|'));
    expect(checked).toContain('incident.manage|delegates|service.informatique');
    const res = await request(h.app)
      .post('/reservations/structures/college-a/admin/rights')
      .set('Cookie', admin.cookie)
      .type('form')
      .send(`_csrf=${encodeURIComponent(admin.csrf)}&${[...checked, 'stats.view|profile|Teacher'].map((g) => `g=${encodeURIComponent(g)}`).join('&')}`);
    expect(res.status).toBe(303);
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/session')).body.rights['college-a']).toContain('stats.view');
  });
});

describe('activation per school', () => {
  it('a school with the module off shows no menu entry and answers 404; turning it on needs no restart', async () => {
    const admin = await h.as('direction-b');
    const teacher = await h.as('enseignant2');
    expect((await admin.put('/structures/college-b/settings', { services: { planning: false, incidents: false } })).status).toBe(200);
    const home = await teacher.get('/reservations/', 'text/html');
    expect(home.text).not.toContain('<span>Réservations - Incident</span>');
    expect((await teacher.get('/structures/college-b/equipment')).status).toBe(404);
    expect((await teacher.get('/structures/college-b/bookings')).status).toBe(404);
    expect((await teacher.get('/session')).body.structures).toEqual([]);
    // The admin still reaches the settings to switch it back on.
    expect((await admin.get('/reservations/', 'text/html')).text).toContain('/reservations/structures/college-b/admin');
    expect((await admin.put('/structures/college-b/settings', { services: { planning: true, incidents: true } })).status).toBe(200);
    expect((await teacher.get('/structures/college-b/equipment')).status).toBe(200);
    expect((await teacher.get('/reservations/', 'text/html')).text).toContain('<span>Réservations - Incident</span>');
  });
});

describe('hardening', () => {
  it('limits mutations per user and minute (429, localized), and reads are never limited', async () => {
    const limited = await startTestHost({ config: { mutationRateLimit: 3 } });
    try {
      const teacher = await limited.as('enseignant');
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await teacher.post('/bookings/999999/cancel', {})).status);
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      const res = await teacher.post('/bookings/999999/cancel', {});
      expect(res.body).toEqual({ error: 'too_many_requests', message: 'Trop de demandes en peu de temps. Patientez une minute.' });
      expect((await teacher.get('/session')).status).toBe(200);
      const other = await limited.as('referent1');
      expect((await other.post('/bookings/999999/cancel', {})).status).toBe(404);
    } finally {
      await limited.stop();
    }
  });

  it('sends a strict Content-Security-Policy and no-sniff on every module response', async () => {
    const teacher = await h.as('enseignant');
    for (const path of ['/reservations/', '/reservations/api/v1/session', '/reservations/nothing']) {
      const res = await request(h.app).get(path).set('Cookie', teacher.cookie);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('session cookies are HttpOnly and SameSite=Lax', async () => {
    const res = await request(h.app).post('/login').type('form').send({ login: 'enseignant' });
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('ent_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });
});

describe('one service off', () => {
  it('Incidents off in college-b: its incident routes and pages answer 404, the planning still works', async () => {
    const admin = await h.as('direction-b');
    const teacher = await h.as('enseignant2');
    expect((await admin.put('/structures/college-b/settings', { services: { planning: true, incidents: false } })).status).toBe(200);
    expect((await teacher.get('/structures/college-b/incidents?mine=1')).status).toBe(404);
    expect((await teacher.get('/structures/college-b/incident-types')).status).toBe(404);
    expect((await teacher.get('/reservations/incidents/new?structure=college-b', 'text/html')).status).toBe(404);
    expect((await teacher.get('/structures/college-b/bookings')).status).toBe(200);
    expect((await teacher.get('/reservations/', 'text/html')).text).not.toContain('/reservations/incidents/new?structure=college-b');
    expect((await admin.put('/structures/college-b/settings', { services: { planning: true, incidents: true } })).status).toBe(200);
    expect((await teacher.get('/structures/college-b/incidents?mine=1')).status).toBe(200);
  });
});

describe('granting incident.declare to pupils', () => {
  it('lets eleve declare in college-a, and nowhere else', async () => {
    const admin = await h.as('direction');
    const k = h.db.knex;
    const projector = String((await k('rsv_equipment').where({ seed_code: 'demo-projector-12' }).first()).id);
    const typeId = String((await k('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id);
    const severityId = String((await k('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id);
    const body = { equipmentId: projector, typeId, severityId, description: 'Le projecteur clignote.' };
    const pupil = await h.as('eleve');
    expect((await pupil.post('/structures/college-a/incidents', body)).status).toBe(403);
    const current: G[] = (await admin.get('/structures/college-a/grants')).body.grants;
    const grants = [...current, { action: 'incident.declare', subject: { kind: 'profile', id: 'Student' } }, { action: 'module.access', subject: { kind: 'profile', id: 'Student' } }];
    expect((await admin.put('/structures/college-a/grants', { grants })).status).toBe(204);
    const declared = await pupil.post('/structures/college-a/incidents', body);
    expect(declared.status).toBe(201);
    expect((await pupil.get('/session')).body.rights['college-a']).toContain('incident.declare');
    // Nowhere else: not in college-b (not a member: 404), and not a right to manage.
    const projectorB = String((await k('rsv_equipment').where({ seed_code: 'demo-projector-b1' }).first()).id);
    expect((await pupil.post('/structures/college-b/incidents', { ...body, equipmentId: projectorB })).status).toBe(404);
    expect((await pupil.post(`/incidents/${declared.body.id}/transitions`, { to: 'taken' })).status).toBe(403);
    // The parents did not get it with the pupils.
    const parent = await h.as('parent');
    expect((await parent.post('/structures/college-a/incidents', body)).status).toBe(403);
    await admin.put('/structures/college-a/grants', { grants: current });
  });
});
