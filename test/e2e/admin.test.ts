import request from 'supertest';
import { DateTime } from 'luxon';
import { schoolLists, declare, bringTo } from '../helpers/incidents';
import { describeE2E, E2E, VARIANTS, Variant } from './support';

/**
 * The school admin's day in Chromium (issue 8): adds a room, imports an equipment CSV, adds an incident type, changes
 * a grant on the rights matrix, opens the dashboard. In French, without JavaScript, and in English.
 */
let e2e: E2E;
const SCHOOL = '/reservations/structures/college-a';

describeE2E("the school admin's journey in a real browser", () => {
  beforeAll(async () => {
    e2e = await E2E.start();
    await someActivity();
  }, 60_000);
  afterAll(async () => {
    e2e?.summary('admin.test.ts');
    await e2e?.stop();
  });

  for (const variant of VARIANTS) {
    it(`room, CSV import, incident type, a grant, the dashboard (${variant.name})`, async () => {
      const suffix = { 'in French': 'A', 'in French, without JavaScript': 'B', 'in English': 'C' }[variant.name]!;
      const admin = await e2e.signIn('direction', variant);
      const { page, t } = admin;
      const back = () => admin.submit(page.getByRole('link', { name: t('planningAdmin:back') }));
      try {
        await admin.check('admin-home-page');
        await admin.submit(page.getByRole('link', { name: t('common:home.admin'), exact: true }));
        expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(t('planningAdmin:home.heading'));
        await admin.check('admin-home');

        // A new room.
        const room = `Salle 3${suffix}`;
        await admin.submit(page.getByRole('link', { name: t('planningAdmin:equipment.title'), exact: true }));
        await page.getByLabel(t('planningAdmin:equipment.name'), { exact: true }).fill(room);
        await page.getByLabel(t('planningAdmin:equipment.type'), { exact: true }).selectOption({ label: t('common:seed.resourceType.rooms') });
        await page.getByLabel(t('planningAdmin:equipment.location'), { exact: true }).fill('Bâtiment D, 2e étage');
        await admin.submit(page.getByRole('button', { name: t('planningAdmin:equipment.add') }));
        expect(await page.getByRole('status').innerText()).toBe(t('planningAdmin:done.created'));
        expect(await page.getByRole('rowheader', { name: room, exact: true }).count()).toBe(1);
        await admin.check('admin-equipment');

        // A CSV file of two lines, checked, then imported (the type named in the admin's language).
        await admin.submit(page.getByRole('link', { name: t('planningAdmin:import.title') }).first());
        await admin.check('admin-import');
        const csv = [
          variant.lang === 'en' ? 'name;type;location' : 'nom;type;emplacement',
          `Salle 4${suffix};${t('common:seed.resourceType.rooms')};Bâtiment D`,
          `TNI salle 4${suffix};${t('common:seed.resourceType.maintenance')};Salle 4${suffix}`,
        ].join('\n');
        await page.getByLabel(t('planningAdmin:import.file')).setInputFiles({ name: 'equipements.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
        await admin.submit(page.getByRole('button', { name: t('planningAdmin:import.check') }));
        expect(await page.getByRole('status').innerText()).toBe(t('planningAdmin:import.valid', { count: 2 }));
        await admin.check('admin-import-preview');
        await admin.submit(page.getByRole('button', { name: t('planningAdmin:import.apply', { count: 2 }) }));
        expect(await page.getByRole('status').innerText()).toBe(t('planningAdmin:done.imported'));
        for (const name of [`Salle 4${suffix}`, `TNI salle 4${suffix}`]) expect(await page.getByRole('rowheader', { name, exact: true }).count()).toBe(1);

        // A new incident type, offered on the declaration form.
        await back();
        await admin.submit(page.getByRole('link', { name: t('incident:lists.incidentType.title') }));
        const label = `Tablettes ${suffix}`;
        await page.getByLabel(t('incident:lists.incidentType.add')).fill(label);
        await admin.submit(page.getByRole('button', { name: t('incident:lists.addSubmit'), exact: true }));
        expect(await page.getByRole('status').innerText()).toBe(t('incident:lists.done.created'));
        expect(await page.getByRole('textbox', { name: t('incident:lists.renameLabel', { label }) }).inputValue()).toBe(label);
        await admin.check('admin-incident-types');
        await admin.goto('/reservations/incidents/new?structure=college-a');
        expect(await page.getByRole('group', { name: t('incident:field.type') }).getByLabel(label, { exact: true }).count()).toBe(1);
        await admin.goto(`${SCHOOL}/admin`);

        // The rights matrix: pupils may declare incidents (or no longer, on the next run); the pupil sees the change.
        await admin.submit(page.getByRole('link', { name: t('admin:rights.title'), exact: true }));
        await admin.check('admin-rights');
        const box = page.getByLabel(`${t('admin:rights.action.incident.declare')} — ${t('admin:rights.subject.Student')}`, { exact: true });
        const granted = !(await box.isChecked());
        await box.setChecked(granted);
        await admin.submit(page.getByRole('button', { name: t('planningAdmin:save') }));
        expect(await page.getByRole('status').innerText()).toBe(t('planningAdmin:done.saved'));
        expect(await page.getByLabel(`${t('admin:rights.action.incident.declare')} — ${t('admin:rights.subject.Student')}`, { exact: true }).isChecked()).toBe(granted);
        await expectPupilMayDeclare(granted);

        // The dashboard, from the module's home page.
        await admin.goto('/reservations');
        await admin.submit(page.getByRole('link', { name: t('stats:heading'), exact: true }));
        expect(new URL(page.url()).pathname).toBe(`${SCHOOL}/stats`);
        expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(t('stats:heading'));
        await admin.check('admin-stats');
      } finally {
        await admin.close();
      }
    }, 90_000);
  }

  it('the other pages of the module pass the same checks', async () => {
    await tour(VARIANTS[0]!);
  }, 120_000);
});

/** A few incidents and bookings through the API, so that the dashboard has something to show. */
async function someActivity(): Promise<void> {
  const teacher = await e2e.h.as('enseignant');
  const referent = await e2e.h.as('referent1');
  const lists = await schoolLists(e2e.h);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const overrides = { typeId: lists.typeIds[i % lists.typeIds.length], severityId: lists.severityIds[i % lists.severityIds.length], description: `Panne n° ${i + 1}` };
    ids.push((await declare(teacher, lists, overrides)).id);
  }
  await bringTo(referent, ids[0]!, 'closed');
  await bringTo(referent, ids[1]!, 'closed');
  await bringTo(referent, ids[2]!, 'taken');
  const rooms = await e2e.h.db.knex('rsv_equipment').where({ structure_id: 'college-a' }).whereIn('seed_code', ['demo-room-12', 'demo-room-14', 'demo-room-info']).pluck('id');
  const monday = DateTime.now().setZone('Europe/Paris').startOf('week').plus({ weeks: 1 });
  for (const [n, id] of rooms.entries()) {
    for (let day = 0; day < 3; day++) {
      const start = monday.plus({ days: day + n }).set({ hour: 9 + 2 * n, minute: 0 });
      const res = await teacher.post('/structures/college-a/bookings', { equipmentId: String(id), startsAt: start.toISO(), endsAt: start.plus({ hours: 2 }).toISO(), reason: '4e A' });
      expect(res.status).toBe(201);
    }
  }
}

/** The pupil's declaration form answers as the rights matrix now says. */
async function expectPupilMayDeclare(granted: boolean): Promise<void> {
  const pupil = await e2e.h.as('eleve');
  const res = await request(e2e.h.app).get('/reservations/incidents/new?structure=college-a').set('Cookie', pupil.cookie).set('Accept', 'text/html');
  expect({ granted, status: res.status }).toEqual({ granted, status: granted ? 200 : 403 });
}

/** Pages outside the three journeys that people still open: settings, lists, outbox, reports, cross-school view... */
async function tour(variant: Variant): Promise<void> {
  const admin = await e2e.signIn('direction', variant);
  const pages: Array<[string, string]> = [
    ['admin-resource-types', `${SCHOOL}/admin/resource-types`],
    ['admin-settings', `${SCHOOL}/admin/settings`],
    ['admin-outbox', `${SCHOOL}/admin/outbox`],
    ['admin-unavailabilities', `${SCHOOL}/unavailabilities`],
    ['admin-referents', `${SCHOOL}/referents`],
    ['admin-severities', `${SCHOOL}/admin/severities`],
    ['admin-bookings-pending', `${SCHOOL}/bookings/pending`],
    ['admin-labels', `${SCHOOL}/labels`],
    ['admin-stats-report', `${SCHOOL}/stats/report`],
    ['preferences', '/reservations/me/preferences'],
    ['timeline', '/timeline'],
  ];
  try {
    for (const [name, path] of pages) {
      const response = await admin.goto(path);
      expect({ path, status: response?.status() }).toEqual({ path, status: 200 });
      await admin.check(name);
    }
    const equipmentId = (await e2e.h.db.knex('rsv_equipment').where({ structure_id: 'college-a', name: 'Salle 12' }).first('id')).id;
    await admin.goto(`/reservations/equipment/${equipmentId}/edit`);
    expect(await admin.page.getByRole('heading', { level: 1 }).innerText()).toBeTruthy();
    await admin.check('admin-equipment-edit');
  } finally {
    await admin.close();
  }
  // The local authority's view across its schools.
  const authority = await e2e.signIn('collectivite', variant);
  try {
    const response = await authority.goto('/reservations/stats');
    expect(response?.status()).toBe(200);
    expect(await authority.page.getByRole('heading', { level: 1 }).innerText()).toBeTruthy();
    await authority.check('authority-stats-cross');
  } finally {
    await authority.close();
  }
}
