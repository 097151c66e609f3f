import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, Browser, BrowserContext, Page, Response } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import sharp from 'sharp';
import jsQR from 'jsqr';
import { startTestHost, TestHost } from '../helpers/host';
import { tFor, Language, T } from '../../src/i18n';

/* The functions given to page.evaluate run in the browser. The project is type-checked without the DOM library (it is
   server code), so the few browser globals they use are declared here, for this file only. */
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare function getComputedStyle(element: unknown): any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The browser journeys' toolkit (issue 8): the reference host on a free port with the run's database, Debian's Chromium
 * driven by playwright-core (one browser per test file), and the checks every page of a journey goes through:
 * axe-core (WCAG 2.1 A/AA, fails on serious or critical), the Content-Security-Policy seen by the browser (no
 * violation, no console error, no inline script, style or event handler), no horizontal scroll at 390 px, and the
 * screenshots at 1280 and 390 px when SCREENSHOTS=1.
 *
 * E2E=0 skips the journeys (and says so); otherwise a missing Chromium fails them with the way to install it.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const E2E_DISABLED = process.env.E2E === '0';
export const SCREENSHOTS = process.env.SCREENSHOTS === '1';
export const SCREENSHOT_DIR = path.join(__dirname, '..', 'screenshots');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** Tall pages are cut there in screenshots (the top of a page is what a person looks at; keeps the PNGs small). */
const MAX_SHOT_HEIGHT = { desktop: 2400, phone: 3600 };

/** `describe`, or a skipped one that says why when E2E=0. */
export function describeE2E(name: string, fn: () => void): void {
  if (E2E_DISABLED) {
    // eslint-disable-next-line no-console
    console.warn(`[e2e] E2E=0: the browser journeys "${name}" are skipped (unset E2E to run them with ${CHROMIUM_PATH}).`);
    describe.skip(`${name} (skipped: E2E=0)`, fn);
    return;
  }
  describe(name, fn);
}

export interface Variant {
  lang: Language;
  javaScript: boolean;
  /** Which journey run checks each page with axe and takes the screenshots (the others only walk). */
  scan: boolean;
  shots: boolean;
  name: string;
}

/**
 * Each journey runs three times: in French, in French with JavaScript off (every form must work without it), and in
 * English through the frame's language switch. axe-core needs JavaScript, so the no-JS run checks the CSP and the
 * layout only; the French run takes the screenshots.
 */
export const VARIANTS: Variant[] = [
  { lang: 'fr', javaScript: true, scan: true, shots: true, name: 'in French' },
  { lang: 'fr', javaScript: false, scan: false, shots: false, name: 'in French, without JavaScript' },
  { lang: 'en', javaScript: true, scan: true, shots: false, name: 'in English' },
];

export interface PageReport {
  name: string;
  url: string;
  lang: Language;
  axe: string[];
  csp: string[];
  /** axe-core findings that do not fail the run (moderate or minor, or best practices only). */
  notes: string[];
}

export class E2E {
  /** Every page checked in this file, for the summary printed at the end. */
  readonly reports: PageReport[] = [];

  private constructor(
    readonly h: TestHost,
    readonly server: Server,
    readonly base: string,
    readonly browser: Browser,
  ) {}

  static async start(): Promise<E2E> {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `[e2e] Chromium not found at ${CHROMIUM_PATH}. The browser journeys use Debian's package: ` +
          `apt-get install -y chromium (.ci/run does it), or CHROMIUM_PATH=/path/to/chromium; E2E=0 skips them.`,
      );
    }
    const h = await startTestHost();
    const server = h.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let browser: Browser;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
    } catch (error) {
      await new Promise((resolve) => server.close(resolve));
      await h.stop();
      throw error;
    }
    return new E2E(h, server, base, browser);
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
    await this.h.stop();
  }

  /** A fresh browser context (its own cookies), signed in by clicking the account on the host's /login page. */
  async signIn(login: string, variant: Variant, options: { deviceScaleFactor?: number } = {}): Promise<UserPage> {
    const context = await this.browser.newContext({
      javaScriptEnabled: variant.javaScript,
      locale: variant.lang === 'en' ? 'en-GB' : 'fr-FR',
      timezoneId: 'Europe/Paris',
      viewport: DESKTOP,
      deviceScaleFactor: options.deviceScaleFactor ?? 1,
    });
    const user = await UserPage.open(this, context, variant, login);
    await user.goto('/login');
    await user.check('login', { scan: variant.scan && login === 'enseignant', shots: login === 'enseignant' });
    // The account's button: its accessible name starts with the person's name and carries the login.
    await user.page.locator(`button[name="login"][value="${login}"]`).click();
    await user.page.waitForURL((url) => !url.pathname.startsWith('/login'));
    await user.useLanguage(variant.lang);
    return user;
  }

  /** Prints the pages checked in this file (axe and CSP both clean, or the test already failed). */
  summary(file: string): void {
    const lines = this.reports.map((r) => `  ${r.lang} ${r.name.padEnd(34)} ${new URL(r.url).pathname}${r.notes.map((n) => `\n      note: ${n}`).join('')}`);
    // eslint-disable-next-line no-console
    console.log(`[e2e] ${file}: ${this.reports.length} page checks (axe-core ${AXE_TAGS.join(', ')}; CSP; 390 px)\n${lines.join('\n')}`);
  }
}

/** One signed-in person's tab, with the checks of a journey's pages. */
export class UserPage {
  readonly csp: string[] = [];
  readonly consoleProblems: string[] = [];
  t: T;

  private constructor(
    readonly e2e: E2E,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly variant: Variant,
    readonly login: string,
  ) {
    this.t = tFor(variant.lang);
  }

  static async open(e2e: E2E, context: BrowserContext, variant: Variant, login: string): Promise<UserPage> {
    // Violations reported by the page itself (needs JavaScript: the listener is added by the browser, outside the
    // page's CSP); without JavaScript the browser's console messages below still report them.
    await context.exposeBinding('__e2eCspViolation', (source, v: { directive: string; blocked: string; sample: string; line: number }) => {
      user.csp.push(`${source.page.url()}: ${v.directive} blocked ${v.blocked || 'inline'} ${v.sample ?? ''} (line ${v.line})`);
    });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e: any) => {
        (window as unknown as { __e2eCspViolation: (v: unknown) => void }).__e2eCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, line: e.lineNumber });
      });
    });
    const page = await context.newPage();
    const user = new UserPage(e2e, context, page, variant, login);
    page.on('console', (message) => {
      const text = message.text();
      if (/Content.Security.Policy/i.test(text)) user.csp.push(`${page.url()}: ${text}`);
      else if (message.type() === 'error' || message.type() === 'warning') {
        // A form refused on purpose answers 4xx with its page; the browser logs the status of that document.
        const expectedStatus = /Failed to load resource: the server responded with a status of 4\d\d/.test(text) && (message.location().url === page.url() || /favicon\.ico$/.test(message.location().url));
        if (!expectedStatus) user.consoleProblems.push(`${page.url()}: [${message.type()}] ${text}`);
      }
    });
    page.on('pageerror', (error) => user.consoleProblems.push(`${page.url()}: [pageerror] ${error.message}`));
    return user;
  }

  get base(): string {
    return this.e2e.base;
  }

  url(pathname: string): string {
    return `${this.base}${pathname}`;
  }

  async goto(pathname: string): Promise<Response | null> {
    return this.page.goto(this.url(pathname));
  }

  /**
   * The frame's language switch, stored on the host user as an ENT does (so the module's mails follow it too). Always
   * used after signing in, even when the browser's Accept-Language already gave that language to the page.
   */
  async useLanguage(lang: Language): Promise<void> {
    const current = await this.page.locator('html').getAttribute('lang');
    const t = tFor((current === 'en' ? 'en' : 'fr') as Language);
    await this.page.getByLabel(t('host:language')).selectOption(lang);
    await Promise.all([this.page.waitForNavigation(), this.page.getByRole('button', { name: t('host:changeLanguage') }).click()]);
    expect(await this.page.locator('html').getAttribute('lang')).toBe(lang);
  }

  /** Clicks something that submits a form or follows a link, and waits for the next page. */
  async submit(locator: ReturnType<Page['locator']>): Promise<void> {
    await Promise.all([this.page.waitForNavigation(), locator.click()]);
  }

  /**
   * The checks of one page of a journey: no CSP violation, console error or inline script/style/handler; no
   * horizontal scroll at 390 px; axe-core with no serious or critical violation (runs with `scan`); screenshots.
   */
  async check(name: string, options: { scan?: boolean; shots?: boolean } = {}): Promise<void> {
    const scan = options.scan ?? this.variant.scan;
    const shots = SCREENSHOTS && (options.shots ?? this.variant.shots);
    const page = this.page;
    await page.waitForLoadState('load');
    const url = page.url();
    const inline = await page.evaluate(() => {
      const found: string[] = [];
      for (const el of Array.from<any>(document.querySelectorAll('[style]'))) found.push(`style="" on <${el.tagName.toLowerCase()}>`);
      for (const el of Array.from<any>(document.querySelectorAll('script:not([src])'))) found.push(`inline <script>: ${(el.textContent ?? '').slice(0, 60)}`);
      for (const el of Array.from<any>(document.querySelectorAll('*'))) {
        for (const attr of Array.from<any>(el.attributes)) if (/^on/i.test(attr.name)) found.push(`${attr.name}="" on <${el.tagName.toLowerCase()}>`);
      }
      return found;
    });
    expect({ page: name, url, inline }).toEqual({ page: name, url, inline: [] });
    expect({ page: name, url, csp: this.csp }).toEqual({ page: name, url, csp: [] });
    expect({ page: name, url, console: this.consoleProblems }).toEqual({ page: name, url, console: [] });
    // The page keeps to the phone's width: wide tables scroll inside their own box, never the whole page.
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = Array.from<any>(document.querySelectorAll('body *'))
        .filter((el) => el.getBoundingClientRect().right > width + 1 && (!el.parentElement?.closest('.table-wrap') || ['absolute', 'fixed'].includes(getComputedStyle(el).position)))
        .map((el) => `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}>`);
      const scroll = document.documentElement.scrollWidth > width;
      return { scroll, wide: scroll ? wide.slice(0, 5) : [] };
    });
    expect({ page: name, url, overflowAt390: overflow }).toEqual({ page: name, url, overflowAt390: { scroll: false, wide: [] } });
    if (shots) await this.screenshot(name, 'phone');
    await page.setViewportSize(DESKTOP);
    if (shots) await this.screenshot(name, 'desktop');
    let axe: string[] = [];
    let notes: string[] = [];
    if (scan) {
      // WCAG 2.1 A/AA decides. (axe's best practices — landmarks, heading order — were clean when this was written;
      // E2E_AXE_BEST_PRACTICES=1 runs them too, listed as notes.)
      const tags = process.env.E2E_AXE_BEST_PRACTICES === '1' ? [...AXE_TAGS, 'best-practice'] : AXE_TAGS;
      const result = await new AxeBuilder({ page }).withTags(tags).analyze();
      expect(result.passes.length).toBeGreaterThan(5);
      const describe = (v: (typeof result.violations)[number]) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}`;
      const wcag = (v: (typeof result.violations)[number]) => v.tags.some((tag) => AXE_TAGS.includes(tag));
      axe = result.violations.filter((v) => wcag(v) && (v.impact === 'serious' || v.impact === 'critical')).map(describe);
      notes = result.violations.filter((v) => !(wcag(v) && (v.impact === 'serious' || v.impact === 'critical'))).map(describe);
      // What axe could not decide (e.g. a contrast over a pattern) is listed for a person to look at.
      notes.push(...result.incomplete.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `to review: ${describe(v)}`));
      expect({ page: name, lang: this.variant.lang, url, axe }).toEqual({ page: name, lang: this.variant.lang, url, axe: [] });
    }
    this.e2e.reports.push({ name: scan ? name : `${name} (no axe: ${this.variant.javaScript ? 'not scanned' : 'JavaScript off'})`, url, lang: this.variant.lang, axe, csp: [], notes });
  }

  private async screenshot(name: string, width: 'desktop' | 'phone'): Promise<void> {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const size = width === 'desktop' ? DESKTOP : PHONE;
    const height = await this.page.evaluate(() => document.documentElement.scrollHeight);
    const png = await this.page.screenshot({
      fullPage: true,
      animations: 'disabled',
      caret: 'hide',
      clip: { x: 0, y: 0, width: size.width, height: Math.min(height, MAX_SHOT_HEIGHT[width]) },
    });
    // A palette PNG: the pages are flat colours, so this keeps them readable at a fraction of the size.
    const small = await sharp(png).png({ palette: true, colours: 128, compressionLevel: 9, effort: 8 }).toBuffer();
    fs.writeFileSync(path.join(SCREENSHOT_DIR, `${name}-${width}.png`), small);
  }

  /** The mails the reference host's catcher holds, read as the browser would (the /mail page's JSON). */
  async caughtMails(): Promise<Array<{ to: string[]; subject: string; text: string }>> {
    const response = await this.page.request.get(this.url('/mail'), { headers: { accept: 'application/json' } });
    expect(response.status()).toBe(200);
    return response.json();
  }

  /** Waits until the catcher holds a mail to `address` that `match` accepts (the worker polls every 0.5 s here). */
  async waitForMail(address: string, match: (m: { subject: string; text: string }) => boolean, timeoutMs = 15_000) {
    const until = Date.now() + timeoutMs;
    let last: Array<{ to: string[]; subject: string; text: string }> = [];
    while (Date.now() < until) {
      last = (await this.caughtMails()).filter((m) => m.to.some((to) => to.toLowerCase() === address.toLowerCase()));
      const found = last.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no mail to ${address} matched within ${timeoutMs} ms; mails to it: ${JSON.stringify(last.map((m) => m.subject))}`);
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** The Tuesday of next week in the school's zone (Europe/Paris), as YYYY-MM-DD. */
export function nextTuesday(now = new Date()): string {
  const paris = new Date(now.toLocaleString('en-US', { timeZone: 'Europe/Paris' }));
  const day = (paris.getDay() + 6) % 7; // Monday 0
  const monday = new Date(paris.getFullYear(), paris.getMonth(), paris.getDate() - day + 7);
  const tuesday = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 1);
  return `${tuesday.getFullYear()}-${String(tuesday.getMonth() + 1).padStart(2, '0')}-${String(tuesday.getDate()).padStart(2, '0')}`;
}

/** The ISO week (YYYY-Www) of a YYYY-MM-DD date, as the planning's `week` parameter takes it. */
export function isoWeekOf(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day + 3);
  const firstThursday = new Date(Date.UTC(d.getUTCFullYear(), 0, 4));
  const week = 1 + Math.round(((d.getTime() - firstThursday.getTime()) / 86400000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The id of a piece of equipment of college-a by its name (the id printed in its QR code's link). */
export async function equipmentIdByName(e2e: E2E, name: string, structureId = 'college-a'): Promise<string> {
  const row = await e2e.h.db.knex('rsv_equipment').where({ structure_id: structureId, name }).first('id');
  if (!row) throw new Error(`no equipment named ${name} in ${structureId}`);
  return String(row.id);
}

export const PROJECTOR = 'Vidéoprojecteur salle 12';

/**
 * Declares an incident from the QR-code link stuck on the equipment (`/reservations/incidents/new?equipment=ID`):
 * the equipment is already chosen; picks "Matériels" / "Réparation", describes, sends. Returns the incident number.
 */
export async function declareFromQrLink(user: UserPage, equipmentName: string, description: string, shotPrefix: string | null, link?: string, photo?: string): Promise<string> {
  const { page, t } = user;
  const id = await equipmentIdByName(user.e2e, equipmentName);
  const response = await user.goto(link ?? `/reservations/incidents/new?equipment=${id}`);
  expect(response?.status()).toBe(200);
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(t('incident:new.heading'));
  expect(await page.getByLabel(t('incident:field.equipment'), { exact: true }).inputValue()).toBe(id);
  if (shotPrefix) await user.check(`${shotPrefix}-incident-new`);
  await page.getByRole('group', { name: t('incident:field.type') }).getByLabel(t('common:seed.incidentType.hardware'), { exact: true }).check();
  await page.getByRole('group', { name: t('incident:field.severity') }).getByLabel(t('common:seed.severity.repair'), { exact: true }).check();
  await page.getByLabel(t('incident:field.description'), { exact: true }).fill(description);
  if (photo) {
    // A phone's photo of the broken projector (issue 11), sent with the form (multipart, with or without JavaScript).
    const jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#335577' } }).jpeg().toBuffer();
    await page.getByLabel(t('attachments:field.files'), { exact: true }).setInputFiles({ name: photo, mimeType: 'image/jpeg', buffer: jpeg });
  }
  await user.submit(page.getByRole('button', { name: t('incident:new.submit') }));
  const match = /\/incidents\/(\d+)\/declared$/.exec(page.url());
  expect(match).not.toBeNull();
  const number = match![1]!;
  expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(t('incident:declared.heading', { number }));
  if (shotPrefix) await user.check(`${shotPrefix}-incident-declared`);
  return number;
}

/** The subject of an incident mail as the recipient reads it, in their language. */
export function incidentMailSubject(lang: Language, kind: 'created' | 'status_changed' | 'comment', id: string, equipment: string, status?: string): string {
  const t = tFor(lang);
  return `[#${id}] ${t(`mail:incident.subject.${kind}`, { equipment, status: status ? t(`incident:status.${status}`) : '' })}`;
}

/**
 * Reads the QR code of one equipment's label the way a phone would read the printed sheet: the labels page as Chromium
 * draws it, the label's code cut out of a screenshot, decoded by jsQR. Returns the link it holds.
 */
export async function decodeLabelQr(user: UserPage, equipmentName: string): Promise<string> {
  const label = user.page.getByRole('listitem').filter({ hasText: equipmentName }).first();
  const png = await label.locator('svg').first().screenshot({ scale: 'device' });
  const { data, info } = await sharp(png).flatten({ background: '#ffffff' }).extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#ffffff' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const code = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height);
  if (!code) throw new Error(`the QR code of ${equipmentName}'s label could not be read from the page`);
  return code.data;
}
