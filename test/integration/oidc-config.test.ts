import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { oidcConfigFromEnv, OidcConfigError, parseTrustProxy } from '../../src/oidchost/config';
import { ClaimsError, profileFrom, structuresFrom, userFromClaims } from '../../src/oidchost/claims';

/** The production host's configuration and its reading of the provider's claims: pure, no database, no network. */
const ROOT = path.join(__dirname, '..', '..');

const VALID = {
  PUBLIC_URL: 'https://reservations.college.example/',
  DATABASE_URL: 'postgres://reservations:secret@127.0.0.1:5432/reservations',
  SESSION_SECRET: 'x'.repeat(40),
  OIDC_ISSUER: 'https://auth.ent.example/oidc',
  OIDC_CLIENT_ID: 'reservations',
  OIDC_CLIENT_SECRET: 'secret',
};

function problemsOf(env: Record<string, string | undefined>): Record<string, string> {
  try {
    oidcConfigFromEnv(env);
  } catch (error) {
    if (error instanceof OidcConfigError) return Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
    throw error;
  }
  return {};
}

describe('the configuration of the OpenID Connect host', () => {
  it('reads a valid environment, with the documented defaults', () => {
    const config = oidcConfigFromEnv(VALID);
    expect(config).toMatchObject({
      publicUrl: 'https://reservations.college.example',
      databaseSchema: 'public',
      scopes: ['openid', 'profile', 'email'],
      tokenAuth: 'client_secret_basic',
      claims: { structures: 'structures', profile: 'profile', adminStructures: 'admin_structures', language: 'locale', login: 'preferred_username' },
      bootstrapAdmins: [],
      trustProxy: false,
      port: 8080,
      host: '127.0.0.1',
    });
    expect(config.smtpUrl).toBeUndefined();
    expect(config.entUrl).toBeUndefined();
  });

  it('reads the optional variables', () => {
    const config = oidcConfigFromEnv({
      ...VALID,
      OIDC_SCOPES: 'openid profile email ent',
      OIDC_CLAIM_STRUCTURES: 'ent.structures',
      BOOTSTRAP_ADMINS: 'a.dubois, h.fabre;j.moreau',
      ENT_URL: 'https://ent.example/',
      SMTP_URL: 'smtp://relay.example:25',
      TRUST_PROXY: 'loopback',
      PORT: '8081',
    });
    expect(config.scopes).toEqual(['openid', 'profile', 'email', 'ent']);
    expect(config.claims.structures).toBe('ent.structures');
    expect(config.bootstrapAdmins).toEqual(['a.dubois', 'h.fabre', 'j.moreau']);
    expect(config).toMatchObject({ entUrl: 'https://ent.example/', smtpUrl: 'smtp://relay.example:25', trustProxy: 'loopback', port: 8081 });
  });

  it('names every missing variable', () => {
    expect(Object.keys(problemsOf({})).sort()).toEqual(['DATABASE_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ISSUER', 'PUBLIC_URL', 'SESSION_SECRET']);
    expect(() => oidcConfigFromEnv({})).toThrow(/OIDC_ISSUER: required \(the identity provider's issuer URL/);
  });

  it.each([
    ['PUBLIC_URL', 'reservations.example', 'must be an http(s) URL'],
    ['PUBLIC_URL', 'https://ent.example/reservations', 'must be an origin without a path'],
    ['DATABASE_URL', 'mysql://x', 'must be a postgres:// URL'],
    ['SESSION_SECRET', 'short', 'at least 32 characters'],
    ['OIDC_ISSUER', 'http://auth.example', 'must be an https URL'],
    ['OIDC_SCOPES', 'profile email', 'must include openid'],
    ['OIDC_TOKEN_AUTH', 'private_key_jwt', 'client_secret_basic'],
    ['SMTP_URL', 'relay.example:25', 'smtp://'],
    ['ENT_URL', 'ent', 'http(s) URL'],
    ['PORT', '99999', ''],
    ['OIDC_CA_FILE', '/nonexistent/ca.pem', 'file not found'],
    ['DATABASE_SCHEMA', 'Drop Table', 'schema name'],
  ])('refuses %s=%s with a message naming it', (variable, value, message) => {
    const problems = problemsOf({ ...VALID, [variable]: value });
    expect(Object.keys(problems)).toEqual([variable]);
    expect(problems[variable]).toContain(message);
  });

  it.each([
    [undefined, false],
    ['true', true],
    ['off', false],
    ['1', 1],
    ['2', 2],
    ['loopback', 'loopback'],
    ['10.0.0.1, 10.0.0.2', '10.0.0.1, 10.0.0.2'],
  ])('reads TRUST_PROXY=%s as %p', (value, expected) => {
    expect(parseTrustProxy(value)).toEqual(expected);
  });

  it('stops the process with the message and exit code 78 when HOST_ADAPTER=oidc is misconfigured', () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HOST_ADAPTER: 'oidc', ...VALID, OIDC_ISSUER: 'http://plain.example' };
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(78);
    expect(run.stderr).toContain('The OpenID Connect host (HOST_ADAPTER=oidc) cannot start');
    expect(run.stderr).toContain('OIDC_ISSUER: must be an https URL');
  });

  it('refuses an unknown HOST_ADAPTER', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH, HOST_ADAPTER: 'moodle' }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(78);
    expect(run.stderr).toContain('HOST_ADAPTER must be "reference" (default) or "oidc"');
  });
});

describe("reading the provider's claims", () => {
  const config = { claims: { structures: 'structures', profile: 'profile', adminStructures: 'admin_structures', language: 'locale', login: 'preferred_username' }, bootstrapAdmins: ['boss'] };

  it.each([
    ['Teacher', 'Teacher'],
    ['ENSEIGNANT', 'Teacher'],
    ['Élève', 'Student'],
    ['eleve', 'Student'],
    ['Personnel', 'Personnel'],
    ['National_2', 'Personnel'],
    ['Parent', 'Relative'],
    [['Relative', 'Teacher'], 'Relative'],
    ['Automate', null],
    [42, null],
    [undefined, null],
  ])('profile %p is %p', (value, expected) => {
    expect(profileFrom(value)).toBe(expected);
  });

  it.each([
    [[{ id: 'college-a', name: 'Collège Jean Moulin' }], [{ id: 'college-a', name: 'Collège Jean Moulin' }]],
    [['college-a', 'college-b'], [{ id: 'college-a', name: null }, { id: 'college-b', name: null }]],
    ['0750001A', [{ id: '0750001A', name: null }]],
    ['["0750001A","0750002B"]', [{ id: '0750001A', name: null }, { id: '0750002B', name: null }]],
    [{ UAI: '0750001A', nom: 'Lycée Victor Hugo' }, [{ id: '0750001A', name: 'Lycée Victor Hugo' }]],
    [['college-a', { id: 'college-a', name: 'Collège Jean Moulin' }], [{ id: 'college-a', name: 'Collège Jean Moulin' }]],
    [undefined, []],
  ])('structures %j are read as %j', (value, expected) => {
    expect(structuresFrom(value, 'structures')).toEqual(expected);
  });

  it('refuses structures it cannot read, naming the claim', () => {
    expect(() => structuresFrom([{ name: 'no id' }], 'structures')).toThrow(ClaimsError);
    expect(() => structuresFrom(['../etc'], 'ent_structures')).toThrow(/ent_structures/);
  });

  it('builds the user, keeping admin rights to their own schools, and BOOTSTRAP_ADMINS admins of all of theirs', () => {
    const user = userFromClaims(
      { sub: 's1', preferred_username: 'c.martin', given_name: 'Claire', family_name: 'Martin', email: 'c.martin@ac.example', locale: 'fr-FR', profile: 'ENSEIGNANT', structures: ['a', 'b'], admin_structures: ['b', 'z'] },
      config,
    );
    expect(user).toEqual({ id: 's1', login: 'c.martin', displayName: 'Claire Martin', email: 'c.martin@ac.example', language: 'fr-FR', profile: 'Teacher', structures: [{ id: 'a', name: null }, { id: 'b', name: null }], adminStructures: ['b'] });
    const boss = userFromClaims({ sub: 's2', preferred_username: 'boss', name: 'La Principale', profile: 'Personnel', structures: ['a', 'b'] }, config);
    expect(boss.adminStructures).toEqual(['a', 'b']);
    expect(userFromClaims({ sub: 's3', profile: 'Teacher' }, config)).toMatchObject({ login: 's3', displayName: 's3', structures: [] });
  });

  it('reads claims by a dotted path, and refuses a subject that could pass for a functional account', () => {
    const nested = { ...config, claims: { ...config.claims, structures: 'ent.schools', profile: 'ent.type' } };
    expect(userFromClaims({ sub: 's4', ent: { schools: ['a'], type: 'Teacher' } }, nested)).toMatchObject({ profile: 'Teacher', structures: [{ id: 'a', name: null }] });
    expect(() => userFromClaims({ sub: 'fa:a:service.informatique', profile: 'Teacher' }, config)).toThrow(ClaimsError);
    expect(() => userFromClaims({ profile: 'Teacher' }, config)).toThrow(ClaimsError);
  });
});
