import { PROFILES, Profile } from '../host';
import type { OidcHostConfig } from './config';

/**
 * From the identity provider's claims to the module's directory: pure functions, no database, no network.
 * ENTs and académie providers spell things differently; what we accept is written here once.
 */

export interface ClaimedStructure {
  id: string;
  /** Null when the provider gives only ids: an existing name is then kept. */
  name: string | null;
}

export interface ClaimedUser {
  id: string;
  login: string;
  displayName: string;
  email: string | null;
  language: string | null;
  profile: Profile;
  structures: ClaimedStructure[];
  /** Ids of the structures (among `structures`) the user administers. */
  adminStructures: string[];
}

/** Why a sign-in is refused after the protocol succeeded: a key of the `oidchost:refused` locale group. */
export class ClaimsError extends Error {
  constructor(
    readonly reason: 'noSubject' | 'unknownProfile' | 'badStructures',
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'ClaimsError';
  }
}

/**
 * Profiles as Open ENT NG, the French national directory (AAF) and other ENTs name them. Compared without case or
 * accents.
 */
const PROFILE_SYNONYMS: Record<string, Profile> = {
  teacher: 'Teacher',
  enseignant: 'Teacher',
  ens: 'Teacher',
  national_1: 'Teacher',
  personnel: 'Personnel',
  pers: 'Personnel',
  staff: 'Personnel',
  national_2: 'Personnel',
  student: 'Student',
  eleve: 'Student',
  pupil: 'Student',
  ele: 'Student',
  national_3: 'Student',
  relative: 'Relative',
  parent: 'Relative',
  responsable: 'Relative',
  tuteur: 'Relative',
  national_4: 'Relative',
};

function fold(value: string): string {
  return value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase();
}

export function profileFrom(value: unknown): Profile | null {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string') return null;
  if ((PROFILES as readonly string[]).includes(first)) return first as Profile;
  return PROFILE_SYNONYMS[fold(first)] ?? null;
}

/** A claim by its name, or by a dotted path into nested objects when no claim has that exact name. */
export function claim(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  if (!name.includes('.')) return undefined;
  let current: unknown = claims;
  for (const part of name.split('.')) {
    if (!current || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/;

/** Some providers send a list as a JSON string or a space/comma separated string. */
function asList(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[') || text.startsWith('{')) {
      try {
        return asList(JSON.parse(text));
      } catch {
        return [text];
      }
    }
    return text.split(/[\s,]+/).filter(Boolean);
  }
  return [value];
}

/** `[{id, name}]`, `["id", ...]`, one object or one id; anything else is refused with the claim named. */
export function structuresFrom(value: unknown, claimName: string): ClaimedStructure[] {
  const result = new Map<string, ClaimedStructure>();
  for (const item of asList(value)) {
    let id: unknown;
    let name: unknown = null;
    if (typeof item === 'string' || typeof item === 'number') id = String(item);
    else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      id = o.id ?? o.uai ?? o.UAI;
      name = o.name ?? o.nom ?? null;
    }
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      throw new ClaimsError('badStructures', `${claimName}: ${JSON.stringify(item)?.slice(0, 100)}`);
    }
    const cleanName = typeof name === 'string' && name.trim() ? name.trim().slice(0, 200) : null;
    const known = result.get(id);
    result.set(id, { id, name: cleanName ?? known?.name ?? null });
  }
  return [...result.values()];
}

function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed ? trimmed.slice(0, max) : null;
}

/** The user as the module's directory keeps it, from the merged ID token and userinfo claims. */
export function userFromClaims(
  claims: Record<string, unknown>,
  config: Pick<OidcHostConfig, 'claims' | 'bootstrapAdmins'>,
): ClaimedUser {
  const sub = text(claims.sub, 200);
  // `fa:` ids are the functional accounts' (src/hostkit/directory.ts): a person can never be one.
  if (!sub || sub.startsWith('fa:')) throw new ClaimsError('noSubject', 'sub');
  const login = text(claim(claims, config.claims.login), 200) ?? sub;
  const profileValue = claim(claims, config.claims.profile);
  const profile = profileFrom(profileValue);
  if (!profile) throw new ClaimsError('unknownProfile', `${config.claims.profile}=${JSON.stringify(profileValue ?? null)?.slice(0, 100)}`);
  const structures = structuresFrom(claim(claims, config.claims.structures), config.claims.structures);
  const mine = new Set(structures.map((s) => s.id));
  let adminStructures = structuresFrom(claim(claims, config.claims.adminStructures), config.claims.adminStructures)
    .map((s) => s.id)
    // Administering a school one does not belong to gives nothing: the claim cannot widen the user's schools.
    .filter((id) => mine.has(id));
  if (config.bootstrapAdmins.includes(login)) adminStructures = [...mine];
  const given = text(claims.given_name, 100);
  const family = text(claims.family_name, 100);
  const displayName = text(claims.name, 200) ?? ([given, family].filter(Boolean).join(' ') || login);
  return {
    id: sub,
    login,
    displayName,
    email: text(claims.email, 320),
    language: text(claim(claims, config.claims.language), 35),
    profile,
    structures,
    adminStructures: [...new Set(adminStructures)].sort(),
  };
}
