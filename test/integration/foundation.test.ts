import request from 'supertest';
import { startTestHost, TestHost, API } from '../helpers/host';
import { install } from '../../src';
import { functionalAccountId } from '../../src/hostkit/directory';

let h: TestHost;
beforeAll(async () => {
  h = await startTestHost();
});
afterAll(async () => {
  await h.stop();
});

describe('a teacher signs in to the reference host', () => {
  it('GET /session answers the user, the structures, the rights and a CSRF token', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/session');
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: 'u-enseignant', login: 'enseignant', displayName: 'Claire Martin', profile: 'Teacher' });
    expect(res.body.structures).toEqual([{ id: 'college-a', name: 'Collège Jean Moulin', services: { planning: true, incidents: true } }]);
    expect(res.body.rights['college-a']).toEqual(expect.arrayContaining(['booking.book', 'incident.declare', 'module.access']));
    expect(res.body.rights['college-a']).not.toContain('incident.manage');
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('the page frame shows the menu entry "Réservations - Incident"', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/reservations/', 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<nav class="ent-menu"[\s\S]*<span>Réservations - Incident<\/span>/);
  });

  it('a pupil sees no menu entry by default', async () => {
    const pupil = await h.as('eleve');
    const res = await pupil.get('/reservations/', 'text/html');
    expect(res.text).not.toContain('<span>Réservations - Incident</span>');
  });

  it('the referents get incident.manage through the service.informatique delegation', async () => {
    for (const login of ['referent1', 'referent2']) {
      const referent = await h.as(login);
      const res = await referent.get('/session');
      expect(res.body.rights['college-a']).toContain('incident.manage');
    }
  });
});

describe('installing the module', () => {
  async function accountsOf(structureId: string) {
    return h.db.knex('host_users').where({ functional_structure_id: structureId, login: 'service.informatique' });
  }

  it('twice leaves exactly one service.informatique per school, responsible of all equipment, with its delegates', async () => {
    for (let i = 0; i < 2; i++) {
      const again = await install(h.referenceHost.host, { logger: h.module.context.logger, databaseSchema: h.db.schema, config: { runWorker: false } });
      await again.close();
    }
    for (const structureId of ['college-a', 'college-b']) {
      const accounts = await accountsOf(structureId);
      expect(accounts).toHaveLength(1);
      const equipment = await h.db.knex('rsv_equipment').where({ structure_id: structureId });
      expect(equipment.length).toBeGreaterThan(3);
      for (const e of equipment) expect(e.responsible_id).toBe(functionalAccountId(structureId, 'service.informatique'));
    }
    const teacher = await h.as('direction');
    const res = await teacher.get('/structures/college-a/functional-account');
    expect(res.status).toBe(200);
    expect(res.body.login).toBe('service.informatique');
    expect(res.body.delegates.map((d: { login: string }) => d.login).sort()).toEqual(['referent1', 'referent2']);
    // Seeded lists were not duplicated either.
    const types = await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a' });
    expect(types).toHaveLength(5);
  });

  it('concurrently from several installs still creates one account per school', async () => {
    await h.db.knex('host_structures').insert({ id: 'college-c', name: 'Collège Victor Hugo' });
    await Promise.all([1, 2, 3, 4].map(() => h.module.installStructure('college-c')));
    expect(await accountsOf('college-c')).toHaveLength(1);
    expect(await h.db.knex('rsv_severities').where({ structure_id: 'college-c' })).toHaveLength(5);
  });
});

describe('errors are localized JSON with the right status, never a 500', () => {
  it('an unknown API route answers 404', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/no-such-route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: "Cette page ou cette adresse n'existe pas." });
  });

  it('an unknown page answers a friendly 404 page inside the frame', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/reservations/nothing-here', 'text/html');
    expect(res.status).toBe(404);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('Erreur 404');
    expect(res.text).toContain('ent-menu');
  });

  it('a malformed JSON body answers 400', async () => {
    const direction = await h.as('direction');
    const res = await request(h.app)
      .put(`${API}/structures/college-a/functional-account/delegates`)
      .set('Cookie', direction.cookie)
      .set('X-CSRF-Token', direction.csrf)
      .set('Content-Type', 'application/json')
      .send('{"userIds": [');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_input');
    expect(res.body.message).toBe("Le corps de la requête n'est pas du JSON valide.");
  });

  it('a mutation without the CSRF token answers 403 and changes nothing', async () => {
    const direction = await h.as('direction');
    const res = await request(h.app)
      .put(`${API}/structures/college-a/functional-account/delegates`)
      .set('Cookie', direction.cookie)
      .send({ userIds: [] });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('csrf');
    const account = await direction.get('/structures/college-a/functional-account');
    expect(account.body.delegates).toHaveLength(2);
  });

  it("a forged CSRF token (another session's) answers 403", async () => {
    const direction = await h.as('direction');
    const other = await h.as('direction');
    const res = await request(h.app)
      .put(`${API}/structures/college-a/functional-account/delegates`)
      .set('Cookie', direction.cookie)
      .set('X-CSRF-Token', other.csrf)
      .send({ userIds: [] });
    expect(res.status).toBe(403);
  });

  it('a signed-out request answers 401 (API) or goes to the login page (page)', async () => {
    const anonymous = h.anonymous();
    const api = await anonymous.get('/session');
    expect(api.status).toBe(401);
    expect(api.body).toEqual({ error: 'unauthenticated', message: 'Vous devez être connecté.' });
    const page = await anonymous.get('/reservations/', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?returnTo=%2Freservations%2F');
  });

  it('speaks English when the browser asks for it', async () => {
    const res = await request(h.app).get(`${API}/session`).set('Accept-Language', 'en-GB,en;q=0.9,fr;q=0.5');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('You must be signed in.');
    const query = await request(h.app).get(`${API}/session?lang=en`);
    expect(query.body.message).toBe('You must be signed in.');
  });

  it("the user's language from the host wins", async () => {
    await h.db.knex('host_users').where({ login: 'enseignant2' }).update({ language: 'en' });
    const teacher = await h.as('enseignant2');
    const res = await request(h.app).get(`${API}/nothing`).set('Cookie', teacher.cookie).set('Accept-Language', 'fr');
    expect(res.body.message).toBe('This page or address does not exist.');
  });

  it('a body over the size limit answers 413', async () => {
    const direction = await h.as('direction');
    const res = await direction.put('/structures/college-a/functional-account/delegates', { userIds: ['x'.repeat(200_000)] });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('invalid input names the field', async () => {
    const direction = await h.as('direction');
    const res = await direction.put('/structures/college-a/functional-account/delegates', { userIds: 'referent1' });
    expect(res.status).toBe(400);
    expect(res.body.details.fields[0].field).toBe('userIds');
  });

  it("another school's data answers 404, and a teacher may not configure (403)", async () => {
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/structures/college-b/equipment')).status).toBe(404);
    expect((await teacher.get('/structures/college-a/functional-account')).status).toBe(403);
    expect((await teacher.get('/structures/college-a/equipment')).status).toBe(200);
  });
});

describe('the reference host', () => {
  it('lists the demo accounts on /login', async () => {
    const res = await request(h.app).get('/login');
    expect(res.status).toBe(200);
    for (const login of ['enseignant', 'referent1', 'referent2', 'direction', 'eleve', 'parent', 'enseignant2']) expect(res.text).toContain(`value="${login}"`);
  });

  it('refuses an unknown login', async () => {
    const res = await request(h.app).post('/login').type('form').send({ login: 'nobody' });
    expect(res.status).toBe(401);
  });

  it('signs out with POST /logout', async () => {
    const teacher = await h.as('enseignant');
    const out = await request(h.app).post('/logout').set('Cookie', teacher.cookie).type('form').send({ _csrf: 'wrong' });
    expect(out.status).toBe(403);
    const frame = await teacher.get('/reservations/', 'text/html');
    const token = /name="_csrf" value="([^"]+)"/.exec(frame.text)![1];
    const ok = await request(h.app).post('/logout').set('Cookie', teacher.cookie).type('form').send({ _csrf: token });
    expect(ok.status).toBe(303);
    expect((await teacher.get('/session')).status).toBe(401);
  });

  it('GET /mail answers JSON to a signed-in user', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/mail');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
  });
});
