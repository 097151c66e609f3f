import fs from 'node:fs';
import path from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import schema from './module.schema.json';
import type { SecuredAction } from '../host';

export interface Manifest {
  name: string;
  version: string;
  displayNameKey: string;
  prefix: string;
  entry: string;
  folders: { migrations: string; locales: string; views: string };
  hookApi: string;
  languages?: string[];
  menu?: { labelKey: string; icon: string; right: string };
  securedActions: SecuredAction[];
  functionalAccounts: Array<{ login: string; displayNameKey: string; responsibleOfEquipment?: boolean }>;
}

export class ManifestError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile<Manifest>(schema);

/** Names the field in JSON-pointer-ish form: `securedActions[2].name`. */
function fieldOf(error: ErrorObject): string {
  const base = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return base ? `${base}.${missing}` : missing;
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return base ? `${base}.${extra}` : extra;
  }
  return base || '(root)';
}

/** Validates a parsed manifest; throws a ManifestError naming the first wrong field. */
export function parseManifest(data: unknown, source = 'module.json'): Manifest {
  if (validate(data)) {
    const names = new Set<string>();
    data.securedActions.forEach((action, i) => {
      if (names.has(action.name)) throw new ManifestError(`${source}: field "securedActions[${i}].name": "${action.name}" is declared twice`, `securedActions[${i}].name`);
      names.add(action.name);
    });
    if (data.menu && !names.has(data.menu.right)) {
      throw new ManifestError(`${source}: field "menu.right": "${data.menu.right}" is not a declared secured action`, 'menu.right');
    }
    return data;
  }
  const error = validate.errors![0]!;
  const field = fieldOf(error);
  const what =
    error.keyword === 'required' ? 'is missing'
    : error.keyword === 'additionalProperties' ? 'is not allowed'
    : error.message ?? 'is invalid';
  throw new ManifestError(`${source}: field "${field}" ${what}`, field);
}

export const MODULE_ROOT = path.resolve(__dirname, '..', '..', fs.existsSync(path.resolve(__dirname, '..', '..', 'module.json')) ? '' : '..');

/** Reads and validates module.json (a host does this before loading the module's code). */
export function loadManifest(file = path.join(MODULE_ROOT, 'module.json')): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ManifestError(`${file}: not readable JSON (${(error as Error).message})`, '(root)');
  }
  return parseManifest(raw, path.basename(file));
}
