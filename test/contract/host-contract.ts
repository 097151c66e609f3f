import type { Response } from 'supertest';
import type { HostUser } from '../../src/host';
import type { CaughtMail } from '../../src/devhost/mailcatcher';
import { clientFor, ContractClient, ContractSubject } from './subjects';

/**
 * The host contract: what every implementation of the hook API (src/host/index.ts) must do for the module, asked the
 * same way of each. test/contract/*.test.ts run it against the reference host and the OpenID Connect host; a host
 * that does not follow a change of the hook API fails here.
 *
 * The people are the demo ones (src/devhost/demo.ts): `enseignant` (Teacher, college-a), `direction` (school admin of
 * college-a), `referent1`/`referent2` (college-a staff), `eleve` (Student), `collectivite` (two schools).
 */
const SERVICE = 'service.informatique';

function csrfOfForm(html: string, actionPattern: RegExp): { action: string; csrf: string } {
  for (const match of html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    if (!actionPattern.test(match[1]!)) continue;
    const csrf = match[2]!.match(/name="_csrf" value="([^"]*)"/)?.[1];
    if (csrf !== undefined) return { action: match[1]!, csrf };
  }
  throw new Error(`no form with an action like ${actionPattern} on the page`);
}

/** Inline script or style would be refused by the CSP: the layout must have none. */
function expectNoInlineCode(html: string): void {
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="/);
  expect(html).not.toMatch(/<style\b/i);
  expect(html).not.toMatch(/\sstyle="/i);
  expect(html).not.toMatch(/\son[a-z]+="/i);
}

export function describeHostContract(label: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`host contract — ${label}`, () => {
    let s: ContractSubject;
    let teacher: ContractClient;
    let teacherUser: HostUser;

    beforeAll(async () => {
      s = await makeSubject();
      teacher = await s.signIn('enseignant');
      [teacherUser] = await s.host.directory.getUsers([teacher.userId]);
    }, 90_000);
    afterAll(async () => {
      await s?.stop();
    });

    describe('sign-in', () => {
      it('yields the right user and structures', async () => {
        const res = await teacher.get('/session');
        expect(res.status).toBe(200);
        expect(res.body.user).toEqual({ id: teacher.userId, login: 'enseignant', displayName: 'Claire Martin', profile: 'Teacher' });
        expect(res.body.structures).toEqual([expect.objectContaining({ id: 'college-a', name: 'Collège Jean Moulin' })]);
        expect(teacherUser).toMatchObject({
          id: teacher.userId,
          login: 'enseignant',
          displayName: 'Claire Martin',
          profile: 'Teacher',
          structures: ['college-a'],
          adminStructures: [],
          email: 'enseignant@college-a.demo-ent.test',
        });
        expect(teacherUser.functional).toBeFalsy();
      });

      it('knows a person of two schools in both, and a school admin as admin of their school', async () => {
        const authority = await s.signIn('collectivite');
        const session = await authority.get('/session');
        expect(session.body.structures.map((x: { id: string }) => x.id).sort()).toEqual(['college-a', 'college-b']);
        const admin = await s.signIn('direction');
        const [adminUser] = await s.host.directory.getUsers([admin.userId]);
        expect(adminUser).toMatchObject({ login: 'direction', profile: 'Personnel', structures: ['college-a'], adminStructures: ['college-a'] });
        // Several at once (a list page's reporters and assignees): each as when asked alone, groups included.
        const ids = [authority.userId, admin.userId, teacher.userId];
        const together = await s.host.directory.getUsers(ids);
        const alone = await Promise.all(ids.map(async (id) => (await s.host.directory.getUsers([id]))[0]));
        expect([...together].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...alone].sort((a, b) => a!.id.localeCompare(b!.id)));
        expect(together.find((u) => u.id === authority.userId)!.structures.sort()).toEqual(['college-a', 'college-b']);
      });

      it('opens a new session at each sign-in, and signing out ends only that one', async () => {
        const first = await s.signIn('enseignant');
        const second = await s.signIn('enseignant');
        expect(first.csrf).not.toBe(second.csrf);
        const page = await first.get('/reservations/', 'text/html');
        const logout = csrfOfForm(page.text, /logout/);
        const out = await first.form(logout.action, { _csrf: logout.csrf });
        expect([200, 303]).toContain(out.status);
        expect((await first.get('/session')).status).toBe(401);
        expect((await second.get('/session')).status).toBe(200);
      });

      it('refuses to sign out without the form token', async () => {
        const client = await s.signIn('enseignant');
        const page = await client.get('/reservations/', 'text/html');
        const logout = csrfOfForm(page.text, /logout/);
        const out = await client.form(logout.action, { _csrf: 'forged' });
        expect(out.status).toBe(403);
        expect((await client.get('/session')).status).toBe(200);
      });

      it("sends a signed-out visitor to the host's sign-in, and answers 401 to the API", async () => {
        const anonymous = clientFor(s.app, '');
        const html = await anonymous.get('/reservations/', 'text/html');
        expect(html.status).toBe(303);
        expect(html.headers.location).toBe(s.host.auth.loginUrl('/reservations/'));
        const api = await anonymous.get('/session');
        expect(api.status).toBe(401);
        expect(api.body.error).toBe('unauthenticated');
      });
    });

    describe('accounts.ensureFunctionalAccount', () => {
      it('is idempotent, also when called many times at once, and keeps the delegates', async () => {
        const before = await s.host.accounts.getFunctionalAccount('college-a', SERVICE);
        expect(before).not.toBeNull();
        const again = await s.host.accounts.ensureFunctionalAccount({ structureId: 'college-a', login: SERVICE, displayName: 'Autre nom', initialDelegateIds: [teacher.userId] });
        expect(again.id).toBe(before!.id);
        expect(again.delegates.map((d) => d.id).sort()).toEqual(before!.delegates.map((d) => d.id).sort());
        const many = await Promise.all([1, 2, 3, 4, 5, 6].map(() => s.host.accounts.ensureFunctionalAccount({ structureId: 'college-a', login: SERVICE, displayName: 'Service informatique' })));
        expect(new Set(many.map((a) => a.id))).toEqual(new Set([before!.id]));
      });

      it('gives a school that appears one account, whoever asks at the same moment', async () => {
        await s.addStructure('college-contract', 'Collège du Contrat');
        const installed = await s.host.accounts.getFunctionalAccount('college-contract', SERVICE);
        expect(installed).toMatchObject({ login: SERVICE, structureId: 'college-contract' });
        const many = await Promise.all([1, 2, 3, 4, 5].map(() => s.host.accounts.ensureFunctionalAccount({ structureId: 'college-contract', login: SERVICE, displayName: 'Service informatique' })));
        expect(new Set(many.map((a) => a.id))).toEqual(new Set([installed!.id]));
        expect((await s.host.directory.listStructures()).map((x) => x.id)).toContain('college-contract');
      });

      it("is the account the module shows as the school's shared account", async () => {
        const admin = await s.signIn('direction');
        const res = await admin.get('/structures/college-a/functional-account');
        expect(res.status).toBe(200);
        const account = await s.host.accounts.getFunctionalAccount('college-a', SERVICE);
        expect(res.body).toMatchObject({ id: account!.id, login: SERVICE });
      });
    });

    describe('rights.can', () => {
      it('follows the default grants by profile, by local admin status and by school', async () => {
        expect(await s.host.rights.can(teacherUser, 'booking.book', 'college-a')).toBe(true);
        expect(await s.host.rights.can(teacherUser, 'incident.declare', 'college-a')).toBe(true);
        expect(await s.host.rights.can(teacherUser, 'module.configure', 'college-a')).toBe(false);
        expect(await s.host.rights.can(teacherUser, 'booking.book', 'college-b')).toBe(false);
        const admin = await s.signIn('direction');
        const [adminUser] = await s.host.directory.getUsers([admin.userId]);
        expect(await s.host.rights.can(adminUser!, 'module.configure', 'college-a')).toBe(true);
        const pupil = await s.signIn('eleve');
        const [pupilUser] = await s.host.directory.getUsers([pupil.userId]);
        expect(await s.host.rights.can(pupilUser!, 'module.access', 'college-a')).toBe(false);
      });

      it('follows a change of the grants made by the school, at once', async () => {
        const grants = await s.host.rights.grants('college-a');
        const withoutTeacherBooking = grants.filter((g) => !(g.action === 'booking.book' && g.subject.kind === 'profile' && g.subject.id === 'Teacher'));
        expect(withoutTeacherBooking.length).toBe(grants.length - 1);
        try {
          await s.host.rights.setGrants('college-a', withoutTeacherBooking.map(({ action, subject }) => ({ action, subject })));
          expect(await s.host.rights.can(teacherUser, 'booking.book', 'college-a')).toBe(false);
          expect((await teacher.get('/session')).body.rights['college-a']).not.toContain('booking.book');
        } finally {
          await s.host.rights.setGrants('college-a', grants.map(({ action, subject }) => ({ action, subject })));
        }
        expect(await s.host.rights.can(teacherUser, 'booking.book', 'college-a')).toBe(true);
      });

      it("gives the referents' actions to the delegates of service.informatique, and only to them", async () => {
        const before = (await s.host.accounts.getFunctionalAccount('college-a', SERVICE))!.delegates.map((d) => d.id);
        expect(await s.host.rights.can(teacherUser, 'incident.manage', 'college-a')).toBe(false);
        try {
          await s.host.accounts.setDelegates('college-a', SERVICE, [...before, teacher.userId]);
          expect(await s.host.rights.can(teacherUser, 'incident.manage', 'college-a')).toBe(true);
          expect((await s.host.rights.actionsOf(teacherUser))['college-a']).toEqual(expect.arrayContaining(['incident.manage', 'booking.validate', 'booking.book']));
        } finally {
          await s.host.accounts.setDelegates('college-a', SERVICE, before);
        }
        expect(await s.host.rights.can(teacherUser, 'incident.manage', 'college-a')).toBe(false);
      });

      it('refuses a delegate who is not a user of the school', async () => {
        const other = await s.signIn('enseignant2');
        await expect(s.host.accounts.setDelegates('college-a', SERVICE, [other.userId])).rejects.toMatchObject({ status: 400 });
      });
    });

    describe('menu', () => {
      it('has the module entry registered, shown to those who hold its right', async () => {
        expect(s.menu()).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'reservations-incident', href: '/reservations', right: 'module.access', labelKey: 'module.name' })]));
        const page = await teacher.get('/reservations/', 'text/html');
        expect(page.text).toMatch(/<nav[^>]*>[\s\S]*<a href="\/reservations"[^>]*>[\s\S]*?Réservations - Incident[\s\S]*?<\/a>[\s\S]*<\/nav>/);
        const pupil = await s.signIn('eleve');
        const pupilPage = await pupil.get('/reservations/', 'text/html');
        expect(pupilPage.status).toBe(200);
        expect(pupilPage.text).not.toMatch(/<a href="\/reservations"[^>]*>[^<]*(<[^>]*>[^<]*)*Réservations - Incident/);
      });
    });

    describe('layout', () => {
      let page: Response;
      beforeAll(async () => {
        page = await teacher.get('/reservations/', 'text/html');
      });

      it("renders a module page inside the host's frame, with the user and the school", () => {
        expect(page.status).toBe(200);
        expect(page.headers['content-type']).toMatch(/text\/html/);
        expect(page.text).toMatch(/^<!DOCTYPE html>/i);
        expect(page.text).toContain('<html lang="fr">');
        expect(page.text).toMatch(/<title>[^<]*Réservations - Incident[^<]*<\/title>/);
        expect(page.text).toMatch(/<main id="main"[^>]*>[\s\S]*<h1>Réservations - Incident<\/h1>[\s\S]*<\/main>/);
        expect(page.text).toContain('Claire Martin');
        expect(page.text).toContain('Collège Jean Moulin');
        expect(page.text).toContain('href="/reservations/assets/module.css"');
        expect(page.text).toContain('src="/reservations/assets/module.js"');
      });

      it('keeps a strict Content-Security-Policy: no inline script or style anywhere in the frame', () => {
        const csp = page.headers['content-security-policy'] as string;
        expect(csp).toMatch(/script-src 'self'/);
        expect(csp).toMatch(/style-src 'self'/);
        expect(csp).not.toContain('unsafe-inline');
        expectNoInlineCode(page.text);
      });

      it('offers the language switch, and renders in English when asked', async () => {
        expect(page.text).toMatch(/<select[^>]*name="lang"/);
        const english = await teacher.get('/reservations/?lang=en', 'text/html');
        expect(english.text).toContain('<html lang="en">');
        expect(english.text).toContain('Bookings - Incidents');
      });

      it("renders the module's error pages in the frame too", async () => {
        const missing = await teacher.get('/reservations/structures/college-b/referents', 'text/html');
        expect(missing.status).toBe(404);
        expect(missing.text).toMatch(/<main id="main"/);
        expect(missing.text).toContain('Claire Martin');
        expectNoInlineCode(missing.text);
      });
    });

    describe('the referents settings page (a module page every host gets)', () => {
      it('lets the school admin name the referents among the people of the school', async () => {
        const referent = await s.signIn('referent1');
        const admin = await s.signIn('direction');
        const before = (await s.host.accounts.getFunctionalAccount('college-a', SERVICE))!.delegates.map((d) => d.id);
        try {
          const page = await admin.get('/reservations/structures/college-a/referents', 'text/html');
          expect(page.status).toBe(200);
          expect(page.text).toContain('Karim Benali');
          expectNoInlineCode(page.text);
          const saved = await admin.form('/reservations/structures/college-a/referents', { _csrf: admin.csrf, userIds: [referent.userId] });
          expect(saved.status).toBe(303);
          expect(saved.headers.location).toBe('/reservations/structures/college-a/referents?saved=1');
          const account = await s.host.accounts.getFunctionalAccount('college-a', SERVICE);
          expect(account!.delegates.map((d) => d.login)).toEqual(['referent1']);
          const [referentUser] = await s.host.directory.getUsers([referent.userId]);
          expect(await s.host.rights.can(referentUser!, 'incident.manage', 'college-a')).toBe(true);
        } finally {
          await s.host.accounts.setDelegates('college-a', SERVICE, before);
        }
      });

      it('imports them from CSV, all or nothing', async () => {
        await s.signIn('referent1');
        await s.signIn('referent2');
        const admin = await s.signIn('direction');
        const before = (await s.host.accounts.getFunctionalAccount('college-a', SERVICE))!.delegates.map((d) => d.id);
        try {
          const wrong = await admin.form('/reservations/structures/college-a/referents/import', { _csrf: admin.csrf, mode: 'replace', csv: 'login;nom\nreferent1;Karim Benali\nnobody;Personne' });
          expect(wrong.status).toBe(400);
          expect(wrong.text).toContain('nobody');
          expect((await s.host.accounts.getFunctionalAccount('college-a', SERVICE))!.delegates.map((d) => d.id).sort()).toEqual([...before].sort());
          const ok = await admin.form('/reservations/structures/college-a/referents/import', {
            _csrf: admin.csrf,
            mode: 'replace',
            csv: 'identifiant,courriel\nreferent1,\n,REFERENT2@college-a.demo-ent.test',
          });
          expect(ok.status).toBe(303);
          expect(ok.headers.location).toBe('/reservations/structures/college-a/referents?imported=2');
          expect((await s.host.accounts.getFunctionalAccount('college-a', SERVICE))!.delegates.map((d) => d.login).sort()).toEqual(['referent1', 'referent2']);
        } finally {
          await s.host.accounts.setDelegates('college-a', SERVICE, before);
        }
      });

      it('is refused to a teacher', async () => {
        const page = await teacher.get('/reservations/structures/college-a/referents', 'text/html');
        expect(page.status).toBe(403);
        const post = await teacher.form('/reservations/structures/college-a/referents', { _csrf: teacher.csrf, userIds: [teacher.userId] });
        expect(post.status).toBe(403);
      });
    });

    describe('mail', () => {
      it("goes out to the user's address from the host's directory, once", async () => {
        const knex = s.module.context.knex;
        const wifi = await knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'wifi' }).first('id');
        const type = await knex('rsv_incident_types').where({ structure_id: 'college-a', seed_code: 'hardware' }).first('id');
        const severity = await knex('rsv_severities').where({ structure_id: 'college-a', seed_code: 'repair' }).first('id');
        const res = await teacher.post('/structures/college-a/incidents', { equipmentId: String(wifi.id), typeId: String(type.id), severityId: String(severity.id), description: 'Le wifi du CDI ne répond plus.' });
        expect(res.status).toBe(201);
        const mine = (all: CaughtMail[]) => all.filter((m) => m.subject.startsWith(`[#${res.body.id}]`));
        const until = Date.now() + 20_000;
        while (Date.now() < until && !mine(await s.mails()).some((m) => m.to.includes(teacherUser.email!))) await new Promise((r) => setTimeout(r, 150));
        await new Promise((r) => setTimeout(r, 1500)); // time for a duplicate to show, if any
        const mails = mine(await s.mails());
        expect(mails.filter((m) => m.to.includes(teacherUser.email!))).toHaveLength(1);
        const pairs = mails.map((m) => `${m.to.join(',')} ${m.subject}`);
        expect(new Set(pairs).size).toBe(pairs.length);
        expect(mails[0]!.text).toContain(`${s.host.http.publicUrl()}/reservations/incidents/${res.body.id}`);
      }, 40_000);
    });
  });
}
