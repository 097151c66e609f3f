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
