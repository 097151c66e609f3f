import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, Browser, Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { startTestHost, TestHost } from '../helpers/host';
import { declare, schoolLists, SchoolLists } from '../helpers/incidents';

/**
 * The incident pages in a real browser (Debian's Chromium), scanned by axe-core, and the journey of a teacher in
 * front of a broken projector done with the keyboard and no JavaScript of ours needed.
 */
let h: TestHost;
let lists: SchoolLists;
let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  h = await startTestHost();
  lists = await schoolLists(h);
  server = h.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server.close(resolve));
  await h.stop();
});

async function signedIn(login: string, javaScript = true): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: javaScript, locale: 'fr-FR' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.locator(`button[value="${login}"], input[value="${login}"]`).first().click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  return page;
}

async function violations(page: Page) {
  const result = await new AxeBuilder({ page }).include('main').analyze();
  // The scan did look at the page (an empty selector would pass vacuously).
  expect(result.passes.length).toBeGreaterThan(10);
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('the incident pages pass axe-core', () => {
  it('declaration form (with open incidents), errors, confirmation, incident page, inbox, my incidents, lists', async () => {
    const teacherApi = await h.as('enseignant');
    const { id } = await declare(teacherApi, lists);
    await teacherApi.post(`/incidents/${id}/comments`, { text: 'Toujours en panne.' });
    const teacher = await signedIn('enseignant');
    const referent = await signedIn('referent1');
    const direction = await signedIn('direction');
    const pages: Array<[Page, string]> = [
      [teacher, `/reservations/incidents/new?equipment=${lists.equipmentId}`],
      [teacher, `/reservations/incidents/${id}/declared`],
      [teacher, `/reservations/incidents/${id}`],
      [teacher, '/reservations/incidents/mine'],
      [referent, `/reservations/incidents/${id}`],
      [referent, '/reservations/structures/college-a/inbox'],
      [direction, '/reservations/structures/college-a/admin/incident-types'],
      [direction, '/reservations/structures/college-a/admin/severities'],
    ];
    for (const [page, path] of pages) {
      const response = await page.goto(`${base}${path}`);
      expect({ path, status: response?.status() }).toEqual({ path, status: 200 });
      expect({ path, violations: await violations(page) }).toEqual({ path, violations: [] });
    }
    // The form sent empty: the error summary is announced and links to the fields.
    await teacher.goto(`${base}/reservations/incidents/new?structure=college-a`);
    await teacher.getByRole('button', { name: 'Envoyer le signalement' }).click();
    expect(await teacher.locator('.error-summary[role="alert"]').count()).toBe(1);
    expect(await teacher.locator('.error-summary a').count()).toBeGreaterThanOrEqual(3);
    expect({ path: 'form with errors', violations: await violations(teacher) }).toEqual({ path: 'form with errors', violations: [] });
  }, 120_000);
});

describe('a teacher in front of a broken projector', () => {
  it('declares it from the QR link with the keyboard, without JavaScript, and gets the incident number', async () => {
    const page = await signedIn('enseignant', false);
    await page.goto(`${base}/reservations/incidents/new?equipment=${lists.equipmentId}`);
    // The equipment is already chosen by the link.
    expect(await page.locator('#f-equipmentId').inputValue()).toBe(lists.equipmentId);
    await page.getByLabel('Matériels').check();
    await page.getByLabel('Réparation').check();
    await page.getByLabel('Description du problème').fill('La lampe ne s’allume plus.');
    await page.getByLabel('Description du problème').press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/incidents\/\d+\/declared$/);
    const number = /\/incidents\/(\d+)\/declared$/.exec(page.url())![1]!;
    expect(await page.locator('h1').innerText()).toBe(`Incident n° ${number} enregistré`);
    const row = await h.db.knex('rsv_incidents').where({ id: number }).first();
    expect(row).toMatchObject({ equipment_id: lists.equipmentId, description: 'La lampe ne s’allume plus.', status: 'new' });
  }, 60_000);

  it('a referent takes it in charge in one click from the inbox, without JavaScript', async () => {
    const { id } = await declare(await h.as('enseignant'), lists, { description: 'Écran noir.' });
    const page = await signedIn('referent1', false);
    await page.goto(`${base}/reservations/structures/college-a/inbox`);
    await page.getByRole('button', { name: `Prendre en charge — Incident n° ${id}` }).click();
    await page.waitForURL(/done=taken/);
    expect(await page.locator('p.success').innerText()).toBe(`Vous avez pris en charge l'incident n° ${id}.`);
    expect((await h.db.knex('rsv_incidents').where({ id }).first()).status).toBe('taken');
  }, 60_000);
});
