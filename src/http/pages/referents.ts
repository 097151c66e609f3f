import { z } from 'zod';
import { filesOf, page, PageRoute, RouteContext } from '../route';
import { SERVICE_ACCOUNT_LOGIN } from '../../services/install';
import { NotFoundError } from '../../errors';
import { CsvError, matchPeople, readReferentsCsv } from '../../domain/referents-csv';

/**
 * The school admin names the referents (the delegates of service.informatique) among the school's teachers and staff
 * the host knows — on the OpenID Connect host, those who have signed in at least once — or imports them from CSV.
 * Host-independent: it only asks the hook API, so every host gets it.
 */
const REFERENT_PROFILES = ['Teacher', 'Personnel'] as const;
const MAX_LISTED = 500;

const listQuery = z
  .object({
    q: z.string().trim().max(100).optional(),
    saved: z.string().max(5).optional(),
    imported: z.string().regex(/^\d{1,5}$/).optional(),
    lang: z.string().optional(),
  })
  .strict();

const idList = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string().min(1).max(200)).max(200));

const saveBody = z.object({ userIds: idList }).strict();

const importBody = z
  .object({
    csv: z.string().max(200_000).optional(),
    mode: z.enum(['add', 'replace']).default('add'),
  })
  .strict();

async function pageData(c: RouteContext<unknown, unknown>, extra: { q?: string; message?: string | null; error?: string | null; unknown?: Array<{ line: number; text: string }>; csv?: string }) {
  const { host } = c.module;
  const [account, [structure], candidates] = await Promise.all([
    host.accounts.getFunctionalAccount(c.structureId, SERVICE_ACCOUNT_LOGIN),
    host.directory.getStructures([c.structureId]),
    host.directory.usersOfStructure(c.structureId, { profiles: [...REFERENT_PROFILES], query: extra.q || undefined, limit: MAX_LISTED + 1 }),
  ]);
  if (!account) throw new NotFoundError();
  const delegateIds = new Set(account.delegates.map((d) => d.id));
  const delegates = await host.directory.getUsers([...delegateIds]);
  return {
    structure,
    structureId: c.structureId,
    account: { displayName: account.displayName, email: account.email },
    delegates: delegates.map((u) => ({ id: u.id, login: u.login, displayName: u.displayName, profile: u.profile })),
    candidates: candidates
      .filter((u) => !delegateIds.has(u.id))
      .slice(0, MAX_LISTED)
      .map((u) => ({ id: u.id, login: u.login, displayName: u.displayName, profile: u.profile })),
    truncated: candidates.length > MAX_LISTED,
    q: extra.q ?? '',
    message: extra.message ?? null,
    error: extra.error ?? null,
    unknown: extra.unknown ?? [],
    csv: extra.csv ?? '',
    hostName: host.name,
  };
}

function base(structureId: string): string {
  return `/structures/${encodeURIComponent(structureId)}/referents`;
}

export const referentsPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/referents',
    summary: 'The settings page where a school admin names the referents (delegates of service.informatique).',
    action: 'module.configure',
    scope: { kind: 'structure' },
    query: listQuery,
    async handler(c) {
      const { t } = c.state;
      const message = c.query.saved ? t('referents:saved') : c.query.imported ? t('referents:imported', { count: Number(c.query.imported) }) : null;
      return { view: 'pages/referents', title: t('referents:title'), structureId: c.structureId, data: await pageData(c, { q: c.query.q, message }) };
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/referents',
    summary: 'Replaces the referents with the users ticked on the settings page.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    body: saveBody,
    async handler({ structureId, body, module }) {
      await module.host.accounts.setDelegates(structureId, SERVICE_ACCOUNT_LOGIN, body.userIds);
      return { redirect: `${module.manifest.prefix}${base(structureId)}?saved=1` };
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/referents/import',
    summary: 'Imports the referents from a CSV file (a login or an e-mail per line); all or nothing.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    multipart: { maxFileBytes: 200_000, maxFiles: 1 },
    body: importBody,
    async handler(c) {
      const { t } = c.state;
      const file = filesOf(c.req).find((f) => f.field === 'file');
      const source = file?.data.length ? file.data : (c.body.csv ?? '');
      const rerender = async (error: string, unknown: Array<{ line: number; text: string }> = []) => ({
        view: 'pages/referents',
        title: t('referents:title'),
        structureId: c.structureId,
        status: 400,
        data: await pageData(c, { error, unknown, csv: typeof source === 'string' ? source : '' }),
      });
      let people;
      try {
        people = readReferentsCsv(source);
      } catch (error) {
        if (error instanceof CsvError) return rerender(t(`referents:csv.${error.kind}`));
        throw error;
      }
      const users = await c.module.host.directory.usersOfStructure(c.structureId, { profiles: [...REFERENT_PROFILES], limit: 2000 });
      const { matched, unknown } = matchPeople(people, users);
      // All or nothing: a list with a typo changes nobody, and says which lines to fix.
      if (unknown.length) {
        return rerender(
          t('referents:csv.unknown', { count: unknown.length }),
          unknown.slice(0, 50).map((p) => ({ line: p.line, text: p.cells.join(' ; ').slice(0, 200) })),
        );
      }
      const account = await c.module.host.accounts.getFunctionalAccount(c.structureId, SERVICE_ACCOUNT_LOGIN);
      if (!account) throw new NotFoundError();
      const ids = c.body.mode === 'replace' ? matched.map((u) => u.id) : [...new Set([...account.delegates.map((d) => d.id), ...matched.map((u) => u.id)])];
      await c.module.host.accounts.setDelegates(c.structureId, SERVICE_ACCOUNT_LOGIN, ids);
      return { redirect: `${c.module.manifest.prefix}${base(c.structureId)}?imported=${matched.length}` };
    },
  }),
];
