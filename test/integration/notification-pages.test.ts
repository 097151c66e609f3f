import request from 'supertest';
import { startTestHost, TestHost } from '../helpers/host';

let h: TestHost;
beforeAll(async () => {
  h = await startTestHost({ config: { runWorker: false } });
});
afterAll(async () => {
  await h.stop();
});

const form = (cookie: string, path: string, body: Record<string, string>) => request(h.app).post(path).set('Cookie', cookie).type('form').send(body);

describe('mail pages, without JavaScript', () => {
  it('a teacher turns comment mails off and on', async () => {
    const teacher = await h.as('enseignant');
    const page = await teacher.get('/reservations/me/preferences', 'text/html');
    expect(page.text).toMatch(/id="p-comments" name="mailComments" checked/);
    expect((await form(teacher.cookie, '/reservations/me/preferences', { _csrf: teacher.csrf })).status).toBe(303);
    expect((await teacher.get('/me/preferences')).body).toEqual({ mailComments: false, mailOwnChanges: false });
    expect((await form(teacher.cookie, '/reservations/me/preferences', { _csrf: teacher.csrf, mailComments: 'on' })).status).toBe(303);
    expect((await teacher.get('/me/preferences')).body.mailComments).toBe(true);
  });

  it('the admin sees the outbox by state and sends a failed mail again', async () => {
    const teacher = await h.as('enseignant');
    const tablets = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-tablets' }).first()).id);
    await teacher.post('/structures/college-a/bookings', { equipmentId: tablets, startsAt: '2030-05-06T10:00', endsAt: '2030-05-06T11:00' });
    // No worker here: expand by hand, then play a mail that failed for good.
    await h.module.context.notifier.expandPending();
    const delivery = await h.db.knex('rsv_deliveries').where({ structure_id: 'college-a' }).first();
    await h.db.knex('rsv_deliveries').where({ id: delivery.id }).update({ status: 'failed', attempts: 8, last_error: '421 <script>busy</script>' });
    const admin = await h.as('direction');
    const page = await admin.get('/reservations/structures/college-a/admin/outbox?status=failed', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain(delivery.address);
    expect(page.text).toContain('421 &lt;script&gt;busy&lt;/script&gt;');
    const retried = await form(admin.cookie, `/reservations/deliveries/${delivery.id}/retry`, { _csrf: admin.csrf });
    expect(retried.status).toBe(303);
    expect((await h.db.knex('rsv_deliveries').where({ id: delivery.id }).first()).status).toBe('pending');
  });

  it('the settings page keeps a second address for the shared mailbox and the editor address, and refuses a bad one', async () => {
    const admin = await h.as('direction');
    const body: Record<string, string> = { _csrf: admin.csrf, planning: 'on', incidents: 'on', timeZone: 'Europe/Paris', holidays: '', reopenDays: '30', showBookingOwners: 'on', extraMailbox: 'dane@ac-versailles.test', editorEmail: 'support@editeur.test', hours_mon: '08:00-18:00', hours_tue: '', hours_wed: '', hours_thu: '', hours_fri: '', hours_sat: '', hours_sun: '' };
    expect((await form(admin.cookie, '/reservations/structures/college-a/admin/settings', body)).status).toBe(303);
    expect((await admin.get('/structures/college-a/settings')).body).toMatchObject({ extraMailbox: 'dane@ac-versailles.test', editorEmail: 'support@editeur.test' });
    const bad = await form(admin.cookie, '/reservations/structures/college-a/admin/settings', { ...body, extraMailbox: 'dane@x\r\nBcc: y@z' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('extraMailbox');
  });
});

describe('an install that tells nothing by mail', () => {
  it('NOTIFICATIONS=0 records no outbox row', async () => {
    const quiet = await startTestHost({ config: { notifications: false } });
    try {
      const teacher = await quiet.as('enseignant');
      const tablets = String((await quiet.db.knex('rsv_equipment').where({ seed_code: 'demo-tablets' }).first()).id);
      expect((await teacher.post('/structures/college-a/bookings', { equipmentId: tablets, startsAt: '2030-05-06T10:00', endsAt: '2030-05-06T11:00' })).status).toBe(201);
      // A declaration and a move write their notification in their own statement: not here.
      const k = quiet.db.knex;
      const declared = await teacher.post('/structures/college-a/incidents', {
        equipmentId: String((await k('rsv_equipment').where({ seed_code: 'demo-projector-12' }).first()).id),
        typeId: String((await k('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id),
        severityId: String((await k('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id),
        description: 'Sans mail',
      });
      expect(declared.status).toBe(201);
      const referent = await quiet.as('referent1');
      expect((await referent.post(`/incidents/${declared.body.id}/transitions`, { to: 'taken' })).status).toBe(200);
      expect(await k('rsv_incident_events').where({ incident_id: declared.body.id }).count({ n: '*' })).toEqual([{ n: '3' }]);
      expect(await quiet.db.knex('rsv_notifications').count({ n: '*' })).toEqual([{ n: '0' }]);
    } finally {
      await quiet.stop();
    }
  });
});
