import { z } from 'zod';
import { DateTime } from 'luxon';
import { page, PageRoute } from '../route';
import { preferencesOf, savePreferences } from '../api/notifications';
import { NotFoundError } from '../../errors';
import { decodeCursor, encodeCursor } from '../../domain/keyset';

export const notificationPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/me/preferences',
    summary: "The user's mail preferences.",
    action: 'signedIn',
    scope: { kind: 'user' },
    query: z.object({ done: z.string().max(10).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      return { view: 'pages/preferences', title: c.state.t('mail:prefs.title'), data: { prefs: await preferencesOf(c.module.knex, c.user.id), done: c.query.done ?? null, errors: null } };
    },
  }),
  page({
    method: 'post',
    path: '/me/preferences',
    summary: 'Saves the mail preferences from the form.',
    action: 'signedIn',
    scope: { kind: 'user' },
    body: z.object({ mailComments: z.string().max(5).optional(), mailOwnChanges: z.string().max(5).optional() }).strict(),
    async handler(c) {
      await savePreferences(c.module.knex, c.user.id, { mailComments: c.body.mailComments === 'on', mailOwnChanges: c.body.mailOwnChanges === 'on' });
      return { redirect: `${c.module.manifest.prefix}/me/preferences?done=saved` };
    },
  }),
  page({
    method: 'get',
    path: '/structures/:sid/admin/outbox',
    summary: "The school's mails and their state, with a retry button for failed ones.",
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    query: z.object({ status: z.enum(['pending', 'sent', 'failed']).optional(), cursor: z.string().max(100).optional(), done: z.string().max(10).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      const before = c.query.cursor ? decodeCursor(c.query.cursor) : null;
      const limit = 50;
      const q = c.module.knex('rsv_deliveries as d')
        .join('rsv_notifications as n', 'n.id', 'd.notification_id')
        .where('d.structure_id', c.structureId)
        .orderBy('d.id', 'desc')
        .limit(limit + 1)
        .select('d.id', 'd.address', 'd.status', 'd.attempts', 'd.last_error', 'd.created_at', 'd.sent_at', 'n.kind', 'n.subject_type', 'n.subject_id');
      if (c.query.status) q.where('d.status', c.query.status);
      if (before) q.where('d.id', '<', before);
      const rows = await q;
      const counts: Array<{ status: string; n: string | number }> = await c.module.knex('rsv_deliveries').where({ structure_id: c.structureId }).groupBy('status').select('status').count({ n: '*' });
      const fmt = (d: Date | null) => (d ? DateTime.fromJSDate(d, { zone: 'Europe/Paris' }).setLocale(c.state.lang).toFormat('dd/LL/yyyy HH:mm') : '');
      const [structure] = await c.module.host.directory.getStructures([c.structureId]);
      return {
        view: 'pages/admin-outbox',
        title: c.state.t('mail:outbox.title'),
        structureId: c.structureId,
        data: {
          structureId: c.structureId,
          school: structure?.name ?? c.structureId,
          status: c.query.status ?? null,
          done: c.query.done ?? null,
          counts: Object.fromEntries(['pending', 'sent', 'failed'].map((s) => [s, Number(counts.find((x) => x.status === s)?.n ?? 0)])),
          items: rows.slice(0, limit).map((r: Record<string, unknown>) => ({
            id: String(r.id),
            to: r.address,
            status: r.status,
            attempts: r.attempts,
            error: r.last_error,
            kind: String(r.kind),
            subject: `${r.subject_type === 'incident' ? '#' : ''}${r.subject_id}`,
            subjectType: r.subject_type,
            subjectId: String(r.subject_id),
            created: fmt(r.created_at as Date),
            sent: fmt(r.sent_at as Date | null),
          })),
          nextCursor: rows.length > limit ? encodeCursor(String((rows[limit - 1] as { id: string }).id)) : null,
        },
      };
    },
  }),
  page({
    method: 'post',
    path: '/deliveries/:id/retry',
    summary: 'Sends a failed mail again, from the outbox page.',
    action: 'module.configure',
    scope: { kind: 'record', table: 'delivery' },
    service: 'none',
    async handler(c) {
      if (!(await c.module.notifier.retry(c.structureId, c.recordId))) throw new NotFoundError();
      return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/admin/outbox?done=retried` };
    },
  }),
];
