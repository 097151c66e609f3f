import { startTestHost, TestHost } from '../helpers/host';
import { waitForMails, settle, mailbox, address } from '../helpers/mail';
import type { CaughtMail } from '../../src/devhost/mailcatcher';

let h: TestHost;
let projector: string;
let typeId: string;
let severityId: string;
beforeAll(async () => {
  h = await startTestHost();
  projector = String((await h.db.knex('rsv_equipment').where({ seed_code: 'demo-projector-12' }).first()).id);
  typeId = String((await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first()).id);
  severityId = String((await h.db.knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first()).id);
});
afterAll(async () => {
  await h.stop();
});

async function declare(login: string, description: string) {
  const c = await h.as(login);
  const res = await c.post('/structures/college-a/incidents', { equipmentId: projector, typeId, severityId, description });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const ofIncident = (id: string) => (m: CaughtMail) => m.subject.startsWith(`[#${id}]`);
async function mailsOf(id: string): Promise<CaughtMail[]> {
  return (await h.mailCatcher.list(2000)).filter(ofIncident(id));
}

describe('incident mails (source document: the teacher and the referents at each step)', () => {
  it('declaring an incident mails the teacher once and the shared mailbox once; each status change mails each once', async () => {
    const id = await declare('enseignant', "Le vidéoprojecteur de la salle 12 ne s'allume plus.");
    const created = await waitForMails(h, ofIncident(id), 2);
    await settle();
    expect((await mailsOf(id)).map((m) => m.to[0]).sort()).toEqual([address('enseignant'), mailbox('college-a')].sort());
    expect(created[0]!.subject).toBe(`[#${id}] Nouvel incident : Vidéoprojecteur salle 12`);
    expect(created[0]!.text).toContain('Matériels');
    expect(created[0]!.text).toContain('Réparation');
    expect(created[0]!.text).toContain(`http://127.0.0.1:3000/reservations/incidents/${id}`);

    const referent = await h.as('referent1');
    for (const [to, label] of [['taken', 'pris en charge'], ['in_progress', 'en cours de résolution'], ['closed', 'fermé']] as const) {
      expect((await referent.post(`/incidents/${id}/transitions`, { to })).status).toBe(200);
      const step = await waitForMails(h, (m) => ofIncident(id)(m) && m.subject.endsWith(label), 2);
      await settle(800);
      const now = (await mailsOf(id)).filter((m) => m.subject.endsWith(label));
      expect(now.map((m) => m.to[0]).sort()).toEqual([address('enseignant'), mailbox('college-a')].sort());
      expect(step[0]!.text).toContain('Karim Benali a fait passer');
    }
    // One thread for the whole incident.
    const all = await mailsOf(id);
    expect(new Set(all.map((m) => m.headers['in-reply-to']))).toEqual(new Set([`<rsv-incident-${id}@127.0.0.1>`]));
    expect(all.find((m) => m.subject.endsWith('fermé') && m.to[0] === address('enseignant'))!.text).toContain(`/reservations/incidents/${id}/confirm`);
  }, 60_000);

  it('a teacher whose language is English gets English mails', async () => {
    await h.db.knex('host_users').where({ login: 'referent2' }).update({ language: 'en' });
    const id = await declare('referent2', 'The wifi drops every ten minutes.');
    const [mail] = await waitForMails(h, (m) => ofIncident(id)(m) && m.to.includes(address('referent2')), 1);
    expect(mail!.subject).toBe(`[#${id}] New incident: Vidéoprojecteur salle 12`);
    expect(mail!.text).toContain('Hardware');
    await h.db.knex('host_users').where({ login: 'referent2' }).update({ language: null });
  });

  it('a description with CR/LF and "Bcc:" adds no header; HTML in a comment is escaped in the HTML mail', async () => {
    const id = await declare('enseignant', 'Panne\r\nBcc: intrus@example.org\r\nSubject: gagné');
    const referent = await h.as('referent1');
    expect((await referent.post(`/incidents/${id}/comments`, { text: '<script>alert(1)</script> <b>gras</b>' })).status).toBe(201);
    const comment = await waitForMails(h, (m) => ofIncident(id)(m) && m.subject.includes('Nouveau commentaire') && m.to.includes(address('enseignant')), 1);
    const all = await mailsOf(id);
    for (const m of all) {
      expect(m.headers.bcc).toBeUndefined();
      expect(m.to).not.toContain('intrus@example.org');
      expect(m.subject).not.toContain('gagné');
    }
    expect(comment[0]!.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;gras&lt;/b&gt;');
    expect(comment[0]!.html).not.toContain('<script>');
    const envelopes = await h.db.knex('host_mails').select('envelope_to');
    expect(envelopes.flatMap((e: { envelope_to: string[] }) => e.envelope_to)).not.toContain('intrus@example.org');
  });

  it('a user who turned comment mails off still gets status changes; followers are told too', async () => {
    const teacher = await h.as('enseignant');
    expect((await teacher.put('/me/preferences', { mailComments: false })).status).toBe(200);
    const id = await declare('enseignant', 'Le TNI ne répond plus au stylet.');
    const colleague = await h.as('direction');
    expect((await colleague.post(`/incidents/${id}/follow`, {})).status).toBeLessThan(300);
    const referent = await h.as('referent1');
    await referent.post(`/incidents/${id}/comments`, { text: 'Je passe demain matin.' });
    await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
    await waitForMails(h, (m) => ofIncident(id)(m) && m.subject.endsWith('pris en charge'), 3);
    await settle();
    const mails = await mailsOf(id);
    const toTeacher = mails.filter((m) => m.to.includes(address('enseignant'))).map((m) => m.subject);
    expect(toTeacher.some((s) => s.includes('Nouveau commentaire'))).toBe(false);
    expect(toTeacher.some((s) => s.endsWith('pris en charge'))).toBe(true);
    const toFollower = mails.filter((m) => m.to.includes(address('direction'))).map((m) => m.subject);
    expect(toFollower.some((s) => s.includes('Nouveau commentaire'))).toBe(true);
    expect(toFollower.some((s) => s.endsWith('pris en charge'))).toBe(true);
    await teacher.put('/me/preferences', { mailComments: true });
  });

  it('the referent who acts is not mailed about their own change; without a shared address each referent is', async () => {
    await h.db.knex('host_users').where({ id: 'fa:college-a:service.informatique' }).update({ email: null });
    try {
      const id = await declare('enseignant', 'Imprimante bloquée.');
      await waitForMails(h, (m) => ofIncident(id)(m) && m.to.includes(address('referent1')), 1);
      const referent = await h.as('referent1');
      await referent.post(`/incidents/${id}/transitions`, { to: 'taken' });
      await waitForMails(h, (m) => ofIncident(id)(m) && m.subject.endsWith('pris en charge'), 2);
      await settle();
      const taken = (await mailsOf(id)).filter((m) => m.subject.endsWith('pris en charge')).map((m) => m.to[0]).sort();
      expect(taken).toEqual([address('enseignant'), address('referent2')].sort());
    } finally {
      await h.db.knex('host_users').where({ id: 'fa:college-a:service.informatique' }).update({ email: mailbox('college-a') });
    }
  });

  it("the school's second address gets the shared mailbox's mails; a level-3 escalation mails the editor", async () => {
    const admin = await h.as('direction');
    expect((await admin.put('/structures/college-a/settings', { extraMailbox: 'dane@ac-versailles.test', editorEmail: 'support@editeur-ent.test' })).status).toBe(200);
    const id = await declare('enseignant', "L'ENT affiche une erreur 500 sur le cahier de textes.");
    await waitForMails(h, (m) => ofIncident(id)(m) && m.to.includes('dane@ac-versailles.test'), 1);
    const referent = await h.as('referent1');
    expect((await referent.post(`/incidents/${id}/escalate`, { level: 3, domain: 'technical' })).status).toBe(200);
    const [editor] = await waitForMails(h, (m) => ofIncident(id)(m) && m.to.includes('support@editeur-ent.test'), 1);
    expect(editor!.subject).toContain('Incident transmis');
    expect(editor!.text).toContain('niveau 3');
  });
});

describe('the admin sees the outbox and can retry', () => {
  it('lists deliveries with their state and error, and retries a failed one', async () => {
    const failed = await h.db.knex('rsv_deliveries').where({ structure_id: 'college-a', status: 'sent' }).first();
    await h.db.knex('rsv_deliveries').where({ id: failed.id }).update({ status: 'failed', last_error: 'connect ECONNREFUSED', attempts: 8 });
    const admin = await h.as('direction');
    const list = await admin.get('/structures/college-a/outbox?status=failed');
    expect(list.status).toBe(200);
    expect(list.body.items[0]).toMatchObject({ id: String(failed.id), status: 'failed', attempts: 8, error: 'connect ECONNREFUSED' });
    expect(list.body.counts.failed).toBe(1);
    const before = (await h.mailCatcher.list(2000)).length;
    expect((await admin.post(`/deliveries/${failed.id}/retry`, {})).status).toBe(200);
    await waitForMails(h, () => true, before + 1);
    await settle(500);
    expect((await h.db.knex('rsv_deliveries').where({ id: failed.id }).first()).status).toBe('sent');
    const teacher = await h.as('enseignant');
    expect((await teacher.get('/structures/college-a/outbox')).status).toBe(403);
    expect((await (await h.as('direction-b')).post(`/deliveries/${failed.id}/retry`, {})).status).toBe(404);
  });
});

describe('in-app notifications through the host timeline', () => {
  it('the reporter and each referent see a declaration in the reference host timeline', async () => {
    const id = await declare('enseignant', 'Le son du TNI grésille.');
    await waitForMails(h, ofIncident(id), 2);
    const referent = await h.as('referent2');
    let items: Array<{ key: string; params: { number: string }; url: string }> = [];
    for (let i = 0; i < 20 && !items.some((n) => n.params.number === id); i++) {
      items = (await referent.get('/timeline')).body;
      await settle(200);
    }
    expect(items.find((n) => n.params.number === id)).toMatchObject({ key: 'timeline.incident.created', url: `/reservations/incidents/${id}` });
    const page = await referent.get('/timeline', 'text/html');
    expect(page.text).toContain(`Incident n° ${id} déclaré`);
  });
});
