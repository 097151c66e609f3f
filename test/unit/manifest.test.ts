import fs from 'node:fs';
import path from 'node:path';
import { parseManifest, loadManifest, ManifestError } from '../../src/manifest';

const good = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'module.json'), 'utf8'));

function refusal(change: (m: Record<string, unknown>) => void): ManifestError {
  const copy = structuredClone(good);
  change(copy);
  try {
    parseManifest(copy);
  } catch (error) {
    return error as ManifestError;
  }
  throw new Error('the manifest was accepted');
}

describe('module.json', () => {
  it('the shipped manifest is valid', () => {
    const manifest = loadManifest();
    expect(manifest.prefix).toBe('/reservations');
    expect(manifest.securedActions.map((a) => a.name)).toEqual(
      expect.arrayContaining(['booking.book', 'booking.validate', 'incident.declare', 'incident.manage', 'module.configure', 'stats.view', 'stats.viewAcrossStructures']),
    );
  });

  it.each([
    ['a missing prefix', (m: Record<string, unknown>) => delete m.prefix, 'prefix', /is missing/],
    ['a wrong version', (m: Record<string, unknown>) => (m.version = 'one'), 'version', /pattern/],
    ['a prefix without a slash', (m: Record<string, unknown>) => (m.prefix = 'reservations'), 'prefix', /pattern/],
    ['a missing action name', (m: Record<string, unknown>) => delete (m.securedActions as Array<Record<string, unknown>>)[2]!.name, 'securedActions[2].name', /is missing/],
    ['an unknown profile', (m: Record<string, unknown>) => ((m.securedActions as Array<Record<string, unknown>>)[0]!.defaultProfiles = ['Teachr']), 'securedActions[0].defaultProfiles[0]', /allowed values/],
    ['an unknown field', (m: Record<string, unknown>) => (m.entrypoint = 'x'), 'entrypoint', /is not allowed/],
    ['a missing folder', (m: Record<string, unknown>) => delete (m.folders as Record<string, unknown>).views, 'folders.views', /is missing/],
    ['a hook API version of the wrong shape', (m: Record<string, unknown>) => (m.hookApi = 1), 'hookApi', /string/],
    ['an action declared twice', (m: Record<string, unknown>) => (m.securedActions as unknown[]).push((m.securedActions as unknown[])[0]), 'securedActions[8].name', /twice/],
    ['a menu right that is not an action', (m: Record<string, unknown>) => ((m.menu as Record<string, unknown>).right = 'nope.nope'), 'menu.right', /not a declared/],
  ])('refuses %s, naming the field', (_label, change, field, message) => {
    const error = refusal(change);
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`"${field}"`);
    expect(error.message).toMatch(message);
  });

  it('refuses a file that is not JSON', () => {
    const file = path.join(require('node:os').tmpdir(), `bad-manifest-${process.pid}.json`);
    fs.writeFileSync(file, '{ "name": ');
    expect(() => loadManifest(file)).toThrow(/not readable JSON/);
    fs.unlinkSync(file);
  });
});
