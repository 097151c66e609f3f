import request from 'supertest';
import ical from 'node-ical';
import { DateTime } from 'luxon';
import { startTestHost, TestHost, API } from '../helpers/host';

let h: TestHost;
const eq: Record<string, string> = {};

beforeAll(async () => {
  h = await startTestHost();
  const rows = await h.db.knex('rsv_equipment').whereNotNull('seed_code').select('id', 'seed_code');
  for (const r of rows) eq[r.seed_code.replace(/^demo-/, '')] = String(r.id);
});
afterAll(async () => {
  await h.stop();
});

/** A wall-clock slot in Paris, `weeks` weeks from next Tuesday. */
function slot(weeks: number, from = '10:00', to = '11:00') {
  const tuesday = DateTime.now().setZone('Europe/Paris').startOf('week').plus({ weeks: 1 + weeks, days: 1 });
  const at = (hhmm: string) => tuesday.set({ hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3)) }).toISO({ suppressMilliseconds: true })!;
  return { startsAt: at(from), endsAt: at(to), date: tuesday.toISODate()! };
}

async function count(where: Record<string, unknown> = {}) {
  const [{ n }] = await h.db.knex('rsv_bookings').where(where).count({ n: '*' });
  return Number(n);
}

describe('booking a room', () => {
  it('a teacher books Salle 12 and sees it in the window', async () => {
    const teacher = await h.as('enseignant');
    const s = slot(0);
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], ...s, date: undefined, reason: '4e B — sciences' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ equipmentId: eq['room-12'], status: 'validated', mine: true, reason: '4e B — sciences', equipmentName: 'Salle 12' });
    expect(new Date(res.body.startsAt).toISOString()).toBe(new Date(s.startsAt).toISOString());
    const list = await teacher.get(`/structures/college-a/bookings?from=${s.date}&to=${DateTime.fromISO(s.date).plus({ days: 1 }).toISODate()}&equipmentId=${eq['room-12']}`);
    expect(list.status).toBe(200);
    expect(list.body.map((b: { id: string }) => b.id)).toContain(res.body.id);
  });

  it('50 concurrent requests for the same room and slot: one 201, 49 409s, one row', async () => {
    const teachers = await Promise.all([h.as('enseignant'), h.as('referent1'), h.as('referent2'), h.as('direction')]);
    const s = slot(2, '14:00', '15:00');
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => teachers[i % teachers.length]!.post('/structures/college-a/bookings', { equipmentId: eq['room-14'], startsAt: s.startsAt, endsAt: s.endsAt, reason: `essai ${i}` })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(1);
    expect(statuses.filter((x) => x === 409)).toHaveLength(49);
    for (const r of responses.filter((x) => x.status === 409)) {
      expect(r.body.error).toBe('conflict');
      expect(r.body.details.conflicts).toHaveLength(1);
    }
    expect(await count({ equipment_id: eq['room-14'], starts_at: new Date(s.startsAt) })).toBe(1);
  });

  it('the conflict names the taken slot and, by default, who booked it', async () => {
    const other = await h.as('referent1');
    const s = slot(0);
    const res = await other.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], startsAt: s.startsAt, endsAt: s.endsAt });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('déjà réservé');
    expect(res.body.details.conflicts[0].booking.owner).toEqual({ id: 'u-enseignant', displayName: 'Claire Martin' });
  });

  it('PostgreSQL itself refuses an overlap that skips the application', async () => {
    const s = slot(0);
    await expect(
      h.db.knex('rsv_bookings').insert({ structure_id: 'college-a', equipment_id: eq['room-12'], owner_id: 'u-referent1', starts_at: s.startsAt, ends_at: s.endsAt }),
    ).rejects.toMatchObject({ code: '23P01' });
  });

  it('a slot in the past is refused (422), the day said in words', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['room-cdi'], startsAt: '2021-01-04T10:00', endsAt: '2021-01-04T11:00' });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('booking_rule');
    expect(res.body.message).toBe('On ne peut pas réserver dans le passé (lundi 4 janvier 2021).');
  });

  it('equipment of an incident type can never be booked (422)', async () => {
    const teacher = await h.as('enseignant');
    const s = slot(1);
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['projector-12'], startsAt: s.startsAt, endsAt: s.endsAt });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('not_bookable');
    expect(res.body.message).toContain('Vidéoprojecteur salle 12');
  });

  it('a type that needs validation starts pending; a referent validates, the owner sees it validated', async () => {
    const teacher = await h.as('enseignant');
    const s = slot(1, '08:00', '09:00');
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['tablets'], startsAt: s.startsAt, endsAt: s.endsAt, reason: 'Sortie' });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending');
    expect((await teacher.post(`/bookings/${res.body.id}/validate`, {})).status).toBe(403);
    const referent = await h.as('referent2');
    const ok = await referent.post(`/bookings/${res.body.id}/validate`, {});
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('validated');
    expect((await referent.post(`/bookings/${res.body.id}/validate`, {})).status).toBe(422);
    const events = await h.db.knex('rsv_booking_events').where({ booking_id: res.body.id }).orderBy('id');
    expect(events.map((e: { kind: string }) => e.kind)).toEqual(['requested', 'validated']);
  });

  it('a refusal needs a reason and is recorded', async () => {
    const teacher = await h.as('enseignant');
    const s = slot(1, '09:00', '10:00');
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['visio'], startsAt: s.startsAt, endsAt: s.endsAt });
    const referent = await h.as('referent1');
    expect((await referent.post(`/bookings/${res.body.id}/refuse`, { reason: '' })).status).toBe(400);
    const refused = await referent.post(`/bookings/${res.body.id}/refuse`, { reason: 'Valise en réparation' });
    expect(refused.body).toMatchObject({ status: 'refused', decisionReason: 'Valise en réparation' });
  });
});

describe('recurring bookings', () => {
  beforeAll(async () => {
    await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({
      holidays: JSON.stringify([
        { from: '2027-10-23', to: '2027-11-07', label: 'Vacances de la Toussaint' },
        { from: '2027-12-18', to: '2028-01-02', label: 'Vacances de Noël' },
      ]),
    });
  });

  it('a weekly series across a holiday period skips it', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', {
      equipmentId: eq['room-info'],
      startsAt: '2027-10-12T10:00',
      endsAt: '2027-10-12T11:00',
      reason: 'Technologie',
      recurrence: { weekly: true, until: '2027-11-16' },
    });
    expect(res.status).toBe(201);
    const dates = res.body.bookings.map((b: { startsAt: string }) => DateTime.fromISO(b.startsAt).setZone('Europe/Paris').toISODate());
    expect(dates).toEqual(['2027-10-12', '2027-10-19', '2027-11-09', '2027-11-16']);
    expect(res.body.skipped).toEqual([
      { date: '2027-10-26', holiday: 'Vacances de la Toussaint' },
      { date: '2027-11-02', holiday: 'Vacances de la Toussaint' },
    ]);
  });

  it('keeps its wall-clock hours across the end-of-October daylight-saving change', async () => {
    const teacher = await h.as('enseignant');
    // 2027-10-31: Paris goes from UTC+2 to UTC+1.
    const res = await teacher.post('/structures/college-a/bookings', {
      equipmentId: eq['room-poly'],
      startsAt: '2027-10-21T10:00:00+02:00',
      endsAt: '2027-10-21T11:30:00+02:00',
      recurrence: { weekly: true, until: '2027-11-12' },
    });
    expect(res.status).toBe(201);
    const utc = res.body.bookings.map((b: { startsAt: string }) => b.startsAt);
    expect(utc).toEqual(['2027-10-21T08:00:00.000Z', '2027-11-11T09:00:00.000Z']);
    const local = res.body.bookings.map((b: { startsAt: string; endsAt: string }) => [b.startsAt, b.endsAt].map((x) => DateTime.fromISO(x).setZone('Europe/Paris').toFormat('HH:mm')).join('-'));
    expect(local).toEqual(['10:00-11:30', '10:00-11:30']);
  });

  it('and across the spring change', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', {
      equipmentId: eq['room-poly'],
      startsAt: '2027-03-23T16:00',
      endsAt: '2027-03-23T17:00',
      recurrence: { weekly: true, until: '2027-03-30' },
    });
    expect(res.status).toBe(201);
    expect(res.body.bookings.map((b: { startsAt: string }) => b.startsAt)).toEqual(['2027-03-23T15:00:00.000Z', '2027-03-30T14:00:00.000Z']);
  });

  it('a series with one conflicting week is refused whole, naming that week', async () => {
    const referent = await h.as('referent1');
    const single = await referent.post('/structures/college-a/bookings', { equipmentId: eq['room-cdi'], startsAt: '2027-11-23T14:00', endsAt: '2027-11-23T15:00' });
    expect(single.status).toBe(201);
    const before = await count({ equipment_id: eq['room-cdi'] });
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', {
      equipmentId: eq['room-cdi'],
      startsAt: '2027-11-09T14:30',
      endsAt: '2027-11-09T15:30',
      recurrence: { weekly: true, until: '2027-12-07' },
    });
    expect(res.status).toBe(409);
    expect(res.body.details.conflicts).toHaveLength(1);
    expect(res.body.details.conflicts[0].date).toBe('2027-11-23');
    // The message says the day as a French reader does, never the stored ISO form.
    expect(res.body.message).toContain('mardi 23 novembre 2027');
    expect(res.body.message).not.toContain('2027-11-23');
    expect(await count({ equipment_id: eq['room-cdi'] })).toBe(before);
  });

  it('every two weeks, then cancelled from one date on', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.post('/structures/college-a/bookings', {
      equipmentId: eq['room-cdi'],
      startsAt: '2027-09-06T08:00',
      endsAt: '2027-09-06T09:00',
      recurrence: { weekly: true, until: '2027-10-18', interval: 2 },
    });
    expect(res.status).toBe(201);
    expect(res.body.bookings).toHaveLength(4);
    const cancelled = await teacher.post(`/booking-series/${res.body.seriesId}/cancel`, { from: '2027-10-01' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toHaveLength(2);
    const all = await teacher.post(`/booking-series/${res.body.seriesId}/cancel`, {});
    expect(all.body.cancelled).toHaveLength(2);
  });
});

describe('schools and owners', () => {
  it("a teacher of college-a cannot see, book or cancel anything of college-b (404)", async () => {
    const teacherB = await h.as('enseignant2');
    const roomB = eq['room-b1'];
    const s = slot(3);
    const booked = await teacherB.post('/structures/college-b/bookings', { equipmentId: roomB, startsAt: s.startsAt, endsAt: s.endsAt });
    expect(booked.status).toBe(201);
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/structures/college-b/bookings')).status).toBe(404);
    expect((await teacher.post('/structures/college-b/bookings', { equipmentId: roomB, startsAt: s.startsAt, endsAt: s.endsAt })).status).toBe(404);
    expect((await teacher.post(`/bookings/${booked.body.id}/cancel`, {})).status).toBe(404);
    expect((await teacher.get(`/bookings/${booked.body.id}`)).status).toBe(404);
    // Booking college-b's room through college-a's URL is an unknown equipment there.
    const cross = await teacher.post('/structures/college-a/bookings', { equipmentId: roomB, startsAt: s.startsAt, endsAt: s.endsAt });
    expect(cross.status).toBe(400);
    expect(cross.body.details.fields[0].field).toBe('equipmentId');
  });

  it("cannot cancel another teacher's booking (403); a referent can", async () => {
    const owner = await h.as('referent2');
    const s = slot(4);
    const booked = await owner.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], startsAt: s.startsAt, endsAt: s.endsAt });
    const teacher = await h.as('enseignant');
    const refused = await teacher.post(`/bookings/${booked.body.id}/cancel`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('Vous ne pouvez annuler que vos propres réservations.');
    const referent = await h.as('referent1');
    const ok = await referent.post(`/bookings/${booked.body.id}/cancel`, {});
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('cancelled');
    // The slot is free again.
    expect((await teacher.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], startsAt: s.startsAt, endsAt: s.endsAt })).status).toBe(201);
  });

  it('pupils and parents cannot book (403)', async () => {
    const s = slot(5);
    for (const login of ['eleve', 'parent']) {
      const c = await h.as(login);
      expect((await c.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], startsAt: s.startsAt, endsAt: s.endsAt })).status).toBe(403);
    }
  });
});

describe('bad input gets a 400 naming the field, and nothing is stored', () => {
  const s = slot(6);
  it.each([
    ['end before start', { startsAt: s.endsAt, endsAt: s.startsAt }, 'endsAt'],
    ['zero length', { startsAt: s.startsAt, endsAt: s.startsAt }, 'endsAt'],
    ['unknown equipment', { equipmentId: '999999' }, 'equipmentId'],
    ['a malformed start', { startsAt: 'mardi 10h' }, 'startsAt'],
    ['a malformed end', { endsAt: '2027-02-30T10:00' }, 'endsAt'],
    ['a nonexistent local time', { startsAt: '2027-03-28T02:30', endsAt: '2027-03-28T03:30' }, 'startsAt'],
    ['HTML in the reason', { reason: '<img src=x onerror=alert(1)>' }, 'reason'],
    ['control characters in the reason', { reason: 'a\u0007b' }, 'reason'],
    ['an unknown field', { colour: 'red' }, 'colour'],
    ['a bad recurrence', { recurrence: { weekly: true, until: 'demain' } }, 'recurrence.until'],
    ['an equipment id that is not a number', { equipmentId: "1' OR 1=1" }, 'equipmentId'],
  ])('%s', async (_label, change, field) => {
    const teacher = await h.as('enseignant');
    const before = await count();
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], startsAt: s.startsAt, endsAt: s.endsAt, reason: 'ok', ...change });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_input');
    const fields = res.body.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toContain(field);
    expect(await count()).toBe(before);
  });

  it('a 10 MB body', async () => {
    const teacher = await h.as('enseignant');
    const before = await count();
    const res = await teacher.post('/structures/college-a/bookings', { equipmentId: eq['room-12'], startsAt: s.startsAt, endsAt: s.endsAt, reason: 'x'.repeat(10 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(await count()).toBe(before);
  });

  it('malformed query parameters', async () => {
    const teacher = await h.as('enseignant');
    const res = await teacher.get('/structures/college-a/bookings?from=yesterday');
    expect(res.status).toBe(400);
    expect(res.body.details.fields[0].field).toBe('from');
  });
});

describe('iCalendar', () => {
  it("exports the school's and one's own bookings as valid RFC 5545", async () => {
    const teacher = await h.as('enseignant');
    const res = await request(h.app).get(`${API}/structures/college-a/bookings.ics?mine=1`).set('Cookie', teacher.cookie);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const parsed = ical.sync.parseICS(res.text);
    const events = Object.values(parsed).filter((e) => e!.type === 'VEVENT') as ical.VEvent[];
    expect(events.length).toBeGreaterThan(2);
    const sciences = events.find((e) => String(e.summary).includes('4e B — sciences'))!;
    expect(sciences).toBeDefined();
    expect(String(sciences.location)).toBe('Salle 12');
    expect(new Date(sciences.start).toISOString()).toBe(new Date(slot(0).startsAt).toISOString());
    const school = await request(h.app).get(`${API}/structures/college-a/bookings.ics`).set('Cookie', teacher.cookie);
    const all = Object.values(ical.sync.parseICS(school.text)).filter((e) => e!.type === 'VEVENT');
    expect(all.length).toBeGreaterThan(events.length);
  });
});
