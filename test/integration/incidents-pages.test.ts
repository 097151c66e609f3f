import request from 'supertest';
import { startTestHost, TestHost, Client } from '../helpers/host';
import { bringTo, declare, schoolLists, SchoolLists } from '../helpers/incidents';

let h: TestHost;
let lists: SchoolLists;
beforeAll(async () => {
  h = await startTestHost();
  lists = await schoolLists(h);
});
afterAll(async () => {
  await h.stop();
});

const page = (client: Client, path: string) => client.get(`/reservations${path}`, 'text/html');
/** A browser form post: urlencoded, with the CSRF token as a hidden field, no JavaScript. */
const form = (client: Client, path: string, fields: Record<string, string | number>) =>
  request(h.app).post(`/reservations${path}`).set('Cookie', client.cookie).set('Accept', 'text/html').type('form').send({ _csrf: client.csrf, ...fields });
/** The page's text with EJS's escapes of quotes undone (apostrophes are everywhere in French). */
const plain = (html: string) => html.replace(/&#39;/g, "'").replace(/&#34;/g, '"');
const count = async (table: string) => Number((await h.db.knex(table).count('* as n'))[0]!.n);

describe('the declaration form', () => {
  it('offers every equipment of the school grouped by type, the types and the severities, accessibly', async () => {
    const teacher = await h.as('enseignant');
    const res = await page(teacher, '/incidents/new?structure=college-a');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<label for="f-equipmentId">');
    expect(res.text).toMatch(/<optgroup label="1. Réserver une salle">[\s\S]*Salle 12[\s\S]*<\/optgroup>/);
    expect(res.text).toMatch(/<optgroup label="2. Demande maintenance">[\s\S]*Wifi[\s\S]*Site internet[\s\S]*ENT[\s\S]*Vidéoprojecteur salle 12/);
    expect(res.text).toContain('Matériel mobile');
    expect(plain(res.text)).toMatch(/<fieldset class="choices">\s*<legend>Type d'incident<\/legend>/);
    expect(res.text).toMatch(/<legend>Nature de la demande<\/legend>/);
    for (const label of ['Logiciels', 'Matériels', 'Connexion internet', 'TNI', 'Dysfonctionnement', 'Changement']) expect(res.text).toContain(`>${label}</label>`);
    expect(res.text).toContain('<label for="f-description">');
    expect(res.text).toMatch(/name="_csrf" value="[^"]+"/);
    expect(res.text).not.toMatch(/<script>|style="/);
  });

  it('comes pre-filled from ?equipment=ID (the QR code), with the open incidents of that equipment first and "me too"', async () => {
    const teacher = await h.as('enseignant');
    const colleague = await h.as('direction');
    const { id } = await declare(colleague, lists, { description: 'Image floue.' });
    const res = await page(teacher, `/incidents/new?equipment=${lists.equipmentId}`);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(new RegExp(`<option value="${lists.equipmentId}" selected>`));
    const already = res.text.indexOf('Déjà signalé sur');
    expect(already).toBeGreaterThan(0);
    expect(already).toBeLessThan(res.text.indexOf('<form method="post" action="/reservations/structures/college-a/incidents/new"'));
    expect(res.text).toContain('Image floue.');
    expect(res.text).toContain(`action="/reservations/incidents/${id}/follow"`);
    // "Me too" from the form: the teacher follows instead of declaring a duplicate.
    const before = await count('rsv_incidents');
    const follow = await form(teacher, `/incidents/${id}/follow`, {});
    expect(follow.status).toBe(303);
    expect(follow.headers.location).toBe(`/reservations/incidents/${id}?done=followed`);
    expect(await count('rsv_incidents')).toBe(before);
    expect(await h.db.knex('rsv_incident_followers').where({ incident_id: id, user_id: 'u-enseignant' })).toHaveLength(1);
    const after = await page(teacher, `/incidents/${id}?done=followed`);
    expect(after.text).toContain('vous suivez cet incident');
  });

  it('sends the declaration and shows the confirmation with the incident number', async () => {
    const teacher = await h.as('enseignant');
    const res = await form(teacher, '/structures/college-a/incidents/new', {
      equipmentId: lists.roomId,
      typeId: lists.typeIds[1]!,
      severityId: lists.severityIds[0]!,
      description: 'Les prises ne marchent plus\r\ndu côté fenêtre.',
    });
    expect(res.status).toBe(303);
    const id = /\/incidents\/(\d+)\/declared$/.exec(res.headers.location)![1]!;
    const row = await h.db.knex('rsv_incidents').where({ id }).first();
    expect(row).toMatchObject({ reporter_id: 'u-enseignant', status: 'new', description: 'Les prises ne marchent plus\ndu côté fenêtre.' });
    const confirmation = await page(teacher, `/incidents/${id}/declared`);
    expect(confirmation.status).toBe(200);
    expect(confirmation.text).toContain(`Incident n° ${id} enregistré`);
    expect(confirmation.text).toContain('role="status"');
  });

  it('a refused form comes back with an error summary linked to the fields, the values kept, nothing stored', async () => {
    const teacher = await h.as('enseignant');
    const before = await count('rsv_incidents');
    const res = await form(teacher, '/structures/college-a/incidents/new', { equipmentId: lists.equipmentId, typeId: '', severityId: lists.severityIds[0]!, description: 'Bip\u0007' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('class="error-summary"');
    expect(res.text).toContain('href="#f-typeId-0"');
    expect(res.text).toContain('href="#f-description"');
    expect(res.text).toContain('aria-invalid="true"');
    expect(res.text).toMatch(new RegExp(`<option value="${lists.equipmentId}" selected>`));
    expect(await count('rsv_incidents')).toBe(before);
  });

  it("another school's equipment in the link is a 404; a pupil may not declare (403)", async () => {
    const other = await schoolLists(h, 'college-b');
    const teacher = await h.as('enseignant');
    expect((await page(teacher, `/incidents/new?equipment=${other.equipmentId}`)).status).toBe(404);
    expect((await page(teacher, '/incidents/new?structure=college-b')).status).toBe(404);
    const pupil = await h.as('eleve');
    const res = await page(pupil, '/incidents/new?structure=college-a');
    expect(res.status).toBe(403);
    expect(plain(res.text)).toContain("Vous ne pouvez pas signaler d'incident dans cet établissement.");
  });
});

describe('the incident page', () => {
  it('escapes a description containing <script>', async () => {
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists, { description: '<script>alert("x")</script> & <img src=x onerror=alert(1)>' });
    await teacher.post(`/incidents/${id}/comments`, { text: '</blockquote><script>alert(2)</script>' });
    const res = await page(teacher, `/incidents/${id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
    expect(res.text).toContain('&lt;/blockquote&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).not.toContain('<img src=x');
    const referent = await h.as('referent1');
    expect((await page(referent, '/structures/college-a/inbox')).text).not.toContain('<script>alert');
  });

  it('shows the timeline; a referent takes in charge in one click, then changes the status with a comment', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const before = await page(referent, `/incidents/${id}`);
    expect(before.text).toContain('Prendre en charge');
    expect(before.text).toMatch(/<span class="badge status-new">nouveau<\/span>/);
    const take = await form(referent, `/incidents/${id}/transition`, { to: 'taken', version: 1 });
    expect(take.status).toBe(303);
    expect(take.headers.location).toBe(`/reservations/incidents/${id}?done=taken`);
    const move = await form(referent, `/incidents/${id}/transition`, { to: 'in_progress', version: 2, comment: 'Lampe commandée.' });
    expect(move.status).toBe(303);
    const after = await page(referent, `/incidents/${id}`);
    expect(plain(after.text)).toMatch(/<h1>Incident n° \d+ <span class="badge status-in_progress">en cours de résolution<\/span>/);
    expect(plain(after.text)).toMatch(/<ol class="timeline">[\s\S]*Claire Martin a signalé l'incident[\s\S]*Karim Benali a changé le statut : nouveau → pris en charge[\s\S]*Karim Benali a assigné l'incident à Karim Benali[\s\S]*en cours de résolution[\s\S]*Lampe commandée\./);
    expect(after.text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT/);
    // The teacher's page has no management forms.
    const teacherView = await page(teacher, `/incidents/${id}`);
    expect(teacherView.text).not.toContain('Prendre en charge');
    expect(teacherView.text).not.toContain('/assign"');
    expect(teacherView.text).toContain('Ajouter un commentaire');
  });

  it('a stale form answers the page with the conflict (409); a refused move names the allowed ones (422)', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    await bringTo(referent, id, 'closed');
    const stale = await form(referent, `/incidents/${id}/transition`, { to: 'taken', version: 1 });
    expect(stale.status).toBe(409);
    expect(plain(stale.text)).toContain("Quelqu'un a modifié cet incident entre-temps");
    const refused = await form(referent, `/incidents/${id}/transition`, { to: 'taken' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Depuis « fermé », il peut passer à : « en cours de résolution »');
    const invalid = await form(referent, `/incidents/${id}/comment`, { text: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('href="#f-text"');
  });

  it('assigns to a fellow referent, escalates, comments, and links the report, all without JavaScript', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const pageBefore = await page(referent, `/incidents/${id}`);
    expect(pageBefore.text).toContain('<option value="u-referent2">Sophie Leroy</option>');
    expect((await form(referent, `/incidents/${id}/assign`, { assigneeId: 'u-referent2', version: 1 })).status).toBe(303);
    expect((await form(referent, `/incidents/${id}/escalate`, { level: 1, domain: 'technical', version: 2 })).status).toBe(303);
    expect((await form(referent, `/incidents/${id}/escalate`, { level: 2, domain: '', version: 3 })).status).toBe(303);
    expect((await form(referent, `/incidents/${id}/comment`, { text: 'Transmis au prestataire.' })).status).toBe(303);
    const row = await h.db.knex('rsv_incidents').where({ id }).first();
    expect(row).toMatchObject({ assignee_id: 'u-referent2', level: 2, domain: 'technical' });
    const after = await page(referent, `/incidents/${id}`);
    expect(plain(after.text)).toContain("Karim Benali a assigné l'incident à Sophie Leroy");
    expect(plain(after.text)).toContain("Karim Benali a escaladé l'incident au niveau 2 – expertise (domaine technique)");
    expect(after.text).toContain('Transmis au prestataire.');
    expect(after.text).toContain(`/reservations/api/v1/incidents/${id}/report?format=text`);
  });

  it('offers the reporter to reopen a closed incident', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    await bringTo(referent, id, 'closed');
    const res = await page(teacher, `/incidents/${id}`);
    expect(plain(res.text)).toContain("Rouvrir l'incident");
    const reopen = await form(teacher, `/incidents/${id}/transition`, { to: 'in_progress', comment: 'Ça recommence.' });
    expect(reopen.status).toBe(303);
    expect((await h.db.knex('rsv_incidents').where({ id }).first()).status).toBe('in_progress');
  });
});

describe("the referents' inbox", () => {
  it('has tabs with counts, filters, "assigned to me", "unassigned", and keyset pagination links', async () => {
    const referent = await h.as('referent1');
    const teacher = await h.as('enseignant');
    // 60 more open incidents, so that the open tab has more than one page of 50.
    await h.db.knex.raw(
      `INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id)
       SELECT 'college-a', ?, ?, ?, 'Panne n° ' || g, 'u-enseignant' FROM generate_series(1, 60) g`,
      [lists.equipmentId, lists.typeIds[2], lists.severityIds[2]],
    );
    const { id } = await declare(teacher, lists);
    await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
    const counts = (await referent.get('/structures/college-a/incidents?counts=1&limit=1')).body.counts;
    const res = await page(referent, '/structures/college-a/inbox');
    expect(res.status).toBe(200);
    const open = counts.new + counts.taken + counts.in_progress;
    expect(res.text).toMatch(new RegExp(`aria-current="page" class="current">À traiter <span class="count">\\(${open}\\)</span>`));
    expect(res.text).toContain(`Nouveaux <span class="count">(${counts.new})</span>`);
    expect(res.text).toContain(`Fermés <span class="count">(${counts.closed})</span>`);
    expect(res.text).toMatch(/<caption>Incidents : À traiter, du plus récent au plus ancien<\/caption>/);
    expect((res.text.match(/<tr>\s*<th scope="row">/g) ?? []).length).toBe(50);
    const next = /<a rel="next" href="([^"]+)"/.exec(res.text)![1]!.replace(/&amp;/g, '&');
    expect(next).toMatch(/^\/reservations\/structures\/college-a\/inbox\?cursor=/);
    const second = await referent.get(next, 'text/html');
    expect(second.status).toBe(200);
    expect(second.text).toContain('Retour aux plus récents');
    const firstIds = [...res.text.matchAll(/<th scope="row"><a href="\/reservations\/incidents\/(\d+)"/g)].map((m) => m[1]);
    const secondIds = [...second.text.matchAll(/<th scope="row"><a href="\/reservations\/incidents\/(\d+)"/g)].map((m) => m[1]);
    expect(secondIds.filter((x) => firstIds.includes(x))).toEqual([]);
    expect(Math.max(...secondIds.map(Number))).toBeLessThan(Math.min(...firstIds.map(Number)));

    const mine = await page(referent, '/structures/college-a/inbox?assignee=me');
    expect([...mine.text.matchAll(/<th scope="row"><a href="\/reservations\/incidents\/(\d+)"/g)].map((m) => m[1])).toContain(id);
    expect(mine.text).toMatch(/<option value="me" selected>/);
    const unassigned = await page(referent, '/structures/college-a/inbox?assignee=none&status=taken');
    expect(unassigned.text).not.toContain(`/reservations/incidents/${id}"`);
    const byType = await page(referent, `/structures/college-a/inbox?typeId=${lists.typeIds[2]}&status=all`);
    expect(byType.text).toContain('Panne n° 60');
    expect(byType.text).not.toContain(`/reservations/incidents/${id}"`);
  });

  it('takes an incident in charge from the inbox in one click and comes back to it', async () => {
    const referent = await h.as('referent2');
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists);
    const res = await form(referent, `/incidents/${id}/transition`, { to: 'taken', version: 1, back: 'inbox' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/reservations/structures/college-a/inbox?done=taken&incident=${id}`);
    const inbox = await referent.get(res.headers.location, 'text/html');
    expect(plain(inbox.text)).toContain(`Vous avez pris en charge l'incident n° ${id}.`);
    expect((await h.db.knex('rsv_incidents').where({ id }).first()).assignee_id).toBe('u-referent2');
  });

  it('is closed to teachers (403) and to other schools (404); a bad cursor is a 400', async () => {
    const teacher = await h.as('enseignant');
    expect((await page(teacher, '/structures/college-a/inbox')).status).toBe(403);
    const referent = await h.as('referent1');
    expect((await page(referent, '/structures/college-b/inbox')).status).toBe(404);
    expect((await page(referent, '/structures/college-a/inbox?cursor=nope')).status).toBe(400);
  });
});

describe('my incidents', () => {
  it('lists the incidents I declared or follow, with their status and last change', async () => {
    const teacher = await h.as('enseignant2');
    const other = await schoolLists(h, 'college-b');
    const { id } = await declare(teacher, other, { description: 'Le TNI ne répond plus.' }, 'college-b');
    const referent = await h.as('referent-b');
    await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
    await referent.post(`/incidents/${id}/comments`, { text: 'Je passe à 10 h.' });
    const res = await page(teacher, '/incidents/mine');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`/reservations/incidents/${id}`);
    expect(res.text).toContain('Le TNI ne répond plus.');
    expect(res.text).toMatch(/<span class="badge status-taken">pris en charge<\/span>/);
    expect(res.text).toMatch(/<time datetime="[^"]+">[^<]+<\/time><br><span class="subtle">commentaire<\/span>/);
    expect(res.text).toContain('Dernier changement');
    // Nobody else's incidents.
    const ids = [...res.text.matchAll(/<th scope="row"><a href="\/reservations\/incidents\/(\d+)"/g)].map((m) => m[1]);
    const rows = await h.db.knex('rsv_incidents').whereIn('id', ids);
    expect(rows.every((r: { reporter_id: string }) => r.reporter_id === 'u-enseignant2')).toBe(true);
  });
});

describe('the lists of incident types and severities (school admin)', () => {
  it('adds, renames, reorders, retires and restores from the page; a retired value is no longer offered', async () => {
    const direction = await h.as('direction');
    const teacher = await h.as('enseignant');
    const listPage = await page(direction, '/structures/college-a/admin/incident-types');
    expect(listPage.status).toBe(200);
    expect(listPage.text).toContain('<caption>');
    expect(plain(listPage.text)).toContain('<label for="f-new-label">Nouveau type d\'incident</label>');
    const add = await form(direction, '/structures/college-a/admin/incident-types', { label: 'Tablettes' });
    expect(add.status).toBe(303);
    expect(add.headers.location).toBe('/reservations/structures/college-a/admin/incident-types?done=created');
    const row = await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a', label: 'Tablettes' }).first();
    expect((await form(direction, `/admin/incident-types/${row.id}/rename`, { label: 'Tablettes et chariots' })).status).toBe(303);
    expect((await form(direction, `/admin/incident-types/${row.id}/move`, { direction: 'up' })).status).toBe(303);
    const types = await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a' }).orderBy(['position', 'id']);
    const index = types.findIndex((t: { id: string }) => String(t.id) === String(row.id));
    expect(types[index].label).toBe('Tablettes et chariots');
    expect(index).toBe(types.length - 2);
    expect((await page(teacher, '/incidents/new?structure=college-a')).text).toContain('>Tablettes et chariots</label>');
    expect((await form(direction, `/admin/incident-types/${row.id}/retire`, {})).status).toBe(303);
    expect((await page(teacher, '/incidents/new?structure=college-a')).text).not.toContain('Tablettes et chariots');
    const duplicate = await form(direction, '/structures/college-a/admin/incident-types', { label: 'TNI' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.text).toContain('existe déjà');
    expect((await form(direction, `/admin/incident-types/${row.id}/restore`, {})).status).toBe(303);
    expect((await page(direction, '/structures/college-a/admin/severities')).status).toBe(200);
    expect((await page(teacher, '/structures/college-a/admin/severities')).status).toBe(403);
    const otherType = (await schoolLists(h, 'college-b')).typeIds[0];
    expect((await form(direction, `/admin/incident-types/${otherType}/retire`, {})).status).toBe(404);
  });
});
