import fs from 'node:fs';
import { chromium, Browser } from 'playwright-core';
import { DateTime } from 'luxon';
import { startTestHost, TestHost } from '../helpers/host';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../e2e/support';

/**
 * The statistics pages in a real browser: a busy school year's printable report fits one A4 page, and neither the
 * report nor the dashboard breaks the Content-Security-Policy (charts are SVG coloured by classes, no style attribute).
 */

const hasChromium = fs.existsSync(CHROMIUM_PATH) && process.env.E2E !== '0';
const maybe = hasChromium ? describe : describe.skip;

let h: TestHost;
let browser: Browser;
let base: string;
let server: ReturnType<TestHost['app']['listen']>;

maybe('the statistics in a browser', () => {
  beforeAll(async () => {
    h = await startTestHost();
    const knex = h.db.knex;
    const pick = async (table: string) => (await knex(table).where({ structure_id: 'college-a' }).orderBy('id').pluck('id')) as string[];
    const [equipment, types, severities] = await Promise.all([pick('rsv_equipment'), pick('rsv_incident_types'), pick('rsv_severities')]);
    // 300 incidents over a school year, a fifth of them still open, with their moves.
    for (let n = 0; n < 300; n++) {
      const created = DateTime.fromISO('2025-09-01T06:00:00Z').plus({ hours: (n * 37) % (24 * 300) });
      const taken = created.plus({ hours: 1 + (n % 30) });
      const closed = taken.plus({ hours: 2 + (n % 50) });
      const done = n % 5 !== 0;
      const [row] = await knex('rsv_incidents')
        .insert({
          structure_id: 'college-a',
          equipment_id: equipment[n % equipment.length],
          type_id: types[n % types.length],
          severity_id: severities[(n * 3) % severities.length],
          description: `Panne n° ${n}`,
          reporter_id: 'u-enseignant',
          status: done ? 'closed' : 'taken',
          created_at: created.toJSDate(),
          taken_at: taken.toJSDate(),
          resolved_at: done ? closed.toJSDate() : null,
        })
        .returning('id');
      const move = (from: string, to: string, at: DateTime) => ({ incident_id: row.id, structure_id: 'college-a', kind: 'status_changed', actor_id: 'u-referent1', from_status: from, to_status: to, created_at: at.toJSDate() });
      await knex('rsv_incident_events').insert(done ? [move('new', 'taken', taken), move('taken', 'closed', closed)] : [move('new', 'taken', taken)]);
    }
    server = await new Promise<ReturnType<TestHost['app']['listen']>>((resolve) => {
      const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    server?.close();
    await h?.stop();
  });

  async function signedIn(login: string) {
    const client = await h.as(login);
    const context = await browser.newContext();
    await context.addCookies(client.cookie.split('; ').map((c) => ({ name: c.slice(0, c.indexOf('=')), value: c.slice(c.indexOf('=') + 1), domain: '127.0.0.1', path: '/' })));
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    return { page, violations };
  }

  it('the printable report of a busy year fits one A4 page', async () => {
    const { page, violations } = await signedIn('direction');
    await page.goto(`${base}/reservations/structures/college-a/stats/report?from=2025-09-01&to=2026-08-31`);
    const pdf = (await page.pdf({ format: 'A4', preferCSSPageSize: true })).toString('latin1');
    expect(pdf.match(/\/Type\s*\/Page(?![a-zA-Z])/g)).toHaveLength(1);
    expect(violations).toEqual([]);
  }, 60_000);

  it('the dashboard and the cross-school view draw their charts without breaking the CSP', async () => {
    const direction = await signedIn('direction');
    await direction.page.goto(`${base}/reservations/structures/college-a/stats?from=2025-09-01&to=2026-08-31`);
    expect(await direction.page.locator('svg.chart-svg[role="img"]').count()).toBeGreaterThanOrEqual(10);
    expect(direction.violations).toEqual([]);
    const authority = await signedIn('collectivite');
    await authority.page.goto(`${base}/reservations/stats?from=2025-09-01&to=2026-08-31`);
    expect(await authority.page.locator('table.stats-ranking tbody tr').count()).toBe(2);
    expect(authority.violations).toEqual([]);
  }, 60_000);
});
