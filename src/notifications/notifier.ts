import type PgBoss from 'pg-boss';
import nodemailer, { Transporter } from 'nodemailer';
import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import type { HostUser } from '../host';
import { createBoss } from './queue';
import { buildContent, mailDomain, NotificationRow } from './content';
import type { OutboxWaker } from './outbox';
import {
  bookingRecipients,
  BookingNotificationKind,
  DEFAULT_PREFERENCES,
  incidentRecipients,
  IncidentNotificationKind,
  Person,
  Preferences,
  Recipient,
} from '../domain/notification-rules';
import { SERVICE_ACCOUNT_LOGIN } from '../services/install';

/**
 * Deliveries fetched at once. pg-boss waits the polling interval after each fetch unless notified: with 5 per 2 s the
 * worker sent at most 2.5 mails/s (issue 9's bench); a full batch now fetches again at once.
 */
const DELIVER_BATCH = 20;
export const EXPAND_QUEUE = 'rsv-expand';
export const DELIVER_QUEUE = 'rsv-deliver';
const SWEEP_QUEUE = 'rsv-sweep';

export interface NotifierOptions {
  /** False: nothing is recorded nor sent (NOTIFICATIONS=0). */
  enabled: boolean;
  /** Run the worker here (the web process by default; `npm run worker` for a separate one). */
  runWorker: boolean;
  smtpUrl?: string;
  mailFrom: string;
  /** Seconds before the first retry of a failed delivery (doubled each time by pg-boss). */
  retryDelaySeconds: number;
  retryLimit: number;
  pollingIntervalSeconds: number;
  /** How long a delivery (and its job) is held by the worker sending it. */
  leaseSeconds: number;
  maintenanceSeconds: number;
  schema: string;
}

function person(u: HostUser | undefined | null): Person | null {
  return u ? { id: u.id, email: u.email, language: u.language } : null;
}

/**
 * The mail side of the outbox. Requests only write `rsv_notifications` rows (recordNotification) and wake this
 * notifier after commit; the worker expands each notification into deliveries (one per recipient) and delivers each
 * through pg-boss jobs, with retries and backoff. A delivery is leased before it is sent and marked sent after the
 * SMTP server accepted it, so a retry never sends a sent mail again.
 */
export class Notifier implements OutboxWaker {
  private boss: PgBoss | null = null;
  private transport: Transporter | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private started = false;
  /** pg-boss worker ids, when the workers run in this process. */
  private expandWorker: string | null = null;
  private deliverWorker: string | null = null;

  get enabled(): boolean {
    return this.options.enabled;
  }

  constructor(
    private readonly ctx: ModuleContext,
    private readonly knex: Knex,
    private readonly options: NotifierOptions,
  ) {}

  async start(): Promise<void> {
    if (this.started) return;
    this.boss = createBoss(this.knex, this.options.schema, { supervise: this.options.runWorker, maintenanceSeconds: this.options.maintenanceSeconds });
    this.boss.on('error', (error: Error) => this.ctx.logger.warn({ err: error }, 'job queue error'));
    await this.boss.start();
    for (const name of [EXPAND_QUEUE, DELIVER_QUEUE, SWEEP_QUEUE]) {
      // `stately`: at most one expansion queued at a time, however many changes wake it.
      await this.boss.createQueue(name, { name, policy: name === DELIVER_QUEUE ? 'standard' : 'stately' });
    }
    this.started = true;
    if (!this.options.runWorker) return;
    this.transport = this.options.smtpUrl ? nodemailer.createTransport(this.options.smtpUrl, { from: this.options.mailFrom }) : null;
    const polling = { pollingIntervalSeconds: this.options.pollingIntervalSeconds };
    this.expandWorker = await this.boss.work(EXPAND_QUEUE, polling, async () => this.expandPending());
    this.deliverWorker = await this.boss.work<{ deliveryId: string }>(DELIVER_QUEUE, { ...polling, batchSize: DELIVER_BATCH, includeMetadata: true }, async (jobs) => {
      // One job at a time inside the batch: a failure retries that job only.
      for (const job of jobs) await this.deliverJob(job as PgBoss.JobWithMetadata<{ deliveryId: string }>);
      // A full batch: there are likely more, fetch again now rather than after the polling interval.
      if (jobs.length === DELIVER_BATCH) this.notify(this.deliverWorker);
    });
    await this.boss.work(SWEEP_QUEUE, polling, async () => this.sweep());
    // Every minute: notifications a crash left unexpanded, deliveries whose job was lost.
    await this.boss.schedule(SWEEP_QUEUE, '* * * * *');
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const boss = this.boss;
    this.boss = null;
    this.started = false;
    if (boss) await boss.stop({ graceful: true, timeout: 5000, wait: true }).catch(() => undefined);
    this.transport?.close();
  }

  /** Ends a worker's wait for its next poll (pg-boss otherwise waits the polling interval even after a full batch). */
  private notify(workerId: string | null): void {
    if (workerId && this.boss) this.boss.notifyWorker(workerId);
  }

  /** After a commit: asks for one expansion soon (many changes in a burst make one job). */
  wake(): void {
    if (!this.started || this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.boss
        ?.send(EXPAND_QUEUE, {}, { retryLimit: 5, retryDelay: 1 })
        .then(() => this.notify(this.expandWorker))
        .catch((error: Error) => this.ctx.logger.warn({ err: error }, 'could not wake the mail worker'));
    }, 20);
    this.wakeTimer.unref?.();
  }

  /** Expands every pending notification into deliveries and queues their jobs. Idempotent. */
  async expandPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const pending: NotificationRow[] = await this.knex('rsv_notifications').whereNull('expanded_at').orderBy('id').limit(50);
      if (!pending.length) return total;
      for (const n of pending) {
        // Recipients are looked up before the transaction: the host's directory may be a remote service.
        const recipients = await this.recipientsOf(n);
        const deliveryIds = await this.knex.transaction(async (trx) => {
          const locked = await trx('rsv_notifications').where({ id: n.id }).whereNull('expanded_at').forUpdate().skipLocked().first('id');
          if (!locked) return [];
          const domain = mailDomain(this.ctx.host.http.publicUrl());
          const rows = recipients.map((r) => ({
            notification_id: n.id,
            structure_id: n.structure_id,
            recipient_id: r.userId,
            address: r.address,
            language: r.language,
            message_id: `<rsv-n${n.id}-${Buffer.from(r.address.toLowerCase()).toString('hex').slice(0, 40)}@${domain}>`,
          }));
          const inserted: Array<{ id: string }> = rows.length ? await trx('rsv_deliveries').insert(rows).onConflict(['notification_id', 'address']).ignore().returning('id') : [];
          await trx('rsv_notifications').where({ id: n.id }).update({ expanded_at: trx.fn.now() });
          return inserted.map((r) => String(r.id));
        });
        await this.queueDeliveries(deliveryIds);
        await this.timeline(n, recipients);
        total++;
      }
    }
  }

  private async queueDeliveries(ids: string[]): Promise<void> {
    if (!this.boss || !ids.length) return;
    await this.boss.insert(
      ids.map((deliveryId) => ({
        name: DELIVER_QUEUE,
        data: { deliveryId },
        retryLimit: this.options.retryLimit,
        retryDelay: this.options.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: this.options.leaseSeconds,
      })),
    );
    // The deliveries' worker, when it runs here, starts on them now instead of at its next poll.
    this.notify(this.deliverWorker);
  }

  private async deliverJob(job: PgBoss.JobWithMetadata<{ deliveryId: string }>): Promise<void> {
    const last = job.retryCount >= job.retryLimit;
    try {
      await this.deliver(job.data.deliveryId);
    } catch (error) {
      const message = (error as Error).message?.slice(0, 500) ?? 'error';
      await this.knex('rsv_deliveries')
        .where({ id: job.data.deliveryId, status: 'pending' })
        .update({ last_error: message, locked_until: null, status: last ? 'failed' : 'pending', updated_at: this.knex.fn.now() });
      if (!last) throw error;
      this.ctx.logger.warn({ deliveryId: job.data.deliveryId, err: message }, 'mail failed after its last try');
    }
  }

  /** Sends one delivery if nobody sent or holds it. */
  async deliver(deliveryId: string): Promise<'sent' | 'skipped'> {
    const [delivery] = await this.knex('rsv_deliveries')
      .where({ id: deliveryId, status: 'pending' })
      .where((q) => q.whereNull('locked_until').orWhere('locked_until', '<', this.knex.fn.now()))
      .update({ locked_until: this.knex.raw(`now() + make_interval(secs => ?)`, [this.options.leaseSeconds]), attempts: this.knex.raw('attempts + 1'), updated_at: this.knex.fn.now() })
      .returning('*');
    if (!delivery) return 'skipped';
    if (!this.transport) throw new Error('no SMTP server configured (SMTP_URL)');
    const notification: NotificationRow = await this.knex('rsv_notifications').where({ id: delivery.notification_id }).first();
    const content = await buildContent(this.ctx, notification, delivery.language);
    if (!content) {
      await this.knex('rsv_deliveries').where({ id: deliveryId }).update({ status: 'failed', last_error: 'subject no longer exists', locked_until: null, updated_at: this.knex.fn.now() });
      return 'skipped';
    }
    const domain = mailDomain(this.ctx.host.http.publicUrl());
    const thread = `<${content.threadId}@${domain}>`;
    // nodemailer folds and encodes header values; every value here is one line we built (headerSafe), never raw input.
    await this.transport.sendMail({
      from: this.options.mailFrom,
      to: delivery.address,
      subject: content.subject,
      text: content.text,
      html: content.html,
      messageId: delivery.message_id,
      inReplyTo: thread,
      references: [thread],
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
    });
    await this.knex('rsv_deliveries').where({ id: deliveryId }).update({ status: 'sent', sent_at: this.knex.fn.now(), locked_until: null, last_error: null, updated_at: this.knex.fn.now() });
    return 'sent';
  }

  /** Catches up after a crash: unexpanded notifications, pending deliveries without a live lease. */
  async sweep(): Promise<void> {
    await this.expandPending();
    const stale: Array<{ id: string }> = await this.knex('rsv_deliveries')
      .where({ status: 'pending' })
      .where((q) => q.whereNull('locked_until').orWhere('locked_until', '<', this.knex.fn.now()))
      .where('updated_at', '<', this.knex.raw(`now() - interval '2 minutes'`))
      .limit(500)
      .select('id');
    await this.queueDeliveries(stale.map((r) => String(r.id)));
  }

  /** The admin's "retry": a failed delivery goes back to pending with a new job. */
  async retry(structureId: string, deliveryId: string): Promise<boolean> {
    const [row] = await this.knex('rsv_deliveries')
      .where({ id: deliveryId, structure_id: structureId })
      .whereIn('status', ['failed', 'pending'])
      .update({ status: 'pending', locked_until: null, last_error: null, updated_at: this.knex.fn.now() })
      .returning('id');
    if (!row) return false;
    if (!this.boss) await this.start();
    await this.queueDeliveries([String(row.id)]);
    return true;
  }

  private async preferencesOf(ids: string[]): Promise<Map<string, Preferences>> {
    const map = new Map<string, Preferences>();
    if (!ids.length) return map;
    const rows = await this.knex('rsv_user_preferences').whereIn('user_id', ids);
    for (const r of rows) map.set(r.user_id, { mailComments: r.mail_comments, mailOwnChanges: r.mail_own_changes });
    return map;
  }

  private async mailboxOf(structureId: string, responsibleId?: string) {
    const account = await this.ctx.host.accounts.getFunctionalAccount(structureId, SERVICE_ACCOUNT_LOGIN);
    if (responsibleId && account && responsibleId !== account.id) {
      // Equipment with another responsible: that person validates.
      const [u] = await this.ctx.host.directory.getUsers([responsibleId]);
      return { email: u?.email ?? null, delegates: [] as Person[] };
    }
    return {
      email: account?.email ?? null,
      delegates: (account?.delegates ?? []).map((d) => ({ id: d.id, email: d.email, language: d.language })),
    };
  }

  async recipientsOf(n: NotificationRow): Promise<Recipient[]> {
    const settings = await this.knex('rsv_structure_settings').where({ structure_id: n.structure_id }).first('extra_mailbox', 'editor_email');
    if (n.subject_type === 'incident') {
      const incident = await this.knex('rsv_incidents').where({ id: n.subject_id, structure_id: n.structure_id }).first('reporter_id', 'assignee_id', 'level');
      if (!incident) return [];
      const followerIds: string[] = (await this.knex('rsv_incident_followers').where({ incident_id: n.subject_id }).pluck('user_id')) as string[];
      const ids = [...new Set([incident.reporter_id, incident.assignee_id, ...followerIds, n.actor_id].filter(Boolean))];
      const users = new Map((await this.ctx.host.directory.getUsers(ids)).map((u) => [u.id, u]));
      const mailbox = await this.mailboxOf(n.structure_id);
      const kind = n.kind.split('.')[1] as IncidentNotificationKind;
      return incidentRecipients(
        kind,
        {
          actorId: n.actor_id,
          reporter: person(users.get(incident.reporter_id)),
          followers: followerIds.map((id) => person(users.get(id))).filter((p): p is Person => p !== null),
          assignee: person(incident.assignee_id ? users.get(incident.assignee_id) : null),
          mailbox,
          extraMailbox: settings?.extra_mailbox ?? null,
          editorEmail: settings?.editor_email ?? null,
          preferences: await this.preferencesOf([...ids, ...mailbox.delegates.map((d) => d.id)]),
        },
        { level: Number((n.data as { level?: number }).level ?? incident.level) },
      );
    }
    if (n.subject_type === 'booking') {
      const booking = await this.knex('rsv_bookings as b').join('rsv_equipment as e', 'e.id', 'b.equipment_id').where({ 'b.id': n.subject_id, 'b.structure_id': n.structure_id }).first('b.owner_id', 'e.responsible_id');
      if (!booking) return [];
      const [owner] = await this.ctx.host.directory.getUsers([booking.owner_id]);
      const kind = n.kind.split('.')[1] as BookingNotificationKind;
      const recipients = bookingRecipients(kind, { actorId: n.actor_id, owner: person(owner), validators: await this.mailboxOf(n.structure_id, booking.responsible_id) });
      return recipients;
    }
    return [];
  }

  /** The host's in-app notifications, when it has them: the same events, to the same people (users only). */
  private async timeline(n: NotificationRow, recipients: Recipient[]): Promise<void> {
    const timeline = this.ctx.host.timeline;
    if (!timeline) return;
    const users = new Set(recipients.map((r) => r.userId).filter((id): id is string => id !== null));
    // The shared mailbox is an address; in the ENT, its referents each see the notification.
    if (recipients.some((r) => r.role === 'mailbox')) {
      const account = await this.ctx.host.accounts.getFunctionalAccount(n.structure_id, SERVICE_ACCOUNT_LOGIN);
      for (const d of account?.delegates ?? []) if (d.id !== n.actor_id) users.add(d.id);
    }
    if (!users.size) return;
    const base = `${this.ctx.host.http.publicUrl().replace(/\/$/, '')}${this.ctx.manifest.prefix}`;
    const url = n.subject_type === 'incident' ? `${base}/incidents/${n.subject_id}` : `${base}/bookings/mine`;
    try {
      await timeline.notify({ recipients: [...users], messageKey: `timeline.${n.kind}`, params: { number: n.subject_id }, url });
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'timeline notification failed');
    }
  }
}

export { DEFAULT_PREFERENCES };
