import fs from 'node:fs';
import path from 'node:path';
import i18next, { i18n as I18n, TFunction } from 'i18next';
import { DateTime } from 'luxon';
import { MODULE_ROOT } from './manifest';

export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'fr';
export type T = TFunction;

export const LOCALES_DIR = path.join(MODULE_ROOT, 'locales');

/** Reads every namespace file of locales/<lang>/<ns>.json once, at start-up. */
export function loadResources(dir = LOCALES_DIR): Record<string, Record<string, unknown>> {
  const resources: Record<string, Record<string, unknown>> = {};
  for (const lang of LANGUAGES) {
    resources[lang] = {};
    for (const file of fs.readdirSync(path.join(dir, lang))) {
      if (!file.endsWith('.json')) continue;
      resources[lang][file.slice(0, -5)] = JSON.parse(fs.readFileSync(path.join(dir, lang, file), 'utf8'));
    }
  }
  return resources;
}

let shared: I18n | undefined;

/** One i18next instance for the process (module and hosts share the locales folder). */
export function getI18n(): I18n {
  if (shared) return shared;
  const resources = loadResources();
  const instance = i18next.createInstance();
  void instance.init({
    resources: resources as never,
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: [...LANGUAGES],
    ns: Object.keys(resources[DEFAULT_LANGUAGE]),
    defaultNS: 'common',
    initAsync: false,
    interpolation: { escapeValue: false }, // EJS escapes at output; mails and JSON must not be HTML-escaped twice.
    returnNull: false,
  } as never);
  // `{{dates, days}}`: calendar days (ISO 'YYYY-MM-DD') as the reader says them, 'mardi 7 avril 2026 et jeudi 9 avril
  // 2026', never as stored.
  instance.services.formatter?.add('days', (value: unknown, lng: string | undefined) => formatDays(Array.isArray(value) ? value : [value], lng ?? DEFAULT_LANGUAGE));
  shared = instance;
  return instance;
}

/** Calendar days in the reader's words, as one list: 'mardi 7 avril 2026, jeudi 9 avril 2026 et …'. */
export function formatDays(days: unknown[], lng: string): string {
  const words = days.map((d) => {
    const day = DateTime.fromISO(String(d));
    return day.isValid ? day.setLocale(lng).toFormat('cccc d LLLL yyyy') : String(d);
  });
  return new Intl.ListFormat(lng, { style: 'long', type: 'conjunction' }).format(words);
}

export function normalizeLanguage(value: string | null | undefined): Language | null {
  if (!value) return null;
  const base = value.trim().toLowerCase().slice(0, 2);
  return (LANGUAGES as readonly string[]).includes(base) ? (base as Language) : null;
}

/** Picks from an Accept-Language header the first language we have, by quality. */
export function fromAcceptLanguage(header: string | undefined): Language | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag ?? '', q: q ? Number(q.slice(2)) || 0 : 1, index };
    })
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const lang = normalizeLanguage(tag);
    if (lang) return lang;
  }
  return null;
}

/** The user's language from the host first, then `?lang=`, then Accept-Language, then French. */
export function pickLanguage(input: { userLanguage?: string | null; query?: unknown; acceptLanguage?: string }): Language {
  return (
    normalizeLanguage(input.userLanguage) ??
    normalizeLanguage(typeof input.query === 'string' ? input.query : undefined) ??
    fromAcceptLanguage(input.acceptLanguage) ??
    DEFAULT_LANGUAGE
  );
}

const fixedTs = new Map<Language, T>();
/** Plain lookups kept per language (labels: the key is code or a seeded list's key, so the set is small and fixed). */
const MAX_MEMOIZED_KEYS = 5000;

/**
 * A language's t(), one per language for the process. A lookup without options (a status label, a seeded list's
 * name...) is memoized: the locales never change while the process runs, and an inbox page asks for dozens of labels
 * (i18next's resolution was 9% of the host's CPU on the inbox in issue 9's bench). Calls with options go to i18next.
 */
export function tFor(lang: Language): T {
  let t = fixedTs.get(lang);
  if (!t) {
    const fixed = getI18n().getFixedT(lang) as unknown as (...args: unknown[]) => string;
    const memo = new Map<string, string>();
    t = ((key: unknown, ...rest: unknown[]) => {
      if (rest.length || typeof key !== 'string') return fixed(key, ...rest);
      let value = memo.get(key);
      if (value === undefined) {
        value = fixed(key);
        if (memo.size < MAX_MEMOIZED_KEYS) memo.set(key, value);
      }
      return value;
    }) as unknown as T;
    fixedTs.set(lang, t);
  }
  return t;
}
