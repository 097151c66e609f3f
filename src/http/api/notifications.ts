import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { NotFoundError, ValidationError } from '../../errors';
import { decodeCursor, encodeCursor } from '../../domain/keyset';

const preferencesBody = z.object({ mailComments: z.boolean().optional(), mailOwnChanges: z.boolean().optional() }).strict();

export async function preferencesOf(knex: import('knex').Knex, userId: string) {
  const row = await knex('rsv_user_preferences').where({ user_id: userId }).first();
  return { mailComments: row?.mail_comments ?? true, mailOwnChanges: row?.mail_own_changes ?? false };
}

export async function savePreferences(knex: import('knex').Knex, userId: string, prefs: { mailComments?: boolean; mailOwnChanges?: boolean }) {
  const current = await preferencesOf(knex, userId);
  const next = { ...current, ...prefs };
  await knex('rsv_user_preferences')
    .insert({ user_id: userId, mail_comments: next.mailComments, mail_own_changes: next.mailOwnChanges, updated_at: knex.fn.now() })
    .onConflict('user_id')
    .merge();
  return next;
}

export const notificationRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/me/preferences',
    summary: "The signed-in user's mail preferences (comments; one's own changes).",
    action: 'signedIn',
    scope: { kind: 'user' },
    async handler({ user, module }) {
      return preferencesOf(module.knex, user.id);
    },
  }),
  route({
    method: 'put',
    path: '/me/preferences',
    summary: 'Changes the mail preferences. Status changes of one\'s own incidents are always mailed.',
    action: 'signedIn',
    scope: { kind: 'user' },
    body: preferencesBody,
    example: { mailComments: false },
    async handler({ user, module, body }) {
      return savePreferences(module.knex, user.id, body);
    },
  }),
  route({
    method: 'get',
    path: '/structures/:sid/outbox',
    summary: "The school's mails: pending, sent, failed after its tries (with the error), newest first, by keyset pages.",
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    query: z.object({ status: z.enum(['pending', 'sent', 'failed']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(100).optional() }).strict(),
    async handler({ structureId, module, query }) {
      const before = query.cursor ? decodeCursor(query.cursor) : null;
      if (query.cursor && !before) throw new ValidationError([{ field: 'cursor', message: 'not a cursor of this list' }]);
      const q = module.knex('rsv_deliveries as d')
        .join('rsv_notifications as n', 'n.id', 'd.notification_id')
        .where('d.structure_id', structureId)
        .orderBy('d.id', 'desc')
        .limit(query.limit + 1)
        .select('d.id', 'd.address', 'd.status', 'd.attempts', 'd.last_error', 'd.created_at', 'd.sent_at', 'n.kind', 'n.subject_type', 'n.subject_id');
      if (query.status) q.where('d.status', query.status);
      if (before) q.where('d.id', '<', before);
      const rows = await q;
      const page = rows.slice(0, query.limit);
      const counts: Array<{ status: string; n: string | number }> = await module.knex('rsv_deliveries').where({ structure_id: structureId }).groupBy('status').select('status').count({ n: '*' });
      return {
        counts: Object.fromEntries(['pending', 'sent', 'failed'].map((s) => [s, Number(counts.find((c) => c.status === s)?.n ?? 0)])),
        items: page.map((r: Record<string, unknown>) => ({
          id: String(r.id),
          to: r.address,
          status: r.status,
          attempts: r.attempts,
          error: r.last_error,
          kind: r.kind,
          subject: { type: r.subject_type, id: String(r.subject_id) },
          createdAt: (r.created_at as Date).toISOString(),
          sentAt: r.sent_at ? (r.sent_at as Date).toISOString() : null,
        })),
        nextCursor: rows.length > query.limit ? encodeCursor(String(page[page.length - 1]!.id)) : null,
      };
    },
  }),
  route({
    method: 'post',
    path: '/deliveries/:id/retry',
    summary: 'Sends a failed (or still pending) mail again.',
    action: 'module.configure',
    scope: { kind: 'record', table: 'delivery' },
    service: 'none',
    body: z.object({}).strict(),
    async handler({ structureId, recordId, module }) {
      if (!(await module.notifier.retry(structureId, recordId))) throw new NotFoundError();
      return { id: recordId, status: 'pending' };
    },
  }),
];
