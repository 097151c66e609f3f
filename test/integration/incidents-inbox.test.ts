import { startTestHost, TestHost } from '../helpers/host';
import { declare, schoolLists, SchoolLists } from '../helpers/incidents';

/**
 * The inbox of a school with 100,000 incidents, paged through by cursor 100 at a time while new incidents keep
 * arriving: every incident seen exactly once (no duplicate, no gap), the new ones above the first page, never inside
 * the walk. Keyset pagination on id makes this hold; OFFSET would shift the walk by every new arrival.
 */
const SEEDED = 100_000;
const PAGE = 100;

let h: TestHost;
let lists: SchoolLists;
beforeAll(async () => {
  h = await startTestHost();
  lists = await schoolLists(h);
  const started = Date.now();
  await h.db.knex.raw(
    `INSERT INTO rsv_incidents (structure_id, equipment_id, type_id, severity_id, description, reporter_id, status, assignee_id, created_at, last_event_at)
     SELECT 'college-a', ?, ?, ?, 'Panne n° ' || g, 'u-enseignant',
            (ARRAY['new', 'taken', 'in_progress', 'dismissed', 'closed'])[1 + g % 5],
            CASE WHEN g % 5 IN (1, 2) THEN 'u-referent1' END,
            now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval
       FROM generate_series(1, ${SEEDED}) g`,
    [lists.equipmentId, lists.typeIds[0], lists.severityIds[0]],
  );
  await h.db.knex.raw('ANALYZE rsv_incidents');
  console.log(`[inbox] seeded ${SEEDED} incidents in ${Date.now() - started} ms`);
}, 120_000);
afterAll(async () => {
  await h.stop();
});

describe('the inbox of a school with 100,000 incidents', () => {
  it('pages through all of them by cursor, with no duplicate and no gap, while new incidents arrive', async () => {
    const referent = await h.as('referent1');
    const teacher = await h.as('enseignant');
    const before = await h.db.knex('rsv_incidents').where({ structure_id: 'college-a' }).orderBy('id', 'desc').pluck('id');
    const expected = before.map(String);
    const arrived: string[] = [];
    const seen: string[] = [];
    const latencies: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const started = process.hrtime.bigint();
      const res = await referent.get(`/structures/college-a/incidents?status=all&limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.nextCursor;
      pages++;
      // Teachers keep declaring while the referent walks the inbox.
      if (pages % 50 === 0) arrived.push((await declare(teacher, lists, { description: `Nouvelle panne pendant la page ${pages}` })).id);
    } while (cursor);

    expect(arrived.length).toBeGreaterThan(10);
    expect(seen.length).toBe(expected.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expected);
    for (const id of arrived) expect(seen).not.toContain(id);
    expect(pages).toBe(Math.ceil(expected.length / PAGE));

    // The new ones are above the first page of a fresh walk.
    const first = await referent.get(`/structures/college-a/incidents?status=all&limit=${PAGE}`);
    expect(first.body.items.slice(0, arrived.length).map((i: { id: string }) => i.id)).toEqual([...arrived].reverse());
    latencies.sort((a, b) => a - b);
    console.log(`[inbox] ${pages} pages of ${PAGE}: p50 ${latencies[Math.floor(pages / 2)]!.toFixed(1)} ms, p99 ${latencies[Math.floor(pages * 0.99)]!.toFixed(1)} ms (HTTP, in-process)`);
  }, 300_000);

  it('keeps the walk exact with filters (open incidents, assigned to me) and counts per status', async () => {
    const referent = await h.as('referent1');
    const knex = h.db.knex;
    for (const [query, where] of [
      ['status=open', (q: ReturnType<typeof knex>) => q.whereIn('status', ['new', 'taken', 'in_progress'])],
      ['assignee=me', (q: ReturnType<typeof knex>) => q.where({ assignee_id: 'u-referent1' })],
      ['status=closed&assignee=none', (q: ReturnType<typeof knex>) => q.where({ status: 'closed' }).whereNull('assignee_id')],
    ] as const) {
      const expected = (await where(knex('rsv_incidents').where({ structure_id: 'college-a' })).orderBy('id', 'desc').pluck('id')).map(String);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await referent.get(`/structures/college-a/incidents?${query}&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((i: { id: string }) => i.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(expected);
    }
    const counts = await referent.get('/structures/college-a/incidents?counts=1&limit=1');
    const total = Object.values(counts.body.counts as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(Number((await knex('rsv_incidents').where({ structure_id: 'college-a' }).count('* as n'))[0]!.n));
    expect(counts.body.counts.closed).toBe(SEEDED / 5);
  }, 300_000);

  it('never uses OFFSET: the SQL of a deep page is a keyset condition on an index', async () => {
    const last = await h.db.knex('rsv_incidents').where({ structure_id: 'college-a' }).orderBy('id').first('id');
    const { rows } = await h.db.knex.raw(
      `EXPLAIN SELECT id FROM rsv_incidents i WHERE i.structure_id = 'college-a' AND i.id < ? ORDER BY i.id DESC LIMIT 101`,
      [Number(last.id) + 100],
    );
    const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index (Only )?Scan/);
    expect(plan).not.toMatch(/Sort/);
    const res = await (await h.as('referent1')).get('/structures/college-a/incidents?limit=0');
    expect(res.status).toBe(400);
    expect(res.body.details.fields[0].field).toBe('limit');
    const bad = await (await h.as('referent1')).get('/structures/college-a/incidents?cursor=MTIz');
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields[0].field).toBe('cursor');
  });
});
