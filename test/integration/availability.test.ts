import { startTestHost, TestHost } from '../helpers/host';
import { waitForMails, settle, address } from '../helpers/mail';

let h: TestHost;
let room: string;
beforeAll(async () => {
  h = await startTestHost();
  room = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-room-info' }).first()).id);
});
afterAll(async () => {
  await h.stop();
});

describe('maintenance windows', () => {
  it('a window over two existing bookings lists both and mails both owners; a booking inside it is refused', async () => {
    const teacher = await h.as('enseignant');
    const colleague = await h.as('direction');
    const a = await teacher.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-06-04T09:00', endsAt: '2030-06-04T10:00', reason: 'Technologie 3e' });
    const b = await colleague.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-06-04T14:00', endsAt: '2030-06-04T15:00', reason: 'Conseil pédagogique' });
    expect([a.status, b.status]).toEqual([201, 201]);
    const referent = await h.as('referent1');
    const res = await referent.post('/structures/college-a/unavailabilities', { equipmentId: room, startsAt: '2030-06-04T08:00', endsAt: '2030-06-04T18:00', reason: 'Remplacement des postes' });
    expect(res.status).toBe(201);
    expect(res.body.affectedBookings.map((x: { id: string }) => x.id).sort()).toEqual([a.body.id, b.body.id].sort());
    expect(res.body.affectedBookings.find((x: { id: string }) => x.id === a.body.id).ownerId).toBe('u-enseignant');
    const mails = await waitForMails(h, (m) => m.subject.startsWith('Indisponible : Salle informatique'), 2);
    await settle();
    expect(mails.map((m) => m.to[0]).sort()).toEqual([address('direction'), address('enseignant')].sort());
    expect(mails[0]!.text).toContain('Réserver une autre salle du même type');

    const refused = await teacher.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-06-04T11:00', endsAt: '2030-06-04T12:00' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'unavailable', details: { unavailabilityId: res.body.id } });
    expect(refused.body.message).toContain('Remplacement des postes');

    const list = await teacher.get(`/structures/college-a/unavailabilities?equipmentId=${room}`);
    expect(list.body.map((w: { id: string }) => w.id)).toContain(res.body.id);
    expect((await teacher.delete(`/unavailabilities/${res.body.id}`)).status).toBe(403);
    expect((await referent.delete(`/unavailabilities/${res.body.id}`)).status).toBe(204);
    expect((await teacher.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-06-04T11:00', endsAt: '2030-06-04T12:00' })).status).toBe(201);
  });

  it('windows can be weekly, like bookings', async () => {
    const admin = await h.as('direction');
    const res = await admin.post('/structures/college-a/unavailabilities', { equipmentId: room, startsAt: '2030-09-02T08:00', endsAt: '2030-09-02T10:00', reason: 'Examens blancs', recurrence: { weekly: true, until: '2030-09-23' } });
    expect(res.status).toBe(201);
    expect(res.body.windows).toHaveLength(4);
    const teacher = await h.as('enseignant');
    const refused = await teacher.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-09-16T09:00', endsAt: '2030-09-16T11:00' });
    expect(refused.body.error).toBe('unavailable');
    const planning = await teacher.get(`/reservations/structures/college-a/planning?week=2030-W38&equipmentId=${room}`, 'text/html');
    expect(planning.text).toMatch(/class="slot booked unavailable[^"]*"[\s\S]*08:00–10:00[\s\S]*maintenance[\s\S]*Examens blancs/);
  });

  it('refuses bad input and other schools', async () => {
    const referent = await h.as('referent1');
    const bad = await referent.post('/structures/college-a/unavailabilities', { equipmentId: room, startsAt: '2030-06-05T10:00', endsAt: '2030-06-05T09:00' });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields[0].field).toBe('endsAt');
    const other = await h.as('referent-b');
    expect((await other.post('/structures/college-a/unavailabilities', { equipmentId: room, startsAt: '2030-06-05T08:00', endsAt: '2030-06-05T09:00' })).status).toBe(404);
    const roomB = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-room-b1' }).first()).id);
    const cross = await referent.post('/structures/college-a/unavailabilities', { equipmentId: roomB, startsAt: '2030-06-05T08:00', endsAt: '2030-06-05T09:00' });
    expect(cross.status).toBe(400);
  });
});

describe('equipment out of service', () => {
  it('declared out of service: the owner of a coming booking gets one mail, new bookings get 409; closed: back in service, one more mail', async () => {
    const k = h.db.knex;
    const room14 = String((await k('rsv_equipment').where({ seed_code: 'demo-room-14' }).first()).id);
    const soon = new Date(Date.now() + 2 * 86400000);
    const day = soon.toISOString().slice(0, 10);
    const owner = await h.as('direction');
    const booked = await owner.post('/structures/college-a/bookings', { equipmentId: room14, startsAt: `${day}T10:00`, endsAt: `${day}T11:00`, reason: 'Réunion parents' });
    expect(booked.status).toBe(201);
    const teacher = await h.as('enseignant');
    const typeId = String((await k('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id);
    const severityId = String((await k('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id);
    const declared = await teacher.post('/structures/college-a/incidents', { equipmentId: room14, typeId, severityId, description: 'Fuite d’eau au plafond, salle inutilisable.', outOfService: true });
    expect(declared.status).toBe(201);
    const incidentId = String(declared.body.id);

    const out = await waitForMails(h, (m) => m.subject === 'Hors service : Salle 14', 1);
    await settle();
    expect((await h.mailCatcher.list(1000)).filter((m) => m.subject === 'Hors service : Salle 14')).toHaveLength(1);
    expect(out[0]!.to).toEqual([address('direction')]);
    expect(out[0]!.text).toContain('10:00');
    expect(out[0]!.text).toContain('/planning?typeId=');

    const refused = await teacher.post('/structures/college-a/bookings', { equipmentId: room14, startsAt: '2030-07-01T10:00', endsAt: '2030-07-01T11:00' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'out_of_service', details: { incidentId } });
    expect(refused.body.message).toContain(`n° ${incidentId}`);
    const listed = (await teacher.get('/structures/college-a/equipment?purpose=booking')).body.find((e: { id: string }) => e.id === room14);
    expect(listed).toMatchObject({ inService: false, outOfServiceIncidentId: incidentId });
    expect((await teacher.get(`/reservations/structures/college-a/planning?equipmentId=${room14}`, 'text/html')).text).toContain('Hors service');

    const referent = await h.as('referent1');
    expect((await referent.post(`/incidents/${incidentId}/transitions`, { to: 'closed' })).status).toBe(200);
    const back = await waitForMails(h, (m) => m.subject === 'De nouveau en service : Salle 14', 1);
    await settle();
    expect((await h.mailCatcher.list(1000)).filter((m) => m.subject === 'De nouveau en service : Salle 14')).toHaveLength(1);
    expect(back[0]!.to).toEqual([address('direction')]);
    expect((await teacher.post('/structures/college-a/bookings', { equipmentId: room14, startsAt: '2030-07-01T10:00', endsAt: '2030-07-01T11:00' })).status).toBe(201);
    expect((await teacher.get('/structures/college-a/equipment?purpose=booking')).body.find((e: { id: string }) => e.id === room14).inService).toBe(true);
  });
});

describe('the maintenance windows page, without JavaScript', () => {
  it('a referent blocks a room from the form, sees it listed, and removes it; a teacher may not', async () => {
    const referent = await h.as('referent2');
    const request = (await import('supertest')).default;
    const post = (path: string, body: Record<string, string>) => request(h.app).post(path).set('Cookie', referent.cookie).type('form').send({ _csrf: referent.csrf, ...body });
    const bad = await post('/reservations/structures/college-a/unavailabilities', { equipmentId: room, date: '2031-03-04', start: '10:00', end: '09:00', reason: '' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('href="#w-end"');
    const ok = await post('/reservations/structures/college-a/unavailabilities', { equipmentId: room, date: '2031-03-04', start: '08:00', end: '12:00', reason: 'Câblage réseau', repeat: 'on', until: '2031-03-11' });
    expect(ok.status).toBe(303);
    const page = await referent.get(ok.headers.location, 'text/html');
    expect(page.text).toContain('Indisponibilité enregistrée');
    expect(page.text).toContain('Câblage réseau');
    const rows = await h.db.knex('rsv_unavailabilities').where({ reason: 'Câblage réseau' });
    expect(rows).toHaveLength(2);
    expect((await post(`/reservations/unavailabilities/${rows[0].id}/delete`, {})).status).toBe(303);
    expect(await h.db.knex('rsv_unavailabilities').where({ reason: 'Câblage réseau' })).toHaveLength(1);
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/reservations/structures/college-a/unavailabilities', 'text/html')).status).toBe(403);
  });
});
