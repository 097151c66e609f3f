import request from 'supertest';
import { DateTime } from 'luxon';
import { startTestHost, TestHost } from '../helpers/host';

let h: TestHost;
let room12: string;
beforeAll(async () => {
  h = await startTestHost();
  room12 = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-room-12' }).first()).id);
});
afterAll(async () => {
  await h.stop();
});

const nextTuesday = () => DateTime.now().setZone('Europe/Paris').startOf('week').plus({ weeks: 1, days: 1 }).toISODate()!;

async function postForm(cookie: string, path: string, form: Record<string, string>) {
  return request(h.app).post(path).set('Cookie', cookie).type('form').send(form);
}

describe('planning pages without JavaScript', () => {
  it('a teacher books next Tuesday 10:00-11:00 from the form, sees it on the planning, and the same slot again is refused with the conflict', async () => {
    const teacher = await h.as('enseignant');
    const date = nextTuesday();
    const form = { _csrf: teacher.csrf, equipmentId: room12, date, start: '10:00', end: '11:00', reason: 'Sciences 4e B : a < b & c', interval: '1', until: '' };
    const ok = await postForm(teacher.cookie, '/reservations/structures/college-a/bookings/new', form);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/reservations/bookings/mine?created=1');
    const week = DateTime.fromISO(date).toFormat("kkkk-'W'WW");
    const planning = await teacher.get(`/reservations/structures/college-a/planning?week=${week}&equipmentId=${room12}`, 'text/html');
    expect(planning.status).toBe(200);
    expect(planning.text).toContain('10:00–11:00');
    expect(planning.text).toContain('Sciences 4e B : a &lt; b &amp; c');
    expect(planning.text).toMatch(/class="slot booked mine/);
    const again = await postForm(teacher.cookie, '/reservations/structures/college-a/bookings/new', form);
    expect(again.status).toBe(409);
    expect(again.text).toContain('Ce créneau est déjà réservé');
    expect(again.text).toContain('role="alert"');
    // The taken day as French readers say it, in the message and in the list of taken slots.
    const spoken = DateTime.fromISO(date).setLocale('fr').toFormat('cccc d LLLL yyyy');
    expect(again.text).toContain(`Ce créneau est déjà réservé (${spoken})`);
    expect(again.text).toContain(`<time datetime="${date}">${spoken}</time>`);
    const mine = await teacher.get('/reservations/bookings/mine?created=1', 'text/html');
    expect(mine.text).toContain('Réservation enregistrée.');
    expect(mine.text).toContain('Salle 12');
  });

  it('the type view lists every room of the type for the week', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/reservations/structures/college-a/planning', 'text/html');
    expect(res.status).toBe(200);
    for (const name of ['Salle 12', 'Salle 14', 'CDI']) expect(res.text).toContain(name);
    expect(res.text).toContain('aria-current="date"');
  });

  it('bad form input re-renders the form with the field named', async () => {
    const teacher = await h.as('enseignant');
    const res = await postForm(teacher.cookie, '/reservations/structures/college-a/bookings/new', { _csrf: teacher.csrf, equipmentId: room12, date: nextTuesday(), start: '11:00', end: '10:00', reason: '' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="e-end"');
    expect(res.text).toContain('aria-invalid="true"');
  });

  it('a form without the CSRF token is refused', async () => {
    const teacher = await h.as('enseignant');
    const res = await postForm(teacher.cookie, '/reservations/structures/college-a/bookings/new', { equipmentId: room12, date: nextTuesday(), start: '12:00', end: '13:00' });
    expect(res.status).toBe(403);
  });

  it('cancels from "my bookings" with a plain form', async () => {
    const teacher = await h.as('enseignant');
    const booking = await teacher.post('/structures/college-a/bookings', { equipmentId: room12, startsAt: `${nextTuesday()}T15:00`, endsAt: `${nextTuesday()}T16:00` });
    const res = await postForm(teacher.cookie, `/reservations/bookings/${booking.body.id}/cancel`, { _csrf: teacher.csrf });
    expect(res.status).toBe(303);
    expect((await teacher.get(`/bookings/${booking.body.id}`)).body.status).toBe('cancelled');
  });

  it('cancels a series from one occurrence on, with a plain form', async () => {
    const teacher = await h.as('enseignant');
    const start = DateTime.fromISO(nextTuesday()).plus({ weeks: 2 });
    const series = await teacher.post('/structures/college-a/bookings', { equipmentId: room12, startsAt: `${start.toISODate()}T08:00`, endsAt: `${start.toISODate()}T09:00`, recurrence: { weekly: true, until: start.plus({ weeks: 3 }).toISODate() } });
    expect(series.status).toBe(201);
    const mine = await teacher.get('/reservations/bookings/mine', 'text/html');
    expect(mine.text).toContain(`/reservations/booking-series/${series.body.seriesId}/cancel`);
    const from = start.plus({ weeks: 2 }).toISODate()!;
    const res = await postForm(teacher.cookie, `/reservations/booking-series/${series.body.seriesId}/cancel`, { _csrf: teacher.csrf, from });
    expect(res.status).toBe(303);
    const rows = await h.db.knex('rsv_bookings').where({ series_id: series.body.seriesId }).orderBy('starts_at');
    expect(rows.map((r: { status: string }) => r.status)).toEqual(['validated', 'validated', 'cancelled', 'cancelled']);
    const pupil = await h.as('eleve');
    expect((await postForm(pupil.cookie, `/reservations/booking-series/${series.body.seriesId}/cancel`, { _csrf: pupil.csrf })).status).toBe(403);
  });

  it("another school's planning answers 404 and a pupil gets 403", async () => {
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/reservations/structures/college-b/planning', 'text/html')).status).toBe(404);
    const pupil = await h.as('eleve');
    expect((await pupil.get('/reservations/structures/college-a/planning', 'text/html')).status).toBe(403);
  });

  it('speaks English', async () => {
    await h.db.knex('host_users').where({ login: 'referent2' }).update({ language: 'en' });
    const referent = await h.as('referent2');
    const res = await referent.get('/reservations/structures/college-a/planning', 'text/html');
    expect(res.text).toContain('Next week');
  });
});
