import type { ModuleContext } from '../context';
import { ADMIN_LOCAL, Grant, GrantSubject, PROFILES } from '../host';
import { RefusedError, ValidationError } from '../errors';
import { SERVICE_ACCOUNT_LOGIN } from './install';

export interface GrantMatrix {
  actions: Array<{ name: string; labelKey: string; crossStructure: boolean }>;
  subjects: Array<GrantSubject & { label: string | null }>;
  granted: Set<string>;
}

export const subjectKey = (action: string, s: GrantSubject) => `${action}|${s.kind}|${s.id}`;

/** The grantable subjects of a school: the host's profiles, its local admins, the referents, and its groups. */
export async function grantSubjects(ctx: ModuleContext, structureId: string): Promise<Array<GrantSubject & { label: string | null }>> {
  const groups = await ctx.host.directory.groupsOfStructure(structureId);
  return [
    ...PROFILES.map((p) => ({ kind: 'profile' as const, id: p, label: null })),
    { kind: 'profile' as const, id: ADMIN_LOCAL, label: null },
    { kind: 'delegates' as const, id: SERVICE_ACCOUNT_LOGIN, label: null },
    ...groups.map((g) => ({ kind: 'group' as const, id: g.id, label: g.name })),
  ];
}

export async function grantMatrix(ctx: ModuleContext, structureId: string): Promise<GrantMatrix> {
  const [subjects, grants] = await Promise.all([grantSubjects(ctx, structureId), ctx.host.rights.grants(structureId)]);
  return {
    actions: ctx.manifest.securedActions.map((a) => ({ name: a.name, labelKey: a.labelKey, crossStructure: a.crossStructure ?? false })),
    subjects,
    granted: new Set(grants.map((g) => subjectKey(g.action, g.subject))),
  };
}

/**
 * Replaces a school's grants. Every action must be declared and every subject must exist in the school; the local
 * admins keep `module.configure`, so that no school can lock itself out of its own settings.
 */
export async function replaceGrants(ctx: ModuleContext, structureId: string, grants: Array<Omit<Grant, 'structureId'>>): Promise<void> {
  const subjects = await grantSubjects(ctx, structureId);
  const known = new Set(subjects.map((s) => `${s.kind}|${s.id}`));
  const actions = new Set(ctx.manifest.securedActions.map((a) => a.name));
  const fields: Array<{ field: string; message: string }> = [];
  grants.forEach((g, i) => {
    if (!actions.has(g.action)) fields.push({ field: `grants.${i}.action`, message: 'unknown action' });
    if (!known.has(`${g.subject.kind}|${g.subject.id}`)) fields.push({ field: `grants.${i}.subject`, message: 'unknown profile or group' });
  });
  if (fields.length) throw new ValidationError(fields);
  if (!grants.some((g) => g.action === 'module.configure' && g.subject.kind === 'profile' && g.subject.id === ADMIN_LOCAL)) {
    throw new RefusedError('admin_lockout', 'admin:rights.lockout');
  }
  await ctx.host.rights.setGrants(structureId, grants);
}
