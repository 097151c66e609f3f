import fs from 'node:fs';
import path from 'node:path';
import { loadResources, LANGUAGES } from '../../src/i18n';

const ROOT = path.join(__dirname, '..', '..');

function flatten(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

function files(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []));
}

const resources = loadResources();
const keysOf = (lang: string) => new Set(Object.entries(resources[lang]!).flatMap(([ns, tree]) => flatten(tree).map((k) => `${ns}:${k}`)));

describe('locales stay in step', () => {
  it('French and English have the same keys', () => {
    const fr = keysOf('fr');
    const en = keysOf('en');
    expect([...fr].filter((k) => !en.has(k))).toEqual([]);
    expect([...en].filter((k) => !fr.has(k))).toEqual([]);
  });

  it('every literal key used by a view or the code exists', () => {
    const known = keysOf('fr');
    // Plural keys are stored as key_one / key_other.
    const has = (key: string) => known.has(key) || known.has(`${key}_one`) || known.has(`${key}_other`);
    const sources = [...files(path.join(ROOT, 'views'), '.ejs'), ...files(path.join(ROOT, 'src'), '.ejs'), ...files(path.join(ROOT, 'src'), '.ts')];
    const missing: string[] = [];
    for (const file of sources) {
      const text = fs.readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\bt\(\s*'([a-z]+):([A-Za-z0-9_.]+)'/g)) {
        if (match[2]!.endsWith('.')) continue; // a computed key: 'ns:prefix.' + value
        const key = `${match[1]}:${match[2]}`;
        if (!has(key)) missing.push(`${path.relative(ROOT, file)}: ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every secured action of module.json has a label in both languages', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'module.json'), 'utf8'));
    for (const lang of LANGUAGES) {
      const keys = keysOf(lang);
      for (const action of manifest.securedActions) expect(keys.has(`admin:${action.labelKey}`)).toBe(true);
      expect(keys.has(`common:${manifest.displayNameKey}`)).toBe(true);
    }
  });
});
