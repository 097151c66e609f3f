import request from 'supertest';
import { startTestHost, TestHost } from '../helpers/host';
import { pageRoutes } from '../../src/http/pages';

/**
 * Stored XSS: payloads are written straight into every free-text column (as a bug or an import elsewhere could leave
 * them), then every page is rendered for several accounts; no payload may come out unescaped.
 */
const PAYLOADS = ['<script>alert("xss")</script>', '<img src=x onerror=alert(1)>', '" autofocus onfocus="alert(1)', "'><svg onload=alert(1)>"];
const P = (i: number) => PAYLOADS[i % PAYLOADS.length]!;

let h: TestHost;
const ids: Record<string, string> = {};

beforeAll(async () => {
  h = await startTestHost();
  const k = h.db.knex;
  await k('host_structures').where({ id: 'college-a' }).update({ name: `Collège ${P(0)}` });
  await k('host_users').where({ login: 'enseignant' }).update({ display_name: `Claire ${P(1)}` });
  await k('host_groups').where({ id: 'g-college-a-collectivite' }).update({ name: `Groupe ${P(2)}` });
  await k('rsv_resource_types').where({ structure_id: 'college-a', seed_code: 'rooms' }).update({ name: `Salles ${P(3)}` });
  await k('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-room-12' }).update({ name: `Salle 12 ${P(0)}`, location: `Étage ${P(1)}`, description: `Desc ${P(2)}` });
  await k('rsv_incident_types').where({ structure_id: 'college-a' }).update({ label: `Type ${P(3)}` });
  await k('rsv_severities').where({ structure_id: 'college-a' }).update({ label: `Gravité ${P(0)}` });
  await k('rsv_structure_settings').where({ structure_id: 'college-a' }).update({ holidays: JSON.stringify([{ from: '2031-02-01', to: '2031-02-10', label: `Vacances ${P(1)}` }]) });
  const room = await k('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-room-12' }).first();
  const tablets = await k('rsv_equipment').where({ structure_id: 'college-a', seed_code: 'demo-tablets' }).first();
  const now = Date.now();
  const [b1] = await k('rsv_bookings').insert({ structure_id: 'college-a', equipment_id: room.id, owner_id: 'u-enseignant', starts_at: new Date(now + 86400000), ends_at: new Date(now + 86400000 + 3600000), reason: `Cours ${P(2)}` }).returning('id');
  await k('rsv_bookings').insert({ structure_id: 'college-a', equipment_id: tablets.id, owner_id: 'u-enseignant', starts_at: new Date(now + 2 * 86400000), ends_at: new Date(now + 2 * 86400000 + 3600000), reason: `Sortie ${P(3)}`, status: 'pending' });
  ids.booking = String(b1.id);
  ids.equipment = String(room.id);
  const type = await k('rsv_incident_types').where({ structure_id: 'college-a' }).first();
  const severity = await k('rsv_severities').where({ structure_id: 'college-a' }).first();
  const [incident] = await k('rsv_incidents').insert({ structure_id: 'college-a', equipment_id: room.id, type_id: type.id, severity_id: severity.id, description: `Panne ${P(0)}`, reporter_id: 'u-enseignant' }).returning('id');
  await k('rsv_incident_events').insert([
    { incident_id: incident.id, structure_id: 'college-a', kind: 'created', actor_id: 'u-enseignant', to_status: 'new' },
    { incident_id: incident.id, structure_id: 'college-a', kind: 'comment', actor_id: 'u-referent1', comment: `Commentaire ${P(1)}` },
  ]);
  ids.incident = String(incident.id);
  await k('rsv_attachments').insert([
    { structure_id: 'college-a', incident_id: incident.id, uploader_id: 'u-enseignant', storage_key: 'a'.repeat(32), original_name: `Photo ${P(2)}.jpg`, content_type: 'image/jpeg', size: 1000, width: 40, height: 30, thumbnail_key: 'b'.repeat(32) },
    { structure_id: 'college-a', incident_id: incident.id, uploader_id: 'u-enseignant', storage_key: 'c'.repeat(32), original_name: `Devis ${P(3)}.pdf`, content_type: 'application/pdf', size: 2000 },
  ]);
  ids.resourceType = String((await k('rsv_resource_types').where({ structure_id: 'college-a', seed_code: 'rooms' }).first()).id);
});
afterAll(async () => {
  await h.stop();
});

function leaks(html: string): string[] {
  return PAYLOADS.filter((p) => html.includes(p));
}

const gets = pageRoutes.filter((r) => r.method === 'get');

describe.each(gets.map((r) => [r.path, r] as const))('page %s', (_path, route) => {
  it.each([['enseignant'], ['referent1'], ['direction']])('as %s, every payload is escaped', async (login) => {
    const client = await h.as(login);
    let path = route.path.replace(':sid', 'college-a');
    if (route.scope.kind === 'record') {
      const id = ids[route.scope.table];
      if (!id) throw new Error(`no XSS fixture for ${route.scope.table}`);
      path = path.replace(':id', id);
    }
    const query = path.includes('/planning') ? `?equipmentId=${ids.equipment}` : '';
    const res = await request(h.app).get(`/reservations${path}${query}`).set('Cookie', client.cookie).set('Accept', 'text/html');
    expect(res.status).toBeLessThan(500);
    expect(leaks(res.text)).toEqual([]);
  });
});

it('the type view of the planning and the mail page escape too', async () => {
  const client = await h.as('enseignant');
  for (const path of ['/reservations/structures/college-a/planning', '/mail', '/login']) {
    const res = await request(h.app).get(path).set('Cookie', client.cookie).set('Accept', 'text/html');
    expect(leaks(res.text)).toEqual([]);
  }
  // The payloads were really rendered, escaped.
  const planning = await request(h.app).get(`/reservations/structures/college-a/planning?equipmentId=${ids.equipment}`).set('Cookie', client.cookie);
  expect(planning.text).toContain('Salle 12 &lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;');
  expect(planning.text).toContain('Claire &lt;img src=x onerror=alert(1)&gt;');
});
