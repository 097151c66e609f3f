import { startTestHost, TestHost } from '../helpers/host';
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

const count = async (table: string) => Number((await h.db.knex(table).count('* as n'))[0]!.n);

describe('a teacher declares an incident', () => {
  it('gets 201 with the incident number and status new, and the history says who created it', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/incidents', {
      equipmentId: lists.equipmentId,
      typeId: lists.typeIds[0],
      severityId: lists.severityIds[0],
      description: 'Le vidéoprojecteur de la salle 12 ne s’allume plus.\nLe voyant clignote en rouge.',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'new', statusLabel: 'nouveau', level: 0, domain: null, reporterId: 'u-enseignant', assigneeId: null, version: 1 });
    expect(res.body.id).toMatch(/^\d+$/);
    expect(res.body.equipment.name).toMatch(/^Vidéoprojecteur/);
    expect(res.headers.location).toBe(`/reservations/api/v1/incidents/${res.body.id}`);
    const detail = await teacher.get(`/incidents/${res.body.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.description).toBe('Le vidéoprojecteur de la salle 12 ne s’allume plus.\nLe voyant clignote en rouge.');
    expect(detail.body.events).toHaveLength(1);
    expect(detail.body.events[0]).toMatchObject({ kind: 'created', toStatus: 'new', actor: { id: 'u-enseignant', displayName: 'Claire Martin' } });
    expect(detail.body.can).toMatchObject({ moves: [], comment: true, assign: false, escalate: [] });
  });

  it('may declare on a room, and on the wifi, the website or the ENT', async () => {
    const teacher = await h.as('enseignant');
    const wifi = await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'wifi' }).first('id');
    for (const equipmentId of [lists.roomId, String(wifi.id)]) {
      expect((await teacher.post('/structures/college-a/incidents', { equipmentId, typeId: lists.typeIds[1], severityId: lists.severityIds[1], description: 'Rien ne marche.' })).status).toBe(201);
    }
  });

  it('accepts ids as JSON numbers, a tab and CRLF line breaks (stored as LF)', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/incidents', {
      equipmentId: Number(lists.equipmentId),
      typeId: Number(lists.typeIds[0]),
      severityId: Number(lists.severityIds[0]),
      description: '  Colonne\tvaleur\r\nligne 2  ',
    });
    expect(res.status).toBe(201);
    expect(res.body.description).toBe('Colonne\tvaleur\nligne 2');
  });

  it('always creates a new incident, even on an equipment with an open one', async () => {
    const teacher = await h.as('enseignant');
    const a = await declare(teacher, lists);
    const b = await declare(teacher, lists);
    expect(Number(b.id)).toBeGreaterThan(Number(a.id));
  });
});

describe('bad input gets a 400 naming the field, and nothing is stored', () => {
  const cases: Array<[string, () => Record<string, unknown>, string]> = [
    ['an unknown type', () => ({ typeId: '999999' }), 'typeId'],
    ['an unknown severity', () => ({ severityId: '999999' }), 'severityId'],
    ['an unknown equipment', () => ({ equipmentId: '999999' }), 'equipmentId'],
    ['a type that is not an id', () => ({ typeId: 'abc' }), 'typeId'],
    ['an empty description', () => ({ description: '' }), 'description'],
    ['a blank description', () => ({ description: ' \n\t ' }), 'description'],
    ['a description of 5,001 characters', () => ({ description: 'x'.repeat(5001) }), 'description'],
    ['a description of 100 KB', () => ({ description: 'x'.repeat(100_000) }), 'description'],
    ['a NUL character', () => ({ description: 'panne\u0000' }), 'description'],
    ['an escape character', () => ({ description: 'panne \u001b[31m rouge' }), 'description'],
    ['a vertical tab', () => ({ description: 'panne\u000bici' }), 'description'],
    ['a C1 control', () => ({ description: 'panne\u0085ici' }), 'description'],
    ['no description', () => ({ description: undefined }), 'description'],
    ['an unknown field', () => ({ priority: 'high' }), 'priority'],
  ];

  it.each(cases)('%s', async (_what, overrides, field) => {
    const teacher = await h.as('enseignant');
    const before = [await count('rsv_incidents'), await count('rsv_incident_events')];
    const res = await teacher.post('/structures/college-a/incidents', {
      equipmentId: lists.equipmentId,
      typeId: lists.typeIds[0],
      severityId: lists.severityIds[0],
      description: 'Panne.',
      ...overrides(),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_input');
    expect(res.body.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(res.body.message).toContain(field);
    expect([await count('rsv_incidents'), await count('rsv_incident_events')]).toEqual(before);
  });

  it('a retired type, a retired severity or a retired equipment', async () => {
    const knex = h.db.knex;
    const type = await knex('rsv_incident_types').insert({ structure_id: 'college-a', label: 'Ancien type', retired_at: knex.fn.now() }).returning('id');
    const severity = await knex('rsv_severities').insert({ structure_id: 'college-a', label: 'Ancienne nature', retired_at: knex.fn.now() }).returning('id');
    const e = await knex('rsv_equipment').where({ id: lists.equipmentId }).first();
    const retired = await knex('rsv_equipment')
      .insert({ structure_id: 'college-a', type_id: e.type_id, name: 'Vieux projecteur', responsible_id: e.responsible_id, retired_at: knex.fn.now() })
      .returning('id');
    const teacher = await h.as('enseignant');
    const before = await count('rsv_incidents');
    const cases: Array<[Record<string, string>, string]> = [
      [{ typeId: String(type[0].id) }, 'typeId'],
      [{ severityId: String(severity[0].id) }, 'severityId'],
      [{ equipmentId: String(retired[0].id) }, 'equipmentId'],
    ];
    for (const [overrides, field] of cases) {
      const res = await teacher.post('/structures/college-a/incidents', { equipmentId: lists.equipmentId, typeId: lists.typeIds[0], severityId: lists.severityIds[0], description: 'Panne.', ...overrides });
      expect(res.status).toBe(400);
      expect(res.body.details.fields).toEqual([{ field, message: expect.any(String) }]);
    }
    expect(await count('rsv_incidents')).toBe(before);
  });

  it("another school's equipment, type or severity", async () => {
    const other = await schoolLists(h, 'college-b');
    const teacher = await h.as('enseignant');
    const before = await count('rsv_incidents');
    const res = await teacher.post('/structures/college-a/incidents', { equipmentId: other.equipmentId, typeId: other.typeIds[0], severityId: other.severityIds[0], description: 'Panne.' });
    expect(res.status).toBe(400);
    expect(res.body.details.fields.map((f: { field: string }) => f.field).sort()).toEqual(['equipmentId', 'severityId', 'typeId']);
    expect(await count('rsv_incidents')).toBe(before);
  });

  it('a body over the size limit answers 413, nothing stored', async () => {
    const teacher = await h.as('enseignant');
    const before = await count('rsv_incidents');
    const res = await teacher.post('/structures/college-a/incidents', { equipmentId: lists.equipmentId, typeId: lists.typeIds[0], severityId: lists.severityIds[0], description: 'x'.repeat(200_000) });
    expect(res.status).toBe(413);
    expect(await count('rsv_incidents')).toBe(before);
  });
});

describe('rights', () => {
  it('a teacher cannot move an incident (403), nor assign or escalate it', async () => {
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists);
    for (const to of ['taken', 'in_progress', 'dismissed', 'closed']) {
      const res = await teacher.post(`/incidents/${id}/transitions`, { to });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden');
    }
    expect((await teacher.post(`/incidents/${id}/assign`, { assigneeId: 'u-referent1' })).status).toBe(403);
    expect((await teacher.post(`/incidents/${id}/escalate`, { level: 1, domain: 'technical' })).status).toBe(403);
    expect((await teacher.get(`/incidents/${id}/report`)).status).toBe(403);
    const events = await h.db.knex('rsv_incident_events').where({ incident_id: id });
    expect(events.map((e: { kind: string }) => e.kind)).toEqual(['created']);
  });

  it("a referent of college-a gets 404 on an incident of college-b, for every route", async () => {
    const other = await schoolLists(h, 'college-b');
    const teacherB = await h.as('enseignant2');
    const { id } = await declare(teacherB, other, {}, 'college-b');
    const referent = await h.as('referent1');
    const responses = [
      await referent.get(`/incidents/${id}`),
      await referent.post(`/incidents/${id}/transitions`, { to: 'taken' }),
      await referent.post(`/incidents/${id}/comments`, { text: 'Je regarde.' }),
      await referent.post(`/incidents/${id}/follow`),
      await referent.post(`/incidents/${id}/assign`, { assigneeId: 'u-referent1' }),
      await referent.post(`/incidents/${id}/escalate`, { level: 1, domain: 'technical' }),
      await referent.get(`/incidents/${id}/report`),
      await referent.get('/structures/college-b/incidents'),
      await referent.post('/structures/college-b/incidents', { equipmentId: other.equipmentId, typeId: other.typeIds[0], severityId: other.severityIds[0], description: 'x' }),
    ];
    expect(responses.map((r) => r.status)).toEqual(Array(responses.length).fill(404));
    expect(responses[0]!.body).toEqual({ error: 'not_found', message: 'Introuvable.' });
    // The referent of college-b does see it.
    expect((await (await h.as('referent-b')).get(`/incidents/${id}`)).status).toBe(200);
  });

  it('a pupil or a parent may neither declare nor read (403)', async () => {
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists);
    for (const login of ['eleve', 'parent']) {
      const client = await h.as(login);
      expect((await client.post('/structures/college-a/incidents', { equipmentId: lists.equipmentId, typeId: lists.typeIds[0], severityId: lists.severityIds[0], description: 'x' })).status).toBe(403);
      expect((await client.get(`/incidents/${id}`)).status).toBe(403);
    }
  });

  it('the inbox is for managers; a declarer lists their own (mine=1) or the open incidents of one equipment', async () => {
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/structures/college-a/incidents')).status).toBe(403);
    const mine = await teacher.get('/structures/college-a/incidents?mine=1');
    expect(mine.status).toBe(200);
    expect(mine.body.items.length).toBeGreaterThan(0);
    expect(mine.body.items.every((i: { reporterId: string }) => i.reporterId === 'u-enseignant')).toBe(true);
    const onEquipment = await teacher.get(`/structures/college-a/incidents?equipmentId=${lists.equipmentId}&status=closed`);
    expect(onEquipment.status).toBe(200);
    expect(onEquipment.body.items).toEqual([]);
    const open = await teacher.get(`/structures/college-a/incidents?equipmentId=${lists.equipmentId}`);
    expect(open.body.items.every((i: { status: string }) => ['new', 'taken', 'in_progress'].includes(i.status))).toBe(true);
  });

  it('the service switched off in a school hides its incidents (404)', async () => {
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists);
    await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ incidents_enabled: false });
    try {
      expect((await teacher.get(`/incidents/${id}`)).status).toBe(404);
      expect((await teacher.post('/structures/college-a/incidents', { equipmentId: lists.equipmentId, typeId: lists.typeIds[0], severityId: lists.severityIds[0], description: 'x' })).status).toBe(404);
    } finally {
      await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ incidents_enabled: true });
    }
  });

  it('a mutation without the CSRF token is refused (403) and stores nothing', async () => {
    const teacher = await h.as('enseignant');
    const before = await count('rsv_incidents');
    const res = await teacher.postWithoutCsrf('/structures/college-a/incidents', { equipmentId: lists.equipmentId, typeId: lists.typeIds[0], severityId: lists.severityIds[0], description: 'x' });
    expect(res.status).toBe(403);
    expect(await count('rsv_incidents')).toBe(before);
  });
});

describe('the reporter, comments and "me too"', () => {
  it('the reporter comments on their own incident; another teacher may not until they say "me too"', async () => {
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists);
    const comment = await teacher.post(`/incidents/${id}/comments`, { text: 'Toujours en panne ce matin.' });
    expect(comment.status).toBe(201);
    expect(comment.body).toMatchObject({ kind: 'comment', comment: 'Toujours en panne ce matin.', actor: { id: 'u-enseignant' } });

    const direction = await h.as('direction'); // a declarer who is not concerned
    expect((await direction.post(`/incidents/${id}/comments`, { text: 'Moi aussi' })).status).toBe(403);
    const follow = await direction.post(`/incidents/${id}/follow`);
    expect(follow.status).toBe(200);
    expect(follow.body).toEqual({ incidentId: id, following: true, added: true });
    // Idempotent: no second follower, no second event.
    expect((await direction.post(`/incidents/${id}/follow`)).body.added).toBe(false);
    expect((await direction.post(`/incidents/${id}/comments`, { text: 'Même chose en salle 14.' })).status).toBe(201);

    const detail = await teacher.get(`/incidents/${id}`);
    expect(detail.body.events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'comment', 'follower_added', 'comment']);
    expect(detail.body.followers).toBe(1);
    const asFollower = await direction.get(`/incidents/${id}`);
    expect(asFollower.body.following).toBe(true);
    const mine = await direction.get('/structures/college-a/incidents?mine=1');
    expect(mine.body.items.map((i: { id: string }) => i.id)).toContain(id);
  });

  it('a bad comment is a 400 naming text; "me too" on a closed incident is refused (422)', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const bad = await teacher.post(`/incidents/${id}/comments`, { text: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields[0].field).toBe('text');
    await bringTo(referent, id, 'closed');
    const direction = await h.as('direction');
    const res = await direction.post(`/incidents/${id}/follow`);
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('incident_resolved');
  });

  it('the reporter reopens their closed incident within 30 days, not after; a referent always can', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    await bringTo(referent, id, 'closed');
    const reopened = await teacher.post(`/incidents/${id}/transitions`, { to: 'in_progress', comment: 'Le problème est revenu.' });
    expect(reopened.status).toBe(200);
    expect(reopened.body).toMatchObject({ status: 'in_progress', resolvedAt: null });

    await referent.post(`/incidents/${id}/transitions`, { to: 'closed' });
    await h.db.knex('rsv_incidents').where({ id }).update({ resolved_at: h.db.knex.raw("now() - interval '31 days'") });
    const late = await teacher.post(`/incidents/${id}/transitions`, { to: 'in_progress' });
    expect(late.status).toBe(422);
    expect(late.body.error).toBe('reopen_window_passed');
    expect(late.body.message).toContain('30');
    // The school may give more time.
    await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ reopen_days: 60 });
    try {
      expect((await teacher.post(`/incidents/${id}/transitions`, { to: 'in_progress' })).status).toBe(200);
    } finally {
      await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ reopen_days: 30 });
    }
    // A dismissed incident is not the reporter's to reopen.
    await referent.post(`/incidents/${id}/transitions`, { to: 'dismissed' });
    expect((await teacher.post(`/incidents/${id}/transitions`, { to: 'in_progress' })).status).toBe(403);
  });
});

describe('a referent handles an incident', () => {
  it('takes it in charge in one move: status taken, assigned to them, taken_at set, two events', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const res = await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'taken', assigneeId: 'u-referent1', assignee: { displayName: 'Karim Benali' }, version: 2 });
    expect(res.body.takenAt).not.toBeNull();
    const detail = await referent.get(`/incidents/${id}`);
    expect(detail.body.events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'status_changed', 'assigned']);
    expect(detail.body.events[1]).toMatchObject({ fromStatus: 'new', toStatus: 'taken', fromStatusLabel: 'nouveau', toStatusLabel: 'pris en charge' });
    expect(detail.body.can.moves).toEqual(['in_progress', 'dismissed', 'closed']);
  });

  it('assigns it to a fellow referent, or to nobody; not to a teacher nor to a stranger', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const ok = await referent.post(`/incidents/${id}/assign`, { assigneeId: 'u-referent2' });
    expect(ok.status).toBe(200);
    expect(ok.body.assignee).toEqual({ id: 'u-referent2', login: 'referent2', displayName: 'Sophie Leroy' });
    for (const assigneeId of ['u-enseignant', 'u-referent-b', 'u-nobody']) {
      const res = await referent.post(`/incidents/${id}/assign`, { assigneeId });
      expect(res.status).toBe(400);
      expect(res.body.details.fields[0].field).toBe('assigneeId');
    }
    // Whoever holds incident.manage may be assigned too (here: granted to the direction's profile).
    const none = await referent.post(`/incidents/${id}/assign`, { assigneeId: null });
    expect(none.body.assigneeId).toBeNull();
    const events = await referent.get(`/incidents/${id}`);
    const assigned = events.body.events.filter((e: { kind: string }) => e.kind === 'assigned');
    expect(assigned.map((e: { data: { to: { id: string } | null } }) => e.data.to?.id ?? null)).toEqual(['u-referent2', null]);
  });

  it('a holder of incident.manage who is not a delegate may be assigned', async () => {
    const referent = await h.as('referent1');
    const teacher = await h.as('enseignant');
    const { id } = await declare(teacher, lists);
    await h.db.knex('host_grants').insert({ structure_id: 'college-a', action: 'incident.manage', subject_kind: 'profile', subject_id: 'AdminLocal' });
    try {
      const res = await referent.post(`/incidents/${id}/assign`, { assigneeId: 'u-direction' });
      expect(res.status).toBe(200);
    } finally {
      await h.db.knex('host_grants').where({ structure_id: 'college-a', action: 'incident.manage', subject_kind: 'profile', subject_id: 'AdminLocal' }).delete();
    }
  });

  it('escalates level by level with a domain, and refuses going down, no domain, or a resolved incident', async () => {
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const { id } = await declare(teacher, lists);
    const noDomain = await referent.post(`/incidents/${id}/escalate`, { level: 1 });
    expect(noDomain.status).toBe(400);
    expect(noDomain.body.details.fields[0].field).toBe('domain');
    const badDomain = await referent.post(`/incidents/${id}/escalate`, { level: 1, domain: 'magic' });
    expect(badDomain.status).toBe(400);
    expect((await referent.post(`/incidents/${id}/escalate`, { level: 4, domain: 'technical' })).status).toBe(400);
    const one = await referent.post(`/incidents/${id}/escalate`, { level: 1, domain: 'technical' });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ level: 1, domain: 'technical' });
    const two = await referent.post(`/incidents/${id}/escalate`, { level: 2 });
    expect(two.body).toMatchObject({ level: 2, domain: 'technical' });
    const down = await referent.post(`/incidents/${id}/escalate`, { level: 1, domain: 'technical' });
    expect(down.status).toBe(422);
    expect(down.body.error).toBe('escalation_refused');
    const three = await referent.post(`/incidents/${id}/escalate`, { level: 3, domain: 'functional', comment: 'Bug de l’ENT : à remonter.' });
    expect(three.body).toMatchObject({ level: 3, domain: 'functional' });
    const events = (await referent.get(`/incidents/${id}`)).body.events.filter((e: { kind: string }) => e.kind === 'escalated');
    expect(events.map((e: { data: { toLevel: number } }) => e.data.toLevel)).toEqual([1, 2, 3]);
    expect(events[2].data).toEqual({ fromLevel: 2, toLevel: 3, fromDomain: 'technical', toDomain: 'functional' });
    await bringTo(referent, id, 'closed');
    expect((await referent.post(`/incidents/${id}/escalate`, { level: 3, domain: 'technical' })).status).toBe(422);
  });
});

describe('the level-3 report for the ENT editor', () => {
  it('has the incident and its history, with pupils and parents named by their profile only', async () => {
    const referent = await h.as('referent1');
    // The school lets pupils and parents declare, so that their names could appear.
    await h.db.knex('host_grants').insert([
      { structure_id: 'college-a', action: 'incident.declare', subject_kind: 'profile', subject_id: 'Student' },
      { structure_id: 'college-a', action: 'incident.declare', subject_kind: 'profile', subject_id: 'Relative' },
    ]);
    try {
      const pupil = await h.as('eleve');
      const parent = await h.as('parent');
      const { id } = await declare(pupil, lists, { description: 'Le wifi ne marche pas au CDI.' });
      await pupil.post(`/incidents/${id}/comments`, { text: 'Depuis lundi.' });
      expect((await parent.post(`/incidents/${id}/follow`)).status).toBe(200);
      await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
      await referent.post(`/incidents/${id}/escalate`, { level: 3, domain: 'technical', comment: 'Panne côté ENT.' });

      const json = await referent.get(`/incidents/${id}/report`);
      expect(json.status).toBe(200);
      expect(json.body.incident).toMatchObject({ number: id, level: 3, domain: 'technical', reporter: { profile: 'Élève' }, assignee: { name: 'Karim Benali', profile: 'Enseignant' }, followers: 1 });
      expect(json.body.history.map((e: { kind: string }) => e.kind)).toEqual(['created', 'comment', 'follower_added', 'status_changed', 'assigned', 'escalated']);
      expect(json.body.history[2].actor).toEqual({ profile: "Parent d'élève" });
      const text = await referent.get(`/incidents/${id}/report?format=text`, 'text/plain');
      expect(text.status).toBe(200);
      expect(text.headers['content-type']).toMatch(/^text\/plain/);
      expect(text.text).toContain(`Rapport d'incident n° ${id}`);
      expect(text.text).toContain('Le wifi ne marche pas au CDI.');
      expect(text.text).toContain('Panne côté ENT.');
      for (const body of [JSON.stringify(json.body), text.text]) {
        for (const secret of ['Lucas', 'Petit', 'Nadia', 'eleve', 'u-parent', 'u-eleve', '@']) expect(body).not.toContain(secret);
      }
    } finally {
      await h.db.knex('host_grants').where({ structure_id: 'college-a', action: 'incident.declare' }).whereIn('subject_id', ['Student', 'Relative']).delete();
    }
  });
});

describe('incident types and severities', () => {
  it('lists them in order with their labels', async () => {
    const teacher = await h.as('enseignant');
    const types = await teacher.get('/structures/college-a/incident-types');
    expect(types.status).toBe(200);
    expect(types.body.slice(0, 5).map((v: { label: string }) => v.label)).toEqual(['Logiciels', 'Matériels', 'Connexion internet', 'TNI', 'Wifi']);
    const severities = await teacher.get('/structures/college-a/severities');
    expect(severities.body.slice(0, 5).map((v: { label: string }) => v.label)).toEqual(['Dysfonctionnement', 'Installation', 'Mise à jour', 'Réparation', 'Changement']);
  });

  it('the school admin creates, renames, reorders and retires; a retired value stays on old incidents and is not offered', async () => {
    const direction = await h.as('direction');
    const teacher = await h.as('enseignant');
    const created = await direction.post('/structures/college-a/incident-types', { label: 'Imprimantes' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ label: 'Imprimantes', retired: false, seeded: false });
    const typeId = created.body.id;
    expect((await direction.post('/structures/college-a/incident-types', { label: 'imprimantes' })).status).toBe(409);
    expect((await direction.post('/structures/college-a/incident-types', { label: '' })).status).toBe(400);

    const renamed = await direction.put(`/incident-types/${typeId}`, { label: 'Imprimantes et copieurs' });
    expect(renamed.body.label).toBe('Imprimantes et copieurs');
    // A seeded value is renamed too (its label replaces the locale's).
    const seeded = lists.typeIds[0]!;
    expect((await direction.put(`/incident-types/${seeded}`, { label: 'Logiciels et applications' })).body.label).toBe('Logiciels et applications');

    const reordered = await direction.put('/structures/college-a/incident-types/order', { ids: [typeId] });
    expect(reordered.status).toBe(200);
    expect(reordered.body[0].id).toBe(typeId);
    expect((await direction.put('/structures/college-a/incident-types/order', { ids: ['999999'] })).status).toBe(400);

    const { id } = await declare(teacher, lists, { typeId });
    const retired = await direction.put(`/incident-types/${typeId}`, { retired: true });
    expect(retired.body.retired).toBe(true);
    const offered = await teacher.get('/structures/college-a/incident-types');
    expect(offered.body.map((v: { id: string }) => v.id)).not.toContain(typeId);
    const all = await teacher.get('/structures/college-a/incident-types?includeRetired=1');
    expect(all.body.find((v: { id: string }) => v.id === typeId)).toMatchObject({ retired: true });
    const old = await teacher.get(`/incidents/${id}`);
    expect(old.body.type).toEqual({ id: typeId, label: 'Imprimantes et copieurs', retired: true });
    const refused = await teacher.post('/structures/college-a/incidents', { equipmentId: lists.equipmentId, typeId, severityId: lists.severityIds[0], description: 'x' });
    expect(refused.status).toBe(400);
    expect((await direction.put(`/incident-types/${typeId}`, { retired: false })).body.retired).toBe(false);
  });

  it('severities have the same routes; a teacher may not change them; another school\'s are 404', async () => {
    const direction = await h.as('direction');
    const teacher = await h.as('enseignant');
    expect((await direction.post('/structures/college-a/severities', { label: 'Prêt de matériel' })).status).toBe(201);
    expect((await teacher.post('/structures/college-a/severities', { label: 'Urgent' })).status).toBe(403);
    const other = await schoolLists(h, 'college-b');
    expect((await direction.put(`/severities/${other.severityIds[0]}`, { label: 'Piraté' })).status).toBe(404);
    expect((await direction.put(`/severities/${lists.severityIds[0]}`, {})).status).toBe(400);
    expect((await direction.post('/structures/college-a/severities', { label: 'a\nb' })).status).toBe(400);
  });
});
