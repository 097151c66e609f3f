import { startTestHost, TestHost } from '../helpers/host';
import { waitForMails, settle, mailbox, address } from '../helpers/mail';

let h: TestHost;
let tablets: string;
let room: string;
beforeAll(async () => {
  h = await startTestHost();
  tablets = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-tablets' }).first()).id);
  room = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-room-12' }).first()).id);
});
afterAll(async () => {
  await h.stop();
});

const to = (addr: string) => (m: { to: string[] }) => m.to.includes(addr);

describe('booking mails', () => {
  it('a request that needs validation mails the teacher and the shared mailbox; the decision mails the teacher', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: tablets, startsAt: '2030-01-08T10:00', endsAt: '2030-01-08T11:00', reason: 'Sortie 5e' });
    expect(res.status).toBe(201);
    const first = await waitForMails(h, (m) => m.subject.includes('Réservation à valider'), 2);
    expect(first.map((m) => m.to[0]).sort()).toEqual([address('enseignant'), mailbox('college-a')].sort());
    expect(first[0]!.text).toContain('Chariot de tablettes');
    expect(first[0]!.text).toContain('/reservations/structures/college-a/bookings/pending');
    const referent = await h.as('referent1');
    expect((await referent.post(`/bookings/${res.body.id}/refuse`, { reason: 'Chariot prêté au CDI' })).status).toBe(200);
    const refused = await waitForMails(h, (m) => m.subject.includes('Réservation refusée'), 1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.to).toEqual([address('enseignant')]);
    expect(refused[0]!.text).toContain('Chariot prêté au CDI');
    expect(refused[0]!.text).toContain('Karim Benali a refusé');
  });

  it("cancelling someone else's booking mails its owner; cancelling one's own mails nobody", async () => {
    const teacher = await h.as('enseignant');
    const a = await teacher.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-01-09T10:00', endsAt: '2030-01-09T11:00' });
    const b = await teacher.post('/structures/college-a/bookings', { equipmentId: room, startsAt: '2030-01-09T14:00', endsAt: '2030-01-09T15:00' });
    expect((await teacher.post(`/bookings/${a.body.id}/cancel`, {})).status).toBe(200);
    const referent = await h.as('referent2');
    expect((await referent.post(`/bookings/${b.body.id}/cancel`, {})).status).toBe(200);
    const cancelled = await waitForMails(h, (m) => m.subject.includes('Réservation annulée'), 1);
    await settle();
    const all = (await h.mailCatcher.list(1000)).filter((m) => m.subject.includes('Réservation annulée'));
    expect(all).toHaveLength(1);
    expect(cancelled[0]!.to).toEqual([address('enseignant')]);
    expect(cancelled[0]!.text).toContain('14:00');
  });

  it('speaks the language of each recipient', async () => {
    await h.db.knex('host_users').where({ login: 'enseignant2' }).update({ language: 'en' });
    const teacher = await h.as('enseignant2');
    const roomB = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-room-b1' }).first()).id);
    const own = await teacher.post('/structures/college-b/bookings', { equipmentId: roomB, startsAt: '2030-01-10T10:00', endsAt: '2030-01-10T11:00' });
    const referent = await h.as('referent-b');
    await referent.post(`/bookings/${own.body.id}/cancel`, {});
    const [mail] = await waitForMails(h, to(address('enseignant2', 'college-b')), 1);
    expect(mail!.subject).toMatch(/^Booking cancelled: Salle B1/);
    expect(mail!.text).toContain('Marc Girard cancelled your booking');
  });
});

describe('a mail server that is down', () => {
  it('delays mail without failing or slowing requests, then delivers each mail exactly once', async () => {
    const port = h.mailCatcher.port;
    await h.mailCatcher.stop();
    const teacher = await h.as('enseignant');
    const referent = await h.as('referent1');
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await teacher.post('/structures/college-a/bookings', { equipmentId: tablets, startsAt: `2030-02-0${i + 1}T10:00`, endsAt: `2030-02-0${i + 1}T11:00`, reason: `panne smtp ${i}` });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    for (const id of ids) expect((await referent.post(`/bookings/${id}/validate`, {})).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
    await settle(2500);
    const pending = await h.db.knex('rsv_deliveries').where({ status: 'pending' }).count({ n: '*' });
    expect(Number(pending[0]!.n)).toBeGreaterThanOrEqual(15);
    const failedTries = await h.db.knex('rsv_deliveries').where('attempts', '>', 0).whereNotNull('last_error').count({ n: '*' });
    expect(Number(failedTries[0]!.n)).toBeGreaterThan(0);
    await h.mailCatcher.start(port);
    const validated = await waitForMails(h, (m) => m.subject.includes('Réservation validée') && m.text.includes('panne smtp'), 5, 40_000);
    const requested = await waitForMails(h, (m) => m.subject.includes('Réservation à valider') && m.text.includes('panne smtp'), 10, 40_000);
    await settle(2000);
    const all = (await h.mailCatcher.list(1000)).filter((m) => m.text.includes('panne smtp'));
    expect(validated).toHaveLength(5);
    expect(requested).toHaveLength(10);
    expect(all).toHaveLength(15);
    expect(new Set(all.map((m) => m.headers['message-id'])).size).toBe(15);
  }, 60_000);
});

describe('mail headers', () => {
  it('nothing a user typed reaches a header; mails of one booking share a thread', async () => {
    await h.db.knex('rsv_equipment').where({ id: tablets }).update({ name: 'Tablettes\r\nBcc: intrus@example.org\r\nX-Evil: 1' });
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: tablets, startsAt: '2030-03-04T10:00', endsAt: '2030-03-04T11:00' });
    const mails = await waitForMails(h, (m) => m.subject.includes('Tablettes') && m.subject.includes('à valider'), 2);
    for (const m of mails) {
      expect(m.headers.bcc).toBeUndefined();
      expect(m.headers['x-evil']).toBeUndefined();
      expect(m.to).not.toContain('intrus@example.org');
      expect(m.subject).toContain('Tablettes Bcc: intrus@example.org X-Evil: 1');
      expect(m.headers['in-reply-to']).toBe(`<rsv-booking-${res.body.id}@127.0.0.1>`);
    }
    const envelopes = await h.db.knex('host_mails').select('envelope_to');
    expect(envelopes.flatMap((e: { envelope_to: string[] }) => e.envelope_to)).not.toContain('intrus@example.org');
  });
});
