import { fetchTrusting, FetchLike } from '../../src/oidchost/fetch';

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  text: string;
}

/**
 * A small browser for the sign-in journeys: keeps cookies per origin, follows redirects (a 303 turns a POST into a
 * GET), posts forms. It trusts the test provider's certificate, as a browser would after installing it.
 */
export class Browser {
  private readonly jars = new Map<string, Map<string, string>>();
  private readonly fetch: FetchLike;

  constructor(ca: Buffer) {
    this.fetch = fetchTrusting(ca);
  }

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }

  setCookie(origin: string, name: string, value: string): void {
    if (!this.jars.has(origin)) this.jars.set(origin, new Map());
    this.jars.get(origin)!.set(name, value);
  }

  cookieHeader(origin: string): string {
    return [...(this.jars.get(origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(origin: string, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (expired || value === '') this.jars.get(origin)?.delete(name);
      else this.setCookie(origin, name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookies = this.cookieHeader(target.origin);
    if (cookies) headers.cookie = cookies;
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await this.fetch(target.href, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.store(target.origin, response.headers);
    return { status: response.status, url: target.href, headers: response.headers, text: await response.text() };
  }

  /** Follows redirects until a page that is not one, or until `stopAt` says so (the redirect is then not followed). */
  async navigate(url: string, init: { method?: string; form?: Record<string, string> } = {}, stopAt?: (next: URL) => boolean): Promise<Page & { history: string[] }> {
    const history: string[] = [];
    let page = await this.request(url, init);
    history.push(page.url);
    for (let hops = 0; hops < 20 && page.status >= 300 && page.status < 400 && page.headers.get('location'); hops++) {
      const next = new URL(page.headers.get('location')!, page.url);
      if (stopAt?.(next)) return { ...page, history: [...history, next.href] };
      page = await this.request(next.href);
      history.push(page.url);
    }
    return { ...page, history };
  }
}

function formAction(html: string): string {
  const match = html.match(/<form[^>]*action="([^"]+)"/);
  if (!match) throw new Error(`no form on the provider's page:\n${html.slice(0, 500)}`);
  return match[1]!.replace(/&amp;/g, '&');
}

/**
 * A person signs in through the provider's own pages: the relying party's /auth/login, the provider's login form, its
 * consent form, back to /auth/callback. With `stopAtCallback` the callback URL is returned instead of followed.
 */
export async function signInThroughProvider(
  browser: Browser,
  rpOrigin: string,
  issuer: string,
  sub: string,
  options: { returnTo?: string; stopAtCallback?: boolean; startUrl?: string } = {},
): Promise<Page & { history: string[]; callbackUrl?: string }> {
  const callbackUrl = { value: undefined as string | undefined };
  const stopAt = (next: URL) => {
    if (options.stopAtCallback && next.origin === rpOrigin && next.pathname === '/auth/callback') {
      callbackUrl.value = next.href;
      return true;
    }
    return false;
  };
  const start = options.startUrl ?? `${rpOrigin}/auth/login${options.returnTo ? `?returnTo=${encodeURIComponent(options.returnTo)}` : ''}`;
  let page = await browser.navigate(start, {}, stopAt);
  const history = [...page.history];
  for (let step = 0; step < 4 && !callbackUrl.value && page.status === 200 && page.url.startsWith(`${issuer}/interaction/`); step++) {
    const consent = page.text.includes('name="prompt" value="consent"');
    const form: Record<string, string> = consent ? { prompt: 'consent' } : { prompt: 'login', login: sub, password: 'any' };
    page = await browser.navigate(new URL(formAction(page.text), page.url).href, { method: 'POST', form }, stopAt);
    history.push(...page.history);
  }
  return { ...page, history, callbackUrl: callbackUrl.value };
}
