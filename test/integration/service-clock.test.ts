import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { DateTime } from 'luxon';
import { startTestHost, TestHost, Client, API } from '../helpers/host';
import { declare, schoolLists, SchoolLists } from '../helpers/incidents';
import { mailbox, waitForMails, address } from '../helpers/mail';
import { addDays } from '../../src/domain/service-clock';
import { DUE_SQL } from '../../src/store/incidents';
import { backfillServiceClock } from '../../src/services/service-clock';

/**
 * Issue 11, points 4 and 5, against real PostgreSQL and the reference host: due times in school hours on a declared
 * incident, the overdue flag, the inbox by due time, the reporter's confirmation (and its mails), the rights, and the
 * import of the ministry's school calendar.
 */

const ZONE = 'Europe/Paris';
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'school-calendar', name), 'utf8');
const EVERY_DAY_8_18 = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['08:00', '18:00']]]));

let h: TestHost;
let lists: SchoolLists;
let teacher: Client;
let referent: Client;
let direction: Client;

async function settings(body: Record<string, unknown>) {
  const res = await direction.put('/structures/college-a/settings', body);
  expect(res.status).toBe(200);
  return res.body;
}

async function close(id: string) {
  const res = await referent.post(`/incidents/${id}/transitions`, { to: 'closed', comment: 'Lampe changée.' });
  expect(res.status).toBe(200);
}

const paris = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toFormat("yyyy-MM-dd'T'HH:mm");

beforeAll(async () => {
  h = await startTestHost({ config: { mutationRateLimit: 0 } });
  lists = await schoolLists(h);
  teacher = await h.as('enseignant');
  referent = await h.as('referent1');
  direction = await h.as('direction');
});
afterAll(async () => {
  await h.stop();
});

describe('due times in school hours', () => {
  it('a declaration during the holidays is due after them, counted in opening hours; the target ends exactly at a closing time', async () => {
    // Holidays from yesterday to nine days from now (school's calendar), open every day 08:00-18:00 otherwise.
    const today = DateTime.now().setZone(ZONE).toISODate()!;
    await settings({
      timeZone: ZONE,
      openingHours: EVERY_DAY_8_18,
      holidays: [{ from: addDays(today, -1), to: addDays(today, 9), label: 'Vacances (test)' }],
      serviceTargets: { [lists.severityIds[0]!]: { takeInChargeHours: 8, resolveHours: 40 } },
    });
    const { id } = await declare(teacher, lists);
    const res = await teacher.get(`/incidents/${id}`);
    expect(res.status).toBe(200);
    const clock = res.body.serviceClock;
    // 8 h from the first opening after the holidays; 40 h = four whole days of 10 h: the fourth day's closing time.
    expect(paris(clock.takeInChargeDueAt)).toBe(`${addDays(today, 10)}T16:00`);
    expect(paris(clock.resolveDueAt)).toBe(`${addDays(today, 13)}T18:00`);
    expect(clock.overdue).toBe(false);
    expect(clock).not.toHaveProperty('takenInSchoolHours');
    // Stored on the incident, for the inbox's order.
    const row = await h.db.knex('rsv_incidents').where({ id }).first();
    expect(row.take_in_charge_due_at.toISOString()).toBe(clock.takeInChargeDueAt);
    expect(row.resolve_due_at.toISOString()).toBe(clock.resolveDueAt);
  });

  it('the targets of the severity count: 2 school hours to take in charge, round the clock', async () => {
    const always = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]]));
    await settings({ openingHours: always, holidays: [], serviceTargets: { [lists.severityIds[1]!]: { takeInChargeHours: 2, resolveHours: 16 } } });
    const { id } = await declare(teacher, lists, { severityId: lists.severityIds[1] });
    const row = await h.db.knex('rsv_incidents').where({ id }).first();
    expect(row.take_in_charge_due_at.getTime() - row.created_at.getTime()).toBe(2 * 3600_000);
    expect(row.resolve_due_at.getTime() - row.created_at.getTime()).toBe(16 * 3600_000);
    // Taken and resolved: the school hours they took are kept (a few seconds here).
    await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
    await close(id);
    const after = (await teacher.get(`/incidents/${id}`)).body.serviceClock;
    expect(after.takenInSchoolHours).toBeGreaterThanOrEqual(0);
    expect(after.resolvedInSchoolHours).toBeGreaterThanOrEqual(after.takenInSchoolHours);
    expect(after.overdue).toBe(false);
  });

  it('a new calendar counts the open incidents again (the import of the holidays, the settings)', async () => {
    await settings({ openingHours: EVERY_DAY_8_18, holidays: [] });
    const { id } = await declare(teacher, lists);
    const before = (await h.db.knex('rsv_incidents').where({ id }).first()).take_in_charge_due_at as Date;
    const today = DateTime.now().setZone(ZONE).toISODate()!;
    await settings({ holidays: [{ from: today, to: addDays(today, 20), label: 'Fermeture (test)' }] });
    const after = (await h.db.knex('rsv_incidents').where({ id }).first()).take_in_charge_due_at as Date;
    expect(after.getTime()).toBeGreaterThan(before.getTime());
    expect(paris(after.toISOString())).toBe(`${addDays(today, 21)}T16:00`);
  });

  it('the backfill gives incidents inserted without the clock their due times', async () => {
    const [row] = await h.db.knex('rsv_incidents')
      .insert({ structure_id: 'college-a', equipment_id: lists.equipmentId, type_id: lists.typeIds[0], severity_id: lists.severityIds[0], description: 'Sans horloge', reporter_id: 'u-enseignant' })
      .returning('*');
    expect(row.take_in_charge_due_at).toBeNull();
    expect(await backfillServiceClock(h.db.knex)).toBeGreaterThanOrEqual(1);
    expect((await h.db.knex('rsv_incidents').where({ id: row.id }).first()).take_in_charge_due_at).not.toBeNull();
  });
});

describe('overdue, and the inbox by due time', () => {
  it('an incident past its due time is overdue until taken in charge; the inbox says so in words', async () => {
    await settings({ openingHours: EVERY_DAY_8_18, holidays: [] });
    const { id } = await declare(teacher, lists, { description: 'En retard ?' });
    await h.db.knex('rsv_incidents').where({ id }).update({ take_in_charge_due_at: new Date(Date.now() - 3600_000) });
    expect((await referent.get(`/incidents/${id}`)).body.serviceClock.overdue).toBe(true);
    const page = await referent.get('/reservations/structures/college-a/inbox?sort=due', 'text/html');
    expect(page.status).toBe(200);
    const row = page.text.split('<tr>').find((r) => r.includes(`/reservations/incidents/${id}"`))!;
    expect(row).toContain('En retard');
    expect(row).toContain('overdue-flag');
    const incidentPage = await referent.get(`/reservations/incidents/${id}`, 'text/html');
    expect(incidentPage.text).toContain('En retard');
    expect((await referent.post(`/incidents/${id}/transitions`, { to: 'taken' })).status).toBe(200);
    expect((await referent.get(`/incidents/${id}`)).body.serviceClock.overdue).toBe(false);
  });

  it('sort=due walks the open incidents soonest due first, by keyset on (due time, id), the ones without a due time last', async () => {
    // A school of its own for this walk: college-b, a fresh set of incidents with chosen due times.
    const teacherB = await h.as('enseignant2');
    const referentB = await h.as('referent-b');
    const listsB = await schoolLists(h, 'college-b');
    const base = Date.now() + 86400_000;
    const dues = [5, null, 1, 3, 3, 0, null, 2, 4];
    const ids: string[] = [];
    for (const d of dues) {
      const { id } = await declare(teacherB, listsB, { description: `Échéance ${d}` }, 'college-b');
      await h.db.knex('rsv_incidents').where({ id }).update({ take_in_charge_due_at: d === null ? null : new Date(base + d * 3600_000), resolve_due_at: null });
      ids.push(id);
    }
    // One taken in charge: it goes by its resolve due time now (set between 0 and 1).
    await referentB.post(`/incidents/${ids[0]}/transitions`, { to: 'taken' });
    await h.db.knex('rsv_incidents').where({ id: ids[0] }).update({ resolve_due_at: new Date(base + 0.5 * 3600_000) });
    const key = (i: number) => (i === 0 ? 0.5 : dues[i] === null ? Infinity : dues[i]!);
    const expected = ids
      .map((id, i) => ({ id, k: key(i) }))
      .sort((a, b) => a.k - b.k || Number(a.id) - Number(b.id))
      .map((x) => x.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const res = await referentB.get(`/structures/college-b/incidents?status=open&sort=due&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
      // Incidents declared meanwhile (no due time here: last) never shift what was already walked.
      if (pages === 1) await declare(teacherB, listsB, { description: 'Déclaré pendant la lecture' }, 'college-b');
    }
    expect(seen.slice(0, expected.length)).toEqual(expected);
    // A cursor of the other order is refused, naming it.
    const newest = await referentB.get('/structures/college-b/incidents?status=open&limit=1');
    const mixed = await referentB.get(`/structures/college-b/incidents?status=open&sort=due&cursor=${newest.body.nextCursor}`);
    expect(mixed.status).toBe(400);
    expect(JSON.stringify(mixed.body.details)).toContain('cursor');
    // The inbox page in that order: the same first incident.
    const page = await referentB.get('/reservations/structures/college-b/inbox?sort=due', 'text/html');
    expect(page.text.indexOf(`/reservations/incidents/${expected[0]}"`)).toBeLessThan(page.text.indexOf(`/reservations/incidents/${expected[1]}"`));
  });

  it('the query by due time is the index expression (PostgreSQL uses rsv_incidents_inbox_due)', async () => {
    const { rows } = await h.db.knex.transaction(async (trx): Promise<{ rows: Array<{ 'QUERY PLAN': string }> }> => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      await trx.raw('SET LOCAL enable_sort = off');
      return await trx.raw(
        `EXPLAIN SELECT i.id FROM rsv_incidents i
          WHERE i.structure_id = 'college-a' AND i.status IN ('new', 'taken', 'in_progress') AND (${DUE_SQL}, i.id) > (now(), 0::bigint)
          ORDER BY ${DUE_SQL}, i.id LIMIT 51`,
      );
    });
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('rsv_incidents_inbox_due');
  });
});

describe('the reporter confirms', () => {
  it('closing mails the reporter a link; the page at that link changes nothing; "fixed" records it and tells the referents', async () => {
    const { id } = await declare(teacher, lists, { description: 'Le son ne marche pas.' });
    await close(id);
    const [closedMail] = await waitForMails(h, (m) => m.subject.startsWith(`[#${id}]`) && m.to.includes(address('enseignant')) && m.text.includes('/confirm'), 1);
    expect(closedMail!.text).toContain(`http://127.0.0.1:3000/reservations/incidents/${id}/confirm`);

    const eventsBefore = await h.db.knex('rsv_incident_events').where({ incident_id: id }).count('* as n').first();
    const page = await teacher.get(`/reservations/incidents/${id}/confirm`, 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Oui, c&#39;est réparé');
    expect(page.text).toContain('Rouvrir l&#39;incident');
    expect(page.text).not.toMatch(/<script(?![^>]*src=)/); // no inline script (strict CSP)
    expect(page.text).not.toContain('style="');
    const after = await h.db.knex('rsv_incidents').where({ id }).first();
    expect(after.confirmed_at).toBeNull();
    expect(await h.db.knex('rsv_incident_events').where({ incident_id: id }).count('* as n').first()).toEqual(eventsBefore);

    const res = await teacher.post(`/incidents/${id}/confirm`, { fixed: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'closed', confirmation: { fixed: true }, changed: true });
    const events = await h.db.knex('rsv_incident_events').where({ incident_id: id }).orderBy('id');
    expect(events[events.length - 1]).toMatchObject({ kind: 'confirmed', actor_id: 'u-enseignant' });
    const [told] = await waitForMails(h, (m) => m.subject === `[#${id}] Réparation confirmée : Vidéoprojecteur salle 12` && m.to.includes(mailbox('college-a')), 1);
    expect(told!.text).toContain('confirme que l\'incident n° ' + id + ' est réparé');
    // The same answer again records nothing new.
    expect((await teacher.post(`/incidents/${id}/confirm`, { fixed: true })).body.changed).toBe(false);
    expect(await h.db.knex('rsv_incident_events').where({ incident_id: id, kind: 'confirmed' }).count('* as n').first()).toEqual({ n: '1' });
  });

  it('"not fixed" needs a comment, reopens the incident (in_progress, a new resolve due time) and mails the referents', async () => {
    await settings({ openingHours: EVERY_DAY_8_18, holidays: [] });
    const { id } = await declare(teacher, lists, { description: 'Le tableau ne répond plus.' });
    await close(id);
    const missing = await teacher.post(`/incidents/${id}/confirm`, { fixed: false });
    expect(missing.status).toBe(400);
    expect(missing.body.details.fields.map((f: { field: string }) => f.field)).toEqual(['comment']);

    const before = Date.now();
    const res = await teacher.post(`/incidents/${id}/confirm`, { fixed: false, comment: 'Toujours aucune image.' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'in_progress', resolvedAt: null, confirmation: { fixed: false } });
    expect(new Date(res.body.serviceClock.resolveDueAt).getTime()).toBeGreaterThan(before);
    const last = await h.db.knex('rsv_incident_events').where({ incident_id: id }).orderBy('id', 'desc').first();
    expect(last).toMatchObject({ kind: 'reopened', from_status: 'closed', to_status: 'in_progress', comment: 'Toujours aucune image.' });
    const [told] = await waitForMails(h, (m) => m.subject === `[#${id}] Incident rouvert : Vidéoprojecteur salle 12` && m.to.includes(mailbox('college-a')), 1);
    expect(told!.text).toContain('Toujours aucune image.');
    // The history says it in words.
    const page = await referent.get(`/reservations/incidents/${id}`, 'text/html');
    expect(page.text).toContain('signale que le problème n&#39;est pas réglé');
  });

  it('the form of the page: one click on "fixed" (a POST), then back to the page with a notice', async () => {
    const { id } = await declare(teacher, lists);
    await close(id);
    const res = await request(h.app)
      .post(`/reservations/incidents/${id}/confirm`)
      .set('Cookie', teacher.cookie)
      .type('form')
      .send({ _csrf: teacher.csrf, fixed: 'true' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/reservations/incidents/${id}/confirm?done=confirmed`);
    const page = await teacher.get(res.headers.location, 'text/html');
    expect(page.text).toContain('la réparation est confirmée');
    // Without its CSRF token, the form is refused and nothing changes.
    const { id: other } = await declare(teacher, lists);
    await close(other);
    const forged = await request(h.app).post(`/reservations/incidents/${other}/confirm`).set('Cookie', teacher.cookie).type('form').send({ fixed: 'true' });
    expect(forged.status).toBe(403);
    expect((await h.db.knex('rsv_incidents').where({ id: other }).first()).confirmed_at).toBeNull();
  });

  it('only the reporter (403), only when closed (422, a clear message), only in their school (404)', async () => {
    const { id } = await declare(teacher, lists);
    const open = await teacher.post(`/incidents/${id}/confirm`, { fixed: true });
    expect(open.status).toBe(422);
    expect(open.body.error).toBe('not_closed');
    expect(open.body.message).toContain('fermé');
    await close(id);
    const notReporter = await referent.post(`/incidents/${id}/confirm`, { fixed: true });
    expect(notReporter.status).toBe(403);
    expect(notReporter.body.message).toContain('signalé');
    const colleague = await (await h.as('referent2')).post(`/incidents/${id}/confirm`, { fixed: false, comment: 'x' });
    expect(colleague.status).toBe(403);
    const otherSchool = await (await h.as('enseignant2')).post(`/incidents/${id}/confirm`, { fixed: true });
    expect(otherSchool.status).toBe(404);
    const otherSchoolPage = await (await h.as('enseignant2')).get(`/reservations/incidents/${id}/confirm`, 'text/html');
    expect(otherSchoolPage.status).toBe(404);
    // Another user sees the page, with no form, and why.
    const seen = await referent.get(`/reservations/incidents/${id}/confirm`, 'text/html');
    expect(seen.status).toBe(200);
    expect(seen.text).not.toContain('name="fixed"');
    expect(seen.text).toContain('Seule la personne qui a signalé');
    // Past the reopening window, "not fixed" is refused; "fixed" is still recorded.
    await h.db.knex('rsv_incidents').where({ id }).update({ resolved_at: new Date(Date.now() - 400 * 86400_000) });
    const late = await teacher.post(`/incidents/${id}/confirm`, { fixed: false, comment: 'Revenu.' });
    expect(late.status).toBe(422);
    expect(late.body.error).toBe('reopen_window_passed');
    expect((await teacher.post(`/incidents/${id}/confirm`, { fixed: true })).status).toBe(200);
  });
});

describe('the statistics use the same clock', () => {
  it('times in school hours and the reporters\' answers, on the API and the dashboard', async () => {
    const res = await referent.get('/structures/college-a/stats');
    expect(res.status).toBe(200);
    const clock = res.body.serviceClock;
    const { rows } = await h.db.knex.raw(
      `SELECT count(*) FILTER (WHERE status = 'closed')::int AS closed,
              count(*) FILTER (WHERE status = 'closed' AND confirmed_fixed)::int AS confirmed,
              count(taken_school_hours)::int AS taken
         FROM rsv_incidents WHERE structure_id = 'college-a' AND created_at >= now() - interval '1 day'`,
    );
    expect(clock.confirmations).toMatchObject({ closed: rows[0].closed, confirmedFixed: rows[0].confirmed, reopened: 1 });
    expect(clock.confirmations.confirmedShare).toBeCloseTo(rows[0].confirmed / rows[0].closed, 2);
    expect(clock.confirmations.reopenedShare).toBeGreaterThan(0);
    expect(clock.takeInChargeSchoolHours.count).toBe(rows[0].taken);
    expect(clock.takeInChargeSchoolHours.median).not.toBeNull();
    expect(clock.overdue).toBeGreaterThanOrEqual(0);
    const page = await referent.get('/reservations/structures/college-a/stats', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Réparations confirmées par le déclarant');
  });
});

describe("the ministry's school calendar", () => {
  const asMultipart = (client: Client, url: string) => request(h.app).post(url).set('Cookie', client.cookie).set('X-CSRF-Token', client.csrf).set('Accept', 'application/json');

  it('imports the iCalendar file as JSON: the zone and school year asked for, the school zone recorded', async () => {
    await settings({ holidays: [{ from: '2026-06-01', to: '2026-06-01', label: 'Journée banalisée' }], holidayZone: null });
    const res = await direction.post('/structures/college-a/holidays/import', { ics: fixture('combined.ics'), zone: 'A', schoolYear: '2025-2026' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ zone: 'A', format: 'ics', schoolYears: ['2025-2026'], added: 4, updated: 0, removed: 0 });
    expect(res.body.imported.map((p: { from: string; to: string }) => `${p.from}..${p.to}`)).toEqual(['2025-10-18..2025-11-02', '2025-12-20..2026-01-04', '2026-04-04..2026-04-19', '2026-05-14..2026-05-17']);
    expect(res.body.skipped.some((s: { reason: string }) => s.reason === 'no_end_date')).toBe(true);
    const got = (await direction.get('/structures/college-a/settings')).body;
    expect(got.holidayZone).toBe('A');
    // The period typed by hand stays.
    expect(got.holidays.map((p: { label: string }) => p.label)).toContain('Journée banalisée');
    expect(got.holidays).toHaveLength(5);
  });

  it('imports the CSV export uploaded as multipart, with the zone of the school; "replace" replaces that year', async () => {
    const res = await asMultipart(direction, `${API}/structures/college-a/holidays/import`)
      .field('schoolYear', '2025-2026')
      .field('replace', 'true')
      .attach('file', Buffer.from(fixture('calendrier-scolaire.csv')), { filename: 'fr-en-calendrier-scolaire.csv', contentType: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ zone: 'A', format: 'csv', schoolYears: ['2025-2026'] });
    const labels = (await direction.get('/structures/college-a/settings')).body.holidays.map((p: { from: string; label: string }) => `${p.from} ${p.label}`);
    expect(labels).toEqual([
      '2025-10-18 Vacances de la Toussaint',
      '2025-12-20 Vacances de Noël',
      "2026-02-07 Vacances d'Hiver",
      '2026-04-04 Vacances de Printemps',
      "2026-05-14 Pont de l'Ascension",
    ]);
  });

  it('from the settings page: an upload, the result in words; the targets saved from the same page', async () => {
    const res = await request(h.app)
      .post('/reservations/structures/college-a/admin/holidays/import')
      .set('Cookie', direction.cookie)
      .field('_csrf', direction.csrf)
      .field('zone', 'B')
      .field('schoolYear', '')
      .attach('file', Buffer.from(fixture('zone-b.ics')), { filename: 'Zone-B.ics', contentType: 'text/calendar' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('3 périodes importées pour la zone B');
    expect(res.text).toContain("Vacances d&#39;Hiver");
    const page = await direction.get('/reservations/structures/college-a/admin/settings', 'text/html');
    expect(page.text).toContain(`name="target_take_${lists.severityIds[0]}"`);
    expect(page.text).toMatch(/<option value="B" selected>/);
  });

  it('the settings form saves the targets per severity and the zone', async () => {
    const page = await direction.get('/reservations/structures/college-a/admin/settings', 'text/html');
    const value = (name: string) => page.text.match(new RegExp(`name="${name}"[^>]*value="([^"]*)"`))?.[1] ?? '';
    const form: Record<string, string> = { _csrf: direction.csrf, planning: 'on', incidents: 'on', timeZone: 'Europe/Paris', holidayZone: 'C', holidays: '', reopenDays: '30', extraMailbox: '', editorEmail: '' };
    for (const d of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) form[`hours_${d}`] = value(`hours_${d}`);
    for (const s of lists.severityIds) Object.assign(form, { [`target_take_${s}`]: '4', [`target_resolve_${s}`]: '24,5' });
    const res = await request(h.app).post('/reservations/structures/college-a/admin/settings').set('Cookie', direction.cookie).type('form').send(form);
    expect(res.status).toBe(303);
    const got = (await direction.get('/structures/college-a/settings')).body;
    expect(got.holidayZone).toBe('C');
    expect(got.serviceTargets[lists.severityIds[0]!]).toEqual({ takeInChargeHours: 4, resolveHours: 24.5 });
    const bad = await request(h.app).post('/reservations/structures/college-a/admin/settings').set('Cookie', direction.cookie).type('form').send({ ...form, [`target_take_${lists.severityIds[0]}`]: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain(`serviceTargets.${lists.severityIds[0]}.takeInChargeHours`);
  });

  it('refuses what it cannot use, and whoever may not configure the school', async () => {
    const badCsv = await direction.post('/structures/college-a/holidays/import', { csv: 'nom;jour\nNoël;2025-12-20\n', zone: 'A' });
    expect(badCsv.status).toBe(400);
    expect(badCsv.body.message).toContain('colonnes');
    const nothing = await direction.post('/structures/college-a/holidays/import', { zone: 'A' });
    expect(nothing.status).toBe(400);
    const otherZone = await direction.post('/structures/college-a/holidays/import', { ics: fixture('zone-b.ics'), zone: 'A' });
    expect(otherZone.status).toBe(422);
    expect(otherZone.body.error).toBe('no_holidays_found');
    const badYear = await direction.post('/structures/college-a/holidays/import', { ics: fixture('zone-b.ics'), zone: 'B', schoolYear: '2025' });
    expect(badYear.status).toBe(400);
    expect((await teacher.post('/structures/college-a/holidays/import', { ics: fixture('zone-b.ics'), zone: 'B' })).status).toBe(403);
    expect((await (await h.as('direction-b')).post('/structures/college-a/holidays/import', { ics: fixture('zone-b.ics'), zone: 'B' })).status).toBe(404);
    // A school without a zone must say which.
    await settings({ holidayZone: null });
    const noZone = await direction.post('/structures/college-a/holidays/import', { ics: fixture('zone-b.ics') });
    expect(noZone.status).toBe(400);
    expect(noZone.body.details.fields[0].field).toBe('zone');
  });
});
