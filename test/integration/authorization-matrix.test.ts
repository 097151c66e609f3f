import request from 'supertest';
import { startTestHost, TestHost, API } from '../helpers/host';
import { apiRoutes } from '../../src/http/api';
import { pageRoutes } from '../../src/http/pages';
import { loadManifest } from '../../src/manifest';
import type { ApiRoute, PageRoute, ScopedTable } from '../../src/http/route';
import { fileStorage, newStorageKey } from '../../src/services/file-storage';

/**
 * The authorization matrix, generated from the route tables: every API route and every page, for every kind of demo
 * account, gets the status its rights imply. The oracle is independent of the code under test: who each demo account
 * is (below, by hand) and the default grants of module.json.
 */
const manifest = loadManifest();

type Who = { login: string | null; profile?: string; admin?: boolean; referent?: boolean; memberOfA: boolean };
const ACCOUNTS: Who[] = [
  { login: null, memberOfA: false },
  { login: 'enseignant', profile: 'Teacher', memberOfA: true },
  { login: 'referent1', profile: 'Teacher', referent: true, memberOfA: true },
  { login: 'referent2', profile: 'Personnel', referent: true, memberOfA: true },
  { login: 'direction', profile: 'Personnel', admin: true, memberOfA: true },
  { login: 'eleve', profile: 'Student', memberOfA: true },
  { login: 'parent', profile: 'Relative', memberOfA: true },
  { login: 'enseignant2', profile: 'Teacher', memberOfA: false },
];

/** What module.json grants this account in college-a by default. */
function defaultActions(who: Who): Set<string> {
  const granted = new Set<string>();
  for (const a of manifest.securedActions) {
    if (who.profile && a.defaultProfiles.includes(who.profile)) granted.add(a.name);
    if (who.admin && a.defaultProfiles.includes('AdminLocal')) granted.add(a.name);
    if (who.referent && (a.defaultFunctionalDelegates ?? []).includes('service.informatique')) granted.add(a.name);
  }
  return granted;
}

let h: TestHost;
const clients = new Map<string, Awaited<ReturnType<TestHost['as']>>>();
let seq = 0;

async function equipmentOf(code: string): Promise<string> {
  return String((await h.db.knex('rsv_equipment').where({ structure_id: 'college-a', seed_code: code }).first()).id);
}

/** A fresh record of college-a for each request, so that one request's change never decides another's status. */
const FIXTURES: Partial<Record<ScopedTable, () => Promise<string>>> = {
  async booking() {
    seq++;
    const [row] = await h.db.knex('rsv_bookings')
      .insert({ structure_id: 'college-a', equipment_id: await equipmentOf('demo-tablets'), owner_id: 'u-enseignant', starts_at: new Date(Date.UTC(2031, 0, 1) + seq * 3600_000 * 2), ends_at: new Date(Date.UTC(2031, 0, 1) + seq * 3600_000 * 2 + 3600_000), status: 'pending' })
      .returning('id');
    return String(row.id);
  },
  async bookingSeries() {
    seq++;
    const equipmentId = await equipmentOf('demo-visio');
    const [series] = await h.db.knex('rsv_booking_series').insert({ structure_id: 'college-a', equipment_id: equipmentId, owner_id: 'u-enseignant', until_date: '2032-01-01' }).returning('id');
    await h.db.knex('rsv_bookings').insert({ structure_id: 'college-a', equipment_id: equipmentId, owner_id: 'u-enseignant', series_id: series.id, starts_at: new Date(Date.UTC(2031, 5, 1) + seq * 7200_000), ends_at: new Date(Date.UTC(2031, 5, 1) + seq * 7200_000 + 3600_000) });
    return String(series.id);
  },
  async equipment() {
    const type = await h.db.knex('rsv_resource_types').where({ structure_id: 'college-a', seed_code: 'rooms' }).first();
    const [row] = await h.db.knex('rsv_equipment').insert({ structure_id: 'college-a', type_id: type.id, name: `Salle M${++seq}`, responsible_id: 'fa:college-a:service.informatique' }).returning('id');
    return String(row.id);
  },
  async resourceType() {
    const [row] = await h.db.knex('rsv_resource_types').insert({ structure_id: 'college-a', name: `Type M${++seq}`, purpose: 'booking' }).returning('id');
    return String(row.id);
  },
  async incidentType() {
    const [row] = await h.db.knex('rsv_incident_types').insert({ structure_id: 'college-a', label: `Type M${++seq}` }).returning('id');
    return String(row.id);
  },
  async severity() {
    const [row] = await h.db.knex('rsv_severities').insert({ structure_id: 'college-a', label: `Gravité M${++seq}` }).returning('id');
    return String(row.id);
  },
  async delivery() {
    const [n] = await h.db.knex('rsv_notifications').insert({ structure_id: 'college-a', kind: 'booking.refused', subject_type: 'booking', subject_id: 1, actor_id: 'u-referent1', expanded_at: new Date() }).returning('id');
    const [d] = await h.db.knex('rsv_deliveries').insert({ notification_id: n.id, structure_id: 'college-a', address: `matrix${++seq}@college-a.demo-ent.test`, status: 'failed', message_id: `<m${seq}@test>` }).returning('id');
    return String(d.id);
  },
  async unavailability() {
    const [row] = await h.db.knex('rsv_unavailabilities').insert({ structure_id: 'college-a', equipment_id: await equipmentOf('demo-room-poly'), starts_at: new Date(Date.UTC(2032, 0, 1) + ++seq * 7200_000), ends_at: new Date(Date.UTC(2032, 0, 1) + seq * 7200_000 + 3600_000), reason: 'matrix', created_by: 'u-referent1' }).returning('id');
    return String(row.id);
  },
  async incident() {
    const type = await h.db.knex('rsv_incident_types').where({ structure_id: 'college-a' }).first();
    const severity = await h.db.knex('rsv_severities').where({ structure_id: 'college-a' }).first();
    const [row] = await h.db.knex('rsv_incidents')
      .insert({ structure_id: 'college-a', equipment_id: await equipmentOf('demo-projector-12'), type_id: type.id, severity_id: severity.id, description: `Panne ${++seq}`, reporter_id: 'u-enseignant' })
      .returning('id');
    await h.db.knex('rsv_incident_events').insert({ incident_id: row.id, structure_id: 'college-a', kind: 'created', actor_id: 'u-enseignant', to_status: 'new' });
    return String(row.id);
  },
  async attachment() {
    const incidentId = await FIXTURES.incident!();
    const [key, thumbnailKey] = [newStorageKey(), newStorageKey()];
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await fileStorage(h.module.context).put(key, bytes, 'image/png');
    await fileStorage(h.module.context).put(thumbnailKey, bytes, 'image/webp');
    const [row] = await h.db.knex('rsv_attachments')
      .insert({ structure_id: 'college-a', incident_id: incidentId, uploader_id: 'u-enseignant', storage_key: key, original_name: `photo ${seq}.png`, content_type: 'image/png', size: bytes.length, thumbnail_key: thumbnailKey })
      .returning('id');
    return String(row.id);
  },
};

async function urlOf(route: { path: string; scope: ApiRoute['scope'] }): Promise<string> {
  let path = route.path.replace(':sid', 'college-a');
  if (route.scope.kind === 'record') {
    const make = FIXTURES[route.scope.table];
    if (!make) throw new Error(`no fixture for scoped table "${route.scope.table}": add one to the authorization matrix`);
    path = path.replace(`:${route.scope.param ?? 'id'}`, await make());
  }
  return path;
}

const needsOf = (route: ApiRoute | PageRoute) => (Array.isArray(route.action) ? route.action : [route.action]);

const GENERIC_FORBIDDEN = "Vous n'avez pas le droit de faire cela.";

function expectation(route: ApiRoute | PageRoute, who: Who): 'unauthenticated' | 'notFound' | 'forbidden' | 'allowed' {
  if (!who.login) return 'unauthenticated';
  if (route.scope.kind === 'user') return 'allowed';
  // The action in any of the user's schools: enseignant2's college-b has the same default grants as college-a.
  if (route.scope.kind === 'anyStructure') return needsOf(route).some((a) => defaultActions(who).has(a)) ? 'allowed' : 'forbidden';
  if (!who.memberOfA) return 'notFound';
  const needed = Array.isArray(route.action) ? route.action : [route.action];
  if (needed.includes('signedIn')) return 'allowed';
  const has = defaultActions(who);
  return needed.some((a) => has.has(a)) ? 'allowed' : 'forbidden';
}

beforeAll(async () => {
  // A limit high enough for the matrix's many mutations from one account.
  h = await startTestHost({ config: { mutationRateLimit: 0 } });
  for (const who of ACCOUNTS) if (who.login) clients.set(who.login, await h.as(who.login));
});
afterAll(async () => {
  await h.stop();
});

/** The matrix replaces grants and settings with its example bodies: put the school back as it was after each. */
afterEach(async () => {
  await h.db.knex('host_grants').where({ structure_id: 'college-a' }).delete();
  await h.db.knex('host_grant_defaults').where({ structure_id: 'college-a' }).delete();
  await h.referenceHost.host.rights.ensureDefaultGrants('college-a');
  await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ planning_enabled: true, incidents_enabled: true });
  await h.referenceHost.host.accounts.setDelegates('college-a', 'service.informatique', ['u-referent1', 'u-referent2']);
});

describe('every route declares its action and is in the table', () => {
  it('each action is one of module.json or signedIn', () => {
    const declared = new Set([...manifest.securedActions.map((a) => a.name), 'signedIn']);
    for (const r of [...apiRoutes, ...pageRoutes]) {
      const actions = Array.isArray(r.action) ? r.action : [r.action];
      expect(actions.length).toBeGreaterThan(0);
      for (const a of actions) expect({ route: `${r.method} ${r.path}`, action: a, declared: declared.has(a) }).toEqual({ route: `${r.method} ${r.path}`, action: a, declared: true });
    }
  });

  it('the module router serves no route outside the tables', () => {
    type Layer = { route?: { path: string; methods: Record<string, boolean> }; name: string; handle: { stack?: Layer[] } };
    const router = h.module.router as unknown as { stack: Layer[] };
    const table = [...pageRoutes.map((p) => `${p.method} ${p.path}`), ...apiRoutes.map((r) => `${r.method} ${r.path}`)];
    const tablePaths = new Set(table);
    const served: string[] = [];
    const walk = (stack: Layer[]) => {
      for (const layer of stack) {
        if (layer.route) for (const m of Object.keys(layer.route.methods)) served.push(`${m} ${layer.route.path}`);
        else if (layer.handle?.stack) walk(layer.handle.stack);
      }
    };
    walk(router.stack);
    expect(served.filter((s) => !tablePaths.has(s))).toEqual([]);
    expect(served.sort()).toEqual(table.sort());
  });
});

describe.each(apiRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('API %s', (_name, route) => {
  it.each(ACCOUNTS.map((who) => [who.login ?? 'signed out', who] as const))('%s', async (_login, who) => {
    const path = `${API}${await urlOf(route)}`;
    const client = who.login ? clients.get(who.login)! : null;
    let req = request(h.app)[route.method](path).set('Accept', 'application/json');
    if (client) req = req.set('Cookie', client.cookie).set('X-CSRF-Token', client.csrf);
    const res = route.method === 'get' ? await req : await req.send((route.example ?? {}) as object);
    const expected = expectation(route, who);
    const seen = { status: res.status, error: res.body?.error };
    if (expected === 'unauthenticated') expect(seen.status).toBe(401);
    else if (expected === 'notFound') expect(seen.status).toBe(404);
    else if (expected === 'forbidden') expect(seen).toEqual({ status: 403, error: 'forbidden' });
    else {
      expect(res.status).toBeLessThan(500);
      expect([401, 404]).not.toContain(res.status);
      if (res.status === 403) expect(res.body.message).not.toBe(GENERIC_FORBIDDEN);
    }
  });
});

describe.each(pageRoutes.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('page %s', (_name, route) => {
  it.each(ACCOUNTS.map((who) => [who.login ?? 'signed out', who] as const))('%s', async (_login, who) => {
    const path = `/reservations${await urlOf(route)}`.replace(/\/$/, '/');
    const client = who.login ? clients.get(who.login)! : null;
    let req = request(h.app)[route.method](path).set('Accept', 'text/html');
    if (client) req = req.set('Cookie', client.cookie);
    const res = route.method === 'get' ? await req : await req.type('form').send({ _csrf: client?.csrf ?? '' });
    const expected = expectation(route, who);
    if (expected === 'unauthenticated') expect(route.method === 'get' ? [303] : [401]).toContain(res.status);
    else if (expected === 'notFound') expect(res.status).toBe(404);
    else if (expected === 'forbidden') expect(res.status).toBe(403);
    else {
      expect(res.status).toBeLessThan(500);
      expect([401, 404]).not.toContain(res.status);
      if (res.status === 403) expect(res.text).not.toContain(GENERIC_FORBIDDEN);
    }
  });
});
