import fc from 'fast-check';
import request from 'supertest';
import { startTestHost, TestHost, API } from '../helpers/host';
import { apiRoutes } from '../../src/http/api';
import { loadManifest } from '../../src/manifest';
import type { ApiRoute } from '../../src/http/route';

/**
 * Property-based fuzzing of every JSON mutation: whatever the body, the answer is never a 500, and a refused body
 * (any 4xx) changes nothing in the module's tables.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const manifest = loadManifest();

let h: TestHost;
const clients = new Map<string, Awaited<ReturnType<TestHost['as']>>>();
let fingerprintSql = '';

/** Who holds the route's action by default (module.json), to get past the rights check into the validation. */
function loginFor(route: ApiRoute): string {
  const needed = Array.isArray(route.action) ? route.action : [route.action];
  const candidates: Array<[string, (a: (typeof manifest.securedActions)[number]) => boolean]> = [
    ['direction', (a) => a.defaultProfiles.includes('AdminLocal') || a.defaultProfiles.includes('Personnel')],
    ['referent1', (a) => a.defaultProfiles.includes('Teacher') || (a.defaultFunctionalDelegates ?? []).includes('service.informatique')],
  ];
  for (const [login, holds] of candidates) {
    if (needed.includes('signedIn') || manifest.securedActions.some((a) => needed.includes(a.name) && holds(a))) return login;
  }
  return 'direction';
}

async function fingerprint(): Promise<string> {
  const { rows } = await h.db.knex.raw(fingerprintSql);
  return JSON.stringify(rows[0]);
}

async function recordFor(route: ApiRoute): Promise<string> {
  if (route.scope.kind !== 'record') return '';
  const table = {
    booking: 'rsv_bookings',
    bookingSeries: 'rsv_booking_series',
    equipment: 'rsv_equipment',
    resourceType: 'rsv_resource_types',
    incidentType: 'rsv_incident_types',
    severity: 'rsv_severities',
    incident: 'rsv_incidents',
    delivery: 'rsv_deliveries',
  }[route.scope.table as string];
  if (!table) throw new Error(`no fuzz fixture for ${route.scope.table}`);
  const row = await h.db.knex(table).where({ structure_id: 'college-a' }).orderBy('id').first('id');
  return String(row.id);
}

const leaf = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', ' ', '0', '-1', '1e309', '<script>alert(1)</script>', "'; DROP TABLE rsv_bookings; --", '\u0000', 'a'.repeat(6000), '2027-02-30T10:00', '__proto__'),
);
const value = fc.oneof(leaf, fc.array(leaf, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 3 }));

function bodyArbitrary(route: ApiRoute) {
  const keys = route.example && typeof route.example === 'object' ? Object.keys(route.example as object) : [];
  const shaped = keys.length
    ? fc.record(Object.fromEntries(keys.map((k) => [k, value])), { requiredKeys: [] })
    : fc.dictionary(fc.string({ maxLength: 10 }), value, { maxKeys: 4 });
  // Mostly bodies of the right shape with wrong values, sometimes anything at all.
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) });
}

beforeAll(async () => {
  // No mail worker here: it would change the outbox tables in the background, between a body and its check.
  h = await startTestHost({ config: { mutationRateLimit: 0, runWorker: false } });
  for (const login of ['direction', 'referent1']) clients.set(login, await h.as(login));
  // One record of each kind the routes act on.
  const k = h.db.knex;
  const eq = async (code: string) => (await k('rsv_equipment').where({ structure_id: 'college-a', seed_code: code }).first()).id;
  const [series] = await k('rsv_booking_series').insert({ structure_id: 'college-a', equipment_id: await eq('demo-visio'), owner_id: 'u-direction', until_date: '2032-01-01' }).returning('id');
  await k('rsv_bookings').insert([
    { structure_id: 'college-a', equipment_id: await eq('demo-tablets'), owner_id: 'u-direction', starts_at: '2031-01-07T09:00:00Z', ends_at: '2031-01-07T10:00:00Z', status: 'pending' },
    { structure_id: 'college-a', equipment_id: await eq('demo-visio'), owner_id: 'u-direction', starts_at: '2031-01-08T09:00:00Z', ends_at: '2031-01-08T10:00:00Z', series_id: series.id },
  ]);
  const type = await k('rsv_incident_types').where({ structure_id: 'college-a' }).first();
  const severity = await k('rsv_severities').where({ structure_id: 'college-a' }).first();
  const [incident] = await k('rsv_incidents').insert({ structure_id: 'college-a', equipment_id: await eq('demo-projector-12'), type_id: type.id, severity_id: severity.id, description: 'Ne s’allume plus', reporter_id: 'u-direction' }).returning('id');
  await k('rsv_incident_events').insert({ incident_id: incident.id, structure_id: 'college-a', kind: 'created', actor_id: 'u-direction', to_status: 'new' });
  const [n] = await k('rsv_notifications').insert({ structure_id: 'college-a', kind: 'incident.created', subject_type: 'incident', subject_id: incident.id, actor_id: 'u-direction', expanded_at: new Date() }).returning('id');
  await k('rsv_deliveries').insert({ notification_id: n.id, structure_id: 'college-a', address: 'fuzz@college-a.demo-ent.test', status: 'failed', message_id: '<fuzz@test>' });
  const { rows } = await h.db.knex.raw(
    `SELECT table_name, bool_or(column_name = 'updated_at') AS has_updated
       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name LIKE 'rsv\\_%' AND table_name <> 'rsv_module_state'
      GROUP BY table_name ORDER BY table_name`,
  );
  fingerprintSql = `SELECT ${rows
    .map((r: { table_name: string; has_updated: boolean }) => `(SELECT count(*)${r.has_updated ? `::text || '/' || coalesce(max(updated_at)::text, '')` : '::text'} FROM ${r.table_name}) AS ${r.table_name}`)
    .join(', ')}`;
}, 60_000);
afterAll(async () => {
  await h.stop();
});

const mutations = apiRoutes.filter((r) => r.method !== 'get' && r.body);

describe.each(mutations.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('%s', (_name, route) => {
  it(`never answers 500 and changes nothing when it refuses (${RUNS} bodies)`, async () => {
    const client = clients.get(loginFor(route))!;
    const path = `${API}${route.path.replace(':sid', 'college-a').replace(':id', await recordFor(route))}`;
    await fc.assert(
      fc.asyncProperty(bodyArbitrary(route), async (body) => {
        const before = await fingerprint();
        const res = await request(h.app)[route.method](path).set('Cookie', client.cookie).set('X-CSRF-Token', client.csrf).set('Content-Type', 'application/json').send(JSON.stringify(body));
        if (res.status >= 500) throw new Error(`500 for ${JSON.stringify(body).slice(0, 300)}: ${res.text.slice(0, 200)}`);
        if (res.status >= 400 && (await fingerprint()) !== before) throw new Error(`a refused body (${res.status}) changed data: ${JSON.stringify(body).slice(0, 300)}`);
        // Whatever was accepted, put the school's people back so the next body meets the same rights.
        if (res.status < 400 && /grants|delegates|settings/.test(route.path)) {
          await h.db.knex('host_grants').where({ structure_id: 'college-a' }).delete();
          await h.db.knex('host_grant_defaults').where({ structure_id: 'college-a' }).delete();
          await h.referenceHost.host.rights.ensureDefaultGrants('college-a');
          await h.referenceHost.host.accounts.setDelegates('college-a', 'service.informatique', ['u-referent1', 'u-referent2']);
          await h.db.knex('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ planning_enabled: true, incidents_enabled: true });
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261123) },
    );
  }, 120_000);
});

it('a malformed JSON text never answers 500', async () => {
  const client = clients.get('direction')!;
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 60 }), async (text) => {
      const res = await request(h.app).post(`${API}/structures/college-a/bookings`).set('Cookie', client.cookie).set('X-CSRF-Token', client.csrf).set('Content-Type', 'application/json').send(text);
      if (res.status >= 500) throw new Error(`500 for ${JSON.stringify(text)}`);
    }),
    { numRuns: RUNS },
  );
});
