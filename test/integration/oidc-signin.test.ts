import request from 'supertest';
import { Browser, signInThroughProvider } from '../contract/browser';
import { startTestOidcHost, TestOidcHost, TEST_ENT_URL } from '../contract/oidc-host';
import { freePort, subOf } from '../contract/fixtures';
import { startTestProvider, TestProvider } from '../contract/provider';
import { SESSION_COOKIE } from '../../src/hostkit/sessions';

/**
 * The OpenID Connect host with a real provider (oidc-provider over TLS on loopback): the sign-in journeys of the
 * issue's "done when", and every way a sign-in must be refused — with a clear page and no session.
 */
let h: TestOidcHost;
beforeAll(async () => {
  h = await startTestOidcHost({ BOOTSTRAP_ADMINS: 'enseignant2' });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const sessionCount = async () => Number((await h.db.knex('host_sessions').count<{ count: string }[]>('* as count'))[0]!.count);

function sessionOf(browser: Browser) {
  return request(h.oidcHost.app).get('/reservations/api/v1/session').set('Cookie', browser.cookieHeader(h.origin)).set('Accept', 'application/json');
}

/** Follows a callback URL in the browser that started the sign-in; returns the RP's answer (not followed further). */
async function callback(browser: Browser, url: string) {
  return browser.request(url);
}

function expectRefusedPage(page: { status: number; text: string; headers: Headers }, status = 400) {
  expect(page.status).toBe(status);
  expect(page.text).toContain('La connexion n&#39;a pas abouti');
  expect(page.text).toContain('Aucune session n&#39;a été ouverte.');
  expect(page.text).toContain('href="/auth/login"');
  expect(page.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`))).toBe(false);
}

describe('a teacher of college-a signs in through the provider', () => {
  it('lands on the module with the right name, profile and school', async () => {
    const browser = h.newBrowser();
    const page = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { returnTo: '/reservations/' });
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${h.origin}/reservations/`);
    // The journey: the module, the provider's login and consent forms, the callback, back to the module.
    expect(page.history[0]).toBe(`${h.origin}/auth/login?returnTo=%2Freservations%2F`);
    expect(page.history.some((u) => u.startsWith(`${h.provider.issuer}/interaction/`))).toBe(true);
    expect(page.history.some((u) => u.startsWith(`${h.origin}/auth/callback?code=`))).toBe(true);
    // The frame: the school's name, the user with their profile, the link back to the ENT.
    expect(page.text).toMatch(/<span class="oh-school-name">Collège Jean Moulin<\/span>/);
    expect(page.text).toMatch(/Claire Martin <span class="oh-profile">\(Enseignant\)<\/span>/);
    expect(page.text).toContain(`href="${TEST_ENT_URL}"`);
    expect(page.text).toContain('<h1>Réservations - Incident</h1>');
    const session = await sessionOf(browser);
    expect(session.body.user).toEqual({ id: 'oidc-enseignant', login: 'enseignant', displayName: 'Claire Martin', profile: 'Teacher' });
    expect(session.body.structures).toEqual([expect.objectContaining({ id: 'college-a', name: 'Collège Jean Moulin' })]);
    expect(session.body.rights['college-a']).toEqual(expect.arrayContaining(['booking.book', 'incident.declare', 'module.access']));
  });

  it('sets an HttpOnly, SameSite=Lax session cookie and keeps every token on the server', async () => {
    const browser = h.newBrowser();
    const stopped = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { stopAtCallback: true });
    expect(stopped.callbackUrl).toMatch(/\/auth\/callback\?code=[^&]+&state=[^&]+&iss=/);
    const answer = await callback(browser, stopped.callbackUrl!);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/reservations');
    const cookie = answer.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`))!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).not.toMatch(/; Secure/i);
    // No JWT (ID or access token) ever reaches the browser, and the session row keeps none either.
    for (const u of stopped.history) expect(u).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(answer.text + [...answer.headers.values()].join(' ')).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    const rows = await h.db.knex('host_sessions').where({ user_id: 'oidc-enseignant' });
    for (const row of rows) {
      expect(Object.keys(row.data).sort()).toEqual(['iss', 'signedInAt']);
      expect(JSON.stringify(row.data)).not.toMatch(/eyJ/);
    }
  });

  it('goes back only to a local path after sign-in (no open redirect)', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', '/auth/logout']) {
      const browser = h.newBrowser();
      const page = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { returnTo });
      expect(page.url).toBe(`${h.origin}/reservations`);
    }
    const browser = h.newBrowser();
    const page = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { returnTo: '/reservations/?lang=en' });
    expect(page.url).toBe(`${h.origin}/reservations/?lang=en`);
  });

  it('takes the language from the claims, and the frame switch wins afterwards', async () => {
    h.provider.accounts.set('oidc-english', { preferred_username: 'teacher.en', name: 'Jane Smith', profile: 'Teacher', structures: ['college-a'], locale: 'en-GB' });
    const first = await h.signIn('', { sub: 'oidc-english' });
    const page = await first.browser.request(`${h.origin}/reservations/`);
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('Jane Smith <span class="oh-profile">(Teacher)</span>');
    const csrf = page.text.match(/action="\/lang"[\s\S]*?name="_csrf" value="([^"]+)"/)![1]!;
    const switched = await first.browser.request(`${h.origin}/lang`, { form: { _csrf: csrf, lang: 'fr', returnTo: '/reservations/' } });
    expect(switched.status).toBe(303);
    const again = await h.signIn('', { sub: 'oidc-english' });
    expect((await again.browser.request(`${h.origin}/reservations/`)).text).toContain('<html lang="fr">');
  });
});

describe('the directory follows the claims', () => {
  it('a new school gets its service.informatique account once, however many of its people sign in at the same moment', async () => {
    const people = Array.from({ length: 12 }, (_, i) => `oidc-new-${i}`);
    people.forEach((sub, i) =>
      h.provider.accounts.set(sub, {
        preferred_username: `prof${i}.nouveau`,
        name: `Professeur ${i}`,
        profile: i % 3 === 0 ? 'Personnel' : 'Teacher',
        structures: [{ id: 'college-new', name: 'Collège Nouveau' }],
      }),
    );
    const results = await Promise.all(people.map((sub) => h.signIn('', { sub })));
    expect(results.map((r) => r.status)).toEqual(people.map(() => 200));
    const accounts = await h.db.knex('host_users').where({ functional_structure_id: 'college-new' });
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ login: 'service.informatique', id: 'fa:college-new:service.informatique' });
    expect(await h.db.knex('host_structures').where({ id: 'college-new' })).toEqual([expect.objectContaining({ name: 'Collège Nouveau' })]);
    expect(await h.db.knex('host_structure_installs').where({ structure_id: 'college-new' })).toHaveLength(1);
    // The module's install step ran to the end, once: its seeded lists are there, not twice.
    expect(await h.db.knex('rsv_incident_types').where({ structure_id: 'college-new' })).toHaveLength(5);
    expect(await h.db.knex('rsv_severities').where({ structure_id: 'college-new' })).toHaveLength(5);
    const equipment = await h.db.knex('rsv_equipment').where({ structure_id: 'college-new' });
    expect(equipment.length).toBeGreaterThan(0);
    for (const e of equipment) expect(e.responsible_id).toBe('fa:college-new:service.informatique');
    // Every one of them is in, with the module's default rights in the new school.
    for (const r of results.slice(0, 3)) {
      const session = await sessionOf(r.browser);
      expect(session.body.structures).toEqual([expect.objectContaining({ id: 'college-new', name: 'Collège Nouveau' })]);
      expect(session.body.rights['college-new']).toContain('incident.declare');
    }
  });

  it('moves a person to the schools of their claims at the next sign-in, with the new names, and drops old delegations', async () => {
    h.provider.accounts.set('oidc-mover', { preferred_username: 'mover', name: 'Paul Mobile', profile: 'Teacher', structures: [{ id: 'college-a', name: 'Collège Jean Moulin' }] });
    await h.signIn('', { sub: 'oidc-mover' });
    const before = (await h.oidcHost.host.accounts.getFunctionalAccount('college-a', 'service.informatique'))!.delegates.map((d) => d.id);
    await h.oidcHost.host.accounts.setDelegates('college-a', 'service.informatique', [...before, 'oidc-mover']);
    h.provider.accounts.set('oidc-mover', { preferred_username: 'mover', name: 'Paul Mobile-Martin', profile: 'Personnel', structures: [{ id: 'college-b', name: 'Collège Simone Veil (cité scolaire)' }] });
    const { browser } = await h.signIn('', { sub: 'oidc-mover' });
    const session = await sessionOf(browser);
    expect(session.body.user).toMatchObject({ displayName: 'Paul Mobile-Martin', profile: 'Personnel' });
    expect(session.body.structures).toEqual([expect.objectContaining({ id: 'college-b', name: 'Collège Simone Veil (cité scolaire)' })]);
    const account = await h.oidcHost.host.accounts.getFunctionalAccount('college-a', 'service.informatique');
    expect(account!.delegates.map((d) => d.id)).not.toContain('oidc-mover');
    await h.db.knex('host_structures').where({ id: 'college-b' }).update({ name: 'Collège Simone Veil' });
  });

  it('recognises a school admin by the admin claim or by BOOTSTRAP_ADMINS, and only in their own schools', async () => {
    const viaClaim = await h.signIn('direction');
    expect((await sessionOf(viaClaim.browser)).body.rights['college-a']).toContain('module.configure');
    const viaBootstrap = await h.signIn('enseignant2');
    const rights = (await sessionOf(viaBootstrap.browser)).body.rights;
    expect(rights['college-b']).toContain('module.configure');
    const referents = await viaBootstrap.browser.request(`${h.origin}/reservations/structures/college-b/referents`);
    expect(referents.status).toBe(200);
    h.provider.accounts.set('oidc-pretender', { preferred_username: 'pretender', name: 'Faux Admin', profile: 'Teacher', structures: ['college-a'], admin_structures: ['college-a', 'college-b'] });
    const pretender = await h.signIn('', { sub: 'oidc-pretender' });
    const session = await sessionOf(pretender.browser);
    expect(session.body.structures.map((s: { id: string }) => s.id)).toEqual(['college-a']);
    expect(Object.keys(session.body.rights)).toEqual(['college-a']);
  });

  it('refuses a person whose profile it cannot recognise, with a clear page and no session', async () => {
    h.provider.accounts.set('oidc-robot', { preferred_username: 'robot', name: 'Robot', profile: 'Automate', structures: ['college-a'] });
    const before = await sessionCount();
    const browser = h.newBrowser();
    const stopped = await signInThroughProvider(browser, h.origin, h.provider.issuer, 'oidc-robot', { stopAtCallback: true });
    const page = await callback(browser, stopped.callbackUrl!);
    expectRefusedPage(page);
    expect(page.text).toContain('profil reconnu');
    expect(await sessionCount()).toBe(before);
    expect(await h.db.knex('host_users').where({ id: 'oidc-robot' })).toHaveLength(0);
  });
});

describe('refused sign-ins: a clear page and no session', () => {
  it('a forged state', async () => {
    const before = await sessionCount();
    const browser = h.newBrowser();
    const stopped = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { stopAtCallback: true });
    const forged = new URL(stopped.callbackUrl!);
    forged.searchParams.set('state', 'forged-by-an-attacker');
    const page = await callback(browser, forged.href);
    expectRefusedPage(page);
    expect(page.text).toContain('inconnue, expirée ou déjà utilisée');
    // The genuine sign-in of that browser is still possible: the forged attempt consumed nothing.
    const genuine = await callback(browser, stopped.callbackUrl!);
    expect(genuine.status).toBe(303);
    expect(await sessionCount()).toBe(before + 1);
  });

  it("another browser's sign-in (login CSRF): the state is bound to the browser that started it", async () => {
    const victim = h.newBrowser();
    const attacker = h.newBrowser();
    const stopped = await signInThroughProvider(attacker, h.origin, h.provider.issuer, subOf('eleve'), { stopAtCallback: true });
    const before = await sessionCount();
    await victim.request(`${h.origin}/auth/login`); // the victim has a sign-in of their own under way
    const page = await callback(victim, stopped.callbackUrl!);
    expectRefusedPage(page);
    expect(await sessionCount()).toBe(before);
  });

  it('a replayed callback, and a replayed code in a new sign-in', async () => {
    const browser = h.newBrowser();
    const stopped = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { stopAtCallback: true });
    expect((await callback(browser, stopped.callbackUrl!)).status).toBe(303);
    const before = await sessionCount();
    // The same callback again: its sign-in was consumed.
    const replay = await callback(browser, stopped.callbackUrl!);
    expectRefusedPage(replay);
    // The same code with the state of a fresh sign-in of this browser: the provider refuses a code used once.
    const fresh = await browser.request(`${h.origin}/auth/login`);
    const freshState = new URL(fresh.headers.get('location')!).searchParams.get('state')!;
    const reused = new URL(stopped.callbackUrl!);
    reused.searchParams.set('state', freshState);
    const page = await callback(browser, reused.href);
    expectRefusedPage(page);
    expect(page.text).toContain('a refusé le code de connexion');
    expect(await sessionCount()).toBe(before);
  });

  it('a response claiming another issuer (iss parameter tampered)', async () => {
    const before = await sessionCount();
    const browser = h.newBrowser();
    const stopped = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { stopAtCallback: true });
    const tampered = new URL(stopped.callbackUrl!);
    tampered.searchParams.set('iss', 'https://evil.example');
    const page = await callback(browser, tampered.href);
    expectRefusedPage(page);
    expect(page.text).toContain('contrôles de sécurité');
    expect(await sessionCount()).toBe(before);
  });

  describe('a code from another provider (mix-up: the authorization request sent to the wrong issuer)', () => {
    let other: TestProvider;
    beforeAll(async () => {
      other = await startTestProvider({ relyingPartyOrigins: [h.origin], accounts: [{ sub: subOf('enseignant'), claims: { preferred_username: 'enseignant', name: 'Claire Martin', profile: 'Teacher', structures: ['college-a'] } }], certificate: h.provider.certificate });
    });
    afterAll(async () => {
      await other?.stop();
    });

    it('is refused', async () => {
      const before = await sessionCount();
      const browser = h.newBrowser();
      const login = await browser.request(`${h.origin}/auth/login`);
      const sentTo = new URL(login.headers.get('location')!);
      const redirected = new URL(sentTo.pathname + sentTo.search, other.issuer);
      const stopped = await signInThroughProvider(browser, h.origin, other.issuer, subOf('enseignant'), { startUrl: redirected.href, stopAtCallback: true });
      expect(new URL(stopped.callbackUrl!).searchParams.get('iss')).toBe(other.issuer);
      const page = await callback(browser, stopped.callbackUrl!);
      expectRefusedPage(page);
      expect(page.text).toContain('contrôles de sécurité');
      expect(await sessionCount()).toBe(before);
    });
  });

  it('an error answered by the provider (the person cancelled)', async () => {
    const browser = h.newBrowser();
    const login = await browser.request(`${h.origin}/auth/login`);
    const state = new URL(login.headers.get('location')!).searchParams.get('state')!;
    const page = await callback(browser, `${h.origin}/auth/callback?error=access_denied&error_description=End-User+aborted&state=${state}&iss=${encodeURIComponent(h.provider.issuer)}`);
    expectRefusedPage(page);
    expect(page.text).toContain("service d&#39;authentification a refusé la connexion");
  });

  it('a sign-in left for more than ten minutes', async () => {
    const before = await sessionCount();
    const browser = h.newBrowser();
    const stopped = await signInThroughProvider(browser, h.origin, h.provider.issuer, subOf('enseignant'), { stopAtCallback: true });
    await h.db.knex('host_oidc_logins').update({ expires_at: new Date(Date.now() - 1000) });
    const page = await callback(browser, stopped.callbackUrl!);
    expectRefusedPage(page);
    expect(await sessionCount()).toBe(before);
    // Housekeeping then deletes what was abandoned, and expired sessions.
    await h.db.knex('host_sessions').where({ user_id: 'oidc-enseignant' }).update({ expires_at: new Date(Date.now() - 1000) });
    const purged = await h.oidcHost.purgeExpired();
    expect(purged.logins).toBeGreaterThan(0);
    expect(purged.sessions).toBeGreaterThan(0);
    expect(await h.db.knex('host_oidc_logins').where('expires_at', '<', new Date())).toHaveLength(0);
  });

  it('a callback with no sign-in under way at all', async () => {
    const page = await h.newBrowser().request(`${h.origin}/auth/callback?code=abc&state=def`);
    expectRefusedPage(page);
  });
});

describe('signing out', () => {
  it('ends the session here and at the provider (RP-initiated logout), then offers to sign in again', async () => {
    const { browser } = await h.signIn('enseignant');
    const page = await browser.request(`${h.origin}/reservations/`);
    const csrf = page.text.match(/action="\/auth\/logout"[\s\S]*?name="_csrf" value="([^"]+)"/)![1]!;
    const out = await browser.request(`${h.origin}/auth/logout`, { form: { _csrf: csrf } });
    expect(out.status).toBe(200);
    const endSession = out.text.match(/<meta http-equiv="refresh" content="0;url=([^"]+)">/)![1]!.replace(/&amp;/g, '&');
    const url = new URL(endSession);
    expect(url.origin).toBe(h.provider.issuer);
    expect(url.searchParams.get('client_id')).toBe(h.provider.clientId);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${h.origin}/auth/signed-out`);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    expect((await sessionOf(browser)).status).toBe(401);
    // At the provider: its confirmation form, then back to the module's signed-out page.
    const confirm = await browser.request(endSession);
    expect(confirm.status).toBe(200);
    const action = confirm.text.match(/<form[^>]*action="([^"]+)"/)![1]!;
    const xsrf = confirm.text.match(/name="xsrf" value="([^"]+)"/)![1]!;
    const back = await browser.navigate(new URL(action, endSession).href, { method: 'POST', form: { xsrf, logout: 'yes' } });
    expect(back.url).toBe(`${h.origin}/auth/signed-out`);
    expect(back.text).toContain('Vous êtes déconnecté');
    // The provider's session is over too: signing in again asks for the login.
    const again = await browser.navigate(`${h.origin}/auth/login`);
    expect(again.url).toMatch(new RegExp(`^${h.provider.issuer}/interaction/`));
    expect(again.text).toContain('name="login"');
  });
});

describe('behind a TLS reverse proxy (PUBLIC_URL https://, TRUST_PROXY)', () => {
  let behind: TestOidcHost;
  beforeAll(async () => {
    behind = await startTestOidcHost({ PUBLIC_URL: 'https://reservations.college.example', TRUST_PROXY: 'loopback' });
  }, 60_000);
  afterAll(async () => {
    await behind?.stop();
  });

  it('marks its cookies Secure', async () => {
    const res = await request(behind.oidcHost.app).get('/auth/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(302);
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('oidc_browser='))!;
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(new URL(res.headers.location).searchParams.get('redirect_uri')).toBe('https://reservations.college.example/auth/callback');
  });
});

describe('a provider that cannot be reached or is not the configured issuer', () => {
  it('shows a clear page, without a crash, when the issuer is misnamed (its metadata names another)', async () => {
    const misnamed = await startTestOidcHost((provider) => ({ OIDC_ISSUER: provider.issuer.replace('127.0.0.1', 'localhost') }));
    try {
      const res = await request(misnamed.oidcHost.app).get('/auth/login').set('Accept', 'text/html');
      expect(res.status).toBe(400);
      expect(res.text).toContain('contrôles de sécurité');
      expect(res.headers['set-cookie']).toBeUndefined();
    } finally {
      await misnamed.stop();
    }
  }, 60_000);

  it('shows a clear page, without a crash, when the provider does not answer', async () => {
    const port = await freePort();
    const down = await startTestOidcHost({ OIDC_ISSUER: `https://127.0.0.1:${port}` });
    try {
      const res = await request(down.oidcHost.app).get('/auth/login').set('Accept', 'text/html');
      expect(res.status).toBe(503);
      expect(res.text).toContain('ne répond pas');
      const again = await request(down.oidcHost.app).get('/reservations/').set('Accept', 'text/html');
      expect(again.status).toBe(303);
    } finally {
      await down.stop();
    }
  }, 60_000);
});
