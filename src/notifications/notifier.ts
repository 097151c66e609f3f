import crypto from 'node:crypto';
import type PgBoss from 'pg-boss';
import nodemailer, { Transporter } from 'nodemailer';
import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import type { FunctionalAccount, HostUser } from '../host';
import { createBoss } from './queue';
import { buildContent, ContentLookups, mailDomain, NotificationRow } from './content';
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
const DELIVER_BATCH = 50;
/** Notifications expanded together: their people are read with one query per kind of data. */
const EXPAND_BATCH = 50;
/** nodemailer's codes for a server that could not be reached or did not answer (no mail of the batch would go). */
const UNREACHABLE = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS']);
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
  /** Other crash recovery the module runs with the mail worker's sweep, every minute (abandoned upload files). */
  alsoOnSweep?: () => Promise<unknown>;
  maintenanceSeconds: number;
  schema: string;
}

type DeliverJob = PgBoss.JobWithMetadata<{ deliveryId: string }>;

function person(u: HostUser | undefined | null): Person | null {
  return u ? { id: u.id, email: u.email, language: u.language } : null;
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * Job ids that sort like the deliveries: pg-boss hands out jobs inserted together by (created_on, id), and the
 * deliveries of one notification then land in the same batch, where their content is built once.
 */
function orderedJobIds(count: number): string[] {
  const prefix = crypto.randomUUID().slice(0, 24);
  return Array.from({ length: count }, (_, i) => `${prefix}${i.toString(16).padStart(12, '0')}`);
}

/** What the recipients of a batch of notifications are chosen from: each kind of data read once for the whole batch. */
interface SettingsRow {
  structure_id: string;
  extra_mailbox: string | null;
  editor_email: string | null;
}
interface IncidentRow {
  id: string;
  structure_id: string;
  reporter_id: string;
  assignee_id: string | null;
  level: number;
}
interface BookingRow {
  id: string;
  structure_id: string;
  owner_id: string;
  responsible_id: string | null;
}
interface BatchPeople {
  settings: Map<string, SettingsRow>;
  incidents: Map<string, IncidentRow>;
  followers: Map<string, string[]>;
  bookings: Map<string, BookingRow>;
  /** The school's service.informatique account, per school. */
  accounts: Map<string, FunctionalAccount | null>;
  users: Map<string, HostUser>;
  preferences: Map<string, Preferences>;
}

/**
 * What the deliveries of one batch share: their notifications (read in one query), and the lookups of their contents
 * (each content built once per notification and language, the schools and actors read once).
 */
interface BatchMemo {
  notification(id: string): Promise<NotificationRow | undefined>;
  lookups: ContentLookups;
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
  /** A wake-up job is on its way (one for a burst of changes). */
  private waking = false;
  private started = false;
  /** pg-boss worker ids, when the workers run in this process. */
  private expandWorker: string | null = null;
  private deliverWorker: string | null = null;

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Mails sent at once, each on its own pooled SMTP connection (MAIL_CONCURRENCY, read when used: tests tune it). */
  private get concurrency(): number {
    return this.ctx.config.mailConcurrency;
  }

  /**
   * The SMTP timeouts (connection, greeting, each exchange): a quarter of the lease, so that a mail started within a
   * batch's first quarter of the lease ends, or fails, before its job expires (deliverBatch).
   */
  private get smtpTimeoutMs(): number {
    return Math.max(1, Math.floor(this.options.leaseSeconds / 4)) * 1000;
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
    // Pooled: a connection (and its handshake) per mail capped the worker at ~8 mails/s on loopback.
    // The SMTP timeouts stay well inside the delivery's lease (nodemailer waits up to 10 minutes by default): a mail
    // still on the wire when its lease ran out could be leased again and sent a second time.
    const timeoutMs = this.smtpTimeoutMs;
    this.transport = this.options.smtpUrl
      ? nodemailer.createTransport(
          { url: this.options.smtpUrl, pool: true, maxConnections: this.concurrency, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs },
          { from: this.options.mailFrom },
        )
      : null;
    const polling = { pollingIntervalSeconds: this.options.pollingIntervalSeconds };
    this.expandWorker = await this.boss.work(EXPAND_QUEUE, polling, async () => this.expandPending());
    this.deliverWorker = await this.boss.work<{ deliveryId: string }>(DELIVER_QUEUE, { ...polling, batchSize: DELIVER_BATCH, includeMetadata: true }, async (jobs) => {
      await this.deliverBatch(jobs as DeliverJob[]);
      // A full batch: there are likely more, fetch again now rather than after the polling interval.
      if (jobs.length === DELIVER_BATCH) this.notify(this.deliverWorker);
    });
    await this.boss.work(SWEEP_QUEUE, polling, async () => this.sweep());
    // Every minute: notifications a crash left unexpanded, deliveries whose job was lost.
    await this.boss.schedule(SWEEP_QUEUE, '* * * * *');
    this.wake();
  }

  async stop(): Promise<void> {
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

  /**
   * After a commit: asks for one expansion soon. Sending the wake-up job is a write too: it waits 20 ms, then for a
   * quiet moment (at most MAIL_YIELD_SECONDS), and one job then stands for every change of the burst.
   */
  wake(): void {
    if (!this.started || this.waking) return;
    this.waking = true;
    const deadline = this.yieldDeadline();
    new Promise((resolve) => setTimeout(resolve, 20).unref())
      .then(() => this.ctx.load.quiet(deadline, () => this.started))
      .then(async () => {
        this.waking = false;
        if (!this.started || !this.boss) return;
        await this.boss.send(EXPAND_QUEUE, {}, { retryLimit: 5, retryDelay: 1 });
        this.notify(this.expandWorker);
      })
      .catch((error: Error) => this.ctx.logger.warn({ err: error }, 'could not wake the mail worker'));
  }

  /** Expands every pending notification into deliveries and queues their jobs. Idempotent. */
  async expandPending(): Promise<number> {
    let total = 0;
    for (;;) {
      // Each batch waits for a quiet moment (at most MAIL_YIELD_SECONDS): under a load that never pauses, a batch
      // still goes every few seconds.
      await this.ctx.load.quiet(this.yieldDeadline(), () => this.started);
      const pending: NotificationRow[] = await this.knex('rsv_notifications').whereNull('expanded_at').orderBy('id').limit(EXPAND_BATCH);
      if (!pending.length) return total;
      const expanded = await this.expandBatch(pending);
      // None taken: another worker holds these rows, and goes on with the rest itself.
      if (!expanded) return total;
      total += expanded;
    }
  }

  /**
   * In the web process, the mails wait for the people: the worker goes on at a quiet moment (RequestLoad.quiet), so
   * that a burst of declarations delays its mails instead of slowing the declarations; the outbox keeps every mail
   * meanwhile. A separate worker process (`npm run worker`) serves no request: it is always quiet there.
   */
  private yieldDeadline(): number {
    return Date.now() + this.ctx.config.mailYieldSeconds * 1000;
  }

  /** Expands a batch of notifications: people read once for all, then one statement writes every delivery. */
  private async expandBatch(pending: NotificationRow[]): Promise<number> {
    // Recipients are looked up before any row is locked: the host's directory may be a remote service (and on PGlite
    // it shares the one connection a transaction would hold).
    const people = await this.peopleOf(pending);
    const recipients = new Map(pending.map((n) => [String(n.id), this.recipientsFrom(n, people)]));
    const domain = mailDomain(this.ctx.host.http.publicUrl());
    const rows = pending.flatMap((n) =>
      recipients.get(String(n.id))!.map((r) => ({
        notificationId: String(n.id),
        structureId: n.structure_id,
        recipientId: r.userId,
        address: r.address,
        language: r.language,
        messageId: `<rsv-n${n.id}-${Buffer.from(r.address.toLowerCase()).toString('hex').slice(0, 40)}@${domain}>`,
      })),
    );
    // One statement, so one transaction: it locks the batch's notifications that nobody else is expanding, inserts
    // their deliveries (a delivery already there stays as it is) and marks them expanded. Arrays, not a VALUES list of
    // the batch's size, keep the statement's text (and its prepared plan) the same for every batch.
    const result = await this.knex.raw(
      `WITH locked AS (
         SELECT id FROM rsv_notifications WHERE id = ANY(?::bigint[]) AND expanded_at IS NULL FOR UPDATE SKIP LOCKED
       ), inserted AS (
         INSERT INTO rsv_deliveries (notification_id, structure_id, recipient_id, address, language, message_id)
         SELECT r.notification_id, r.structure_id, r.recipient_id, r.address, r.language, r.message_id
         FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
           AS r(notification_id, structure_id, recipient_id, address, language, message_id)
         WHERE r.notification_id IN (SELECT id FROM locked)
         ON CONFLICT (notification_id, address) DO NOTHING
         RETURNING id
       ), expanded AS (
         UPDATE rsv_notifications SET expanded_at = now() WHERE id IN (SELECT id FROM locked) RETURNING id
       )
       SELECT (SELECT coalesce(array_agg(id::text ORDER BY id), '{}') FROM inserted) AS deliveries,
              (SELECT coalesce(array_agg(id::text), '{}') FROM expanded) AS expanded`,
      [
        pending.map((n) => String(n.id)),
        rows.map((r) => r.notificationId),
        rows.map((r) => r.structureId),
        // null for a bare address: node-postgres sends it as NULL in the array.
        rows.map((r) => r.recipientId) as string[],
        rows.map((r) => r.address),
        rows.map((r) => r.language),
        rows.map((r) => r.messageId),
      ],
    );
    const { deliveries, expanded } = result.rows[0] as { deliveries: string[]; expanded: string[] };
    await this.queueDeliveries(deliveries);
    const mine = new Set(expanded.map(String));
    for (const n of pending) if (mine.has(String(n.id))) await this.timeline(n, recipients.get(String(n.id))!, people);
    return mine.size;
  }

  private async queueDeliveries(ids: string[]): Promise<void> {
    if (!this.boss || !ids.length) return;
    const jobIds = orderedJobIds(ids.length);
    await this.boss.insert(
      ids.map((deliveryId, i) => ({
        id: jobIds[i],
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

  /**
   * Sends a batch of deliveries, `concurrency` at a time. A thrown error would fail every job of the batch: each job
   * that must be tried again is failed instead (grouped by error), and pg-boss completes the others when this returns.
   *
   * The batch keeps within its jobs' expiry (the lease): no mail starts after the first quarter of the lease, which with
   * SMTP timeouts of a quarter each (connection, greeting, exchange) ends every mail in time; and once the server
   * cannot be reached, the rest of the batch is not tried. The jobs not started are tried again later.
   */
  private async deliverBatch(jobs: DeliverJob[]): Promise<void> {
    const memo = this.batchMemo(jobs.map((job) => job.data.deliveryId));
    const retry = new Map<string, string[]>();
    const again = (id: string, message: string): void => void retry.set(message, [...(retry.get(message) ?? []), id]);
    const lastStart = Date.now() + this.options.leaseSeconds * 250;
    // Each mail waits for a quiet moment, not only each batch; past the batch's deadline, the rest goes on at once.
    const deadline = Math.min(this.yieldDeadline(), lastStart);
    let unreachable: string | null = null;
    await eachLimited(jobs, this.concurrency, async (job) => {
      await this.ctx.load.quiet(deadline, () => this.started && unreachable === null);
      if (unreachable !== null) return again(job.id, `not tried: ${unreachable}`);
      if (Date.now() > lastStart) return again(job.id, 'not tried: the batch ran out of time');
      const failure = await this.deliverJob(job, memo);
      if (failure === null) return;
      if (failure.unreachable) unreachable ??= failure.message;
      again(job.id, failure.message);
    });
    // pg-boss fails several jobs with one datum (its typings only declare it for one id).
    const fail = this.boss?.fail.bind(this.boss) as ((name: string, ids: string[], data: object) => Promise<unknown>) | undefined;
    for (const [message, ids] of retry) await fail?.(DELIVER_QUEUE, ids, { message });
  }

  /**
   * Tries one delivery; returns the error when its job must be tried again (`unreachable`: the server could not be
   * reached at all), else null (sent, skipped or given up).
   */
  private async deliverJob(job: DeliverJob, memo: BatchMemo): Promise<{ message: string; unreachable: boolean } | null> {
    const last = job.retryCount >= job.retryLimit;
    try {
      await this.deliver(job.data.deliveryId, memo);
      return null;
    } catch (error) {
      const message = (error as Error).message?.slice(0, 500) ?? 'error';
      const failure = { message, unreachable: UNREACHABLE.has((error as { code?: string }).code ?? '') };
      try {
        await this.knex('rsv_deliveries')
          .where({ id: job.data.deliveryId, status: 'pending' })
          .update({ last_error: message, locked_until: null, status: last ? 'failed' : 'pending', updated_at: this.knex.fn.now() });
      } catch (recordError) {
        // The job is tried again all the same; the lease runs out on its own.
        this.ctx.logger.warn({ deliveryId: job.data.deliveryId, err: recordError }, 'could not record a failed mail');
        return failure;
      }
      if (!last) return failure;
      this.ctx.logger.warn({ deliveryId: job.data.deliveryId, err: message }, 'mail failed after its last try');
      return null;
    }
  }

  /** The notifications of a batch's deliveries, read once they are first needed (a batch may have nothing to send). */
  private batchMemo(deliveryIds: string[]): BatchMemo {
    let notifications: Promise<Map<string, NotificationRow>> | null = null;
    return {
      notification: async (id) => {
        notifications ??= this.knex('rsv_notifications')
          .whereRaw('id IN (SELECT notification_id FROM rsv_deliveries WHERE id = ANY(?::bigint[]))', [deliveryIds])
          .then((rows: NotificationRow[]) => new Map(rows.map((n) => [String(n.id), n])));
        return (await notifications).get(String(id)) ?? (await this.knex('rsv_notifications').where({ id }).first());
      },
      lookups: new ContentLookups(),
    };
  }

  /** Sends one delivery if nobody sent or holds it. `memo` shares what the deliveries of one batch have in common. */
  async deliver(deliveryId: string, memo: BatchMemo = this.batchMemo([deliveryId])): Promise<'sent' | 'skipped'> {
    const [delivery] = await this.knex('rsv_deliveries')
      .where({ id: deliveryId, status: 'pending' })
      .where((q) => q.whereNull('locked_until').orWhere('locked_until', '<', this.knex.fn.now()))
      .update({ locked_until: this.knex.raw(`now() + make_interval(secs => ?)`, [this.options.leaseSeconds]), attempts: this.knex.raw('attempts + 1'), updated_at: this.knex.fn.now() })
      .returning('*');
    if (!delivery) return 'skipped';
    if (!this.transport) throw new Error('no SMTP server configured (SMTP_URL)');
    const content = await memo.lookups.once(`content:${delivery.notification_id}:${delivery.language}`, () =>
      memo.notification(String(delivery.notification_id)).then((n) => (n ? buildContent(this.ctx, n, delivery.language, memo.lookups) : null)),
    );
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

  /** Catches up after a crash: unexpanded notifications, pending deliveries without a live lease, `alsoOnSweep`. */
  async sweep(): Promise<void> {
    await this.expandPending();
    const stale: Array<{ id: string }> = await this.knex('rsv_deliveries')
      .where({ status: 'pending' })
      .where((q) => q.whereNull('locked_until').orWhere('locked_until', '<', this.knex.fn.now()))
      .where('updated_at', '<', this.knex.raw(`now() - interval '2 minutes'`))
      .orderBy('id')
      .limit(500)
      .select('id');
    await this.queueDeliveries(stale.map((r) => String(r.id)));
    // After the mails: the module's other crash recovery (abandoned upload files) never delays them.
    if (this.options.alsoOnSweep) {
      await this.options.alsoOnSweep().catch((error: Error) => this.ctx.logger.warn({ err: error }, 'crash recovery sweep failed'));
    }
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

  /** The people of a batch of notifications, each kind read once: settings, subjects, followers, accounts, users, preferences. */
  private async peopleOf(batch: NotificationRow[]): Promise<BatchPeople> {
    const ids = (type: NotificationRow['subject_type']) => [...new Set(batch.filter((n) => n.subject_type === type).map((n) => String(n.subject_id)))];
    const incidentIds = ids('incident');
    const bookingIds = ids('booking');
    const structureIds = [...new Set(batch.map((n) => n.structure_id))];
    const [settingRows, incidentRows, followerRows, bookingRows] = await Promise.all([
      this.knex('rsv_structure_settings').whereRaw('structure_id = ANY(?::text[])', [structureIds]).select('structure_id', 'extra_mailbox', 'editor_email'),
      incidentIds.length
        ? this.knex('rsv_incidents').whereRaw('id = ANY(?::bigint[])', [incidentIds]).select('id', 'structure_id', 'reporter_id', 'assignee_id', 'level')
        : [],
      incidentIds.length
        ? this.knex('rsv_incident_followers').whereRaw('incident_id = ANY(?::bigint[])', [incidentIds]).orderBy(['incident_id', 'created_at']).select('incident_id', 'user_id')
        : [],
      bookingIds.length
        ? this.knex('rsv_bookings as b')
            .join('rsv_equipment as e', 'e.id', 'b.equipment_id')
            .whereRaw('b.id = ANY(?::bigint[])', [bookingIds])
            .select('b.id', 'b.structure_id', 'b.owner_id', 'e.responsible_id')
        : [],
    ]);
    const people: BatchPeople = {
      settings: new Map((settingRows as SettingsRow[]).map((r) => [r.structure_id, r])),
      incidents: new Map((incidentRows as IncidentRow[]).map((r) => [String(r.id), r])),
      followers: new Map(),
      bookings: new Map((bookingRows as BookingRow[]).map((r) => [String(r.id), r])),
      accounts: new Map(),
      users: new Map(),
      preferences: new Map(),
    };
    for (const f of followerRows as Array<{ incident_id: string; user_id: string }>) {
      const list = people.followers.get(String(f.incident_id)) ?? [];
      list.push(f.user_id);
      people.followers.set(String(f.incident_id), list);
    }
    // The host's directory: the shared account once per school, every user of the batch in one call.
    const accounts = await Promise.all(structureIds.map((s) => this.ctx.host.accounts.getFunctionalAccount(s, SERVICE_ACCOUNT_LOGIN)));
    structureIds.forEach((s, i) => people.accounts.set(s, accounts[i]!));
    const userIds = new Set<string>();
    for (const n of batch) {
      if (n.subject_type === 'incident') {
        const incident = people.incidents.get(String(n.subject_id));
        if (!incident) continue;
        for (const id of [incident.reporter_id, incident.assignee_id, ...(people.followers.get(String(n.subject_id)) ?? []), n.actor_id]) if (id) userIds.add(id);
      } else if (n.subject_type === 'booking') {
        const booking = people.bookings.get(String(n.subject_id));
        if (!booking) continue;
        userIds.add(booking.owner_id);
        const account = people.accounts.get(n.structure_id);
        if (booking.responsible_id && account && booking.responsible_id !== account.id) userIds.add(booking.responsible_id);
      }
    }
    if (userIds.size) for (const u of await this.ctx.host.directory.getUsers([...userIds])) people.users.set(u.id, u);
    const preferenceIds = new Set(userIds);
    for (const account of people.accounts.values()) for (const d of account?.delegates ?? []) preferenceIds.add(d.id);
    if (preferenceIds.size) {
      const rows = await this.knex('rsv_user_preferences').whereRaw('user_id = ANY(?::text[])', [[...preferenceIds]]).select('user_id', 'mail_comments', 'mail_own_changes');
      for (const r of rows) people.preferences.set(r.user_id, { mailComments: r.mail_comments, mailOwnChanges: r.mail_own_changes });
    }
    return people;
  }

  /** Who validates a booking of this school: the shared account's mailbox, or the equipment's own responsible. */
  private mailboxOf(people: BatchPeople, structureId: string, responsibleId?: string | null) {
    const account = people.accounts.get(structureId) ?? null;
    if (responsibleId && account && responsibleId !== account.id) {
      // Equipment with another responsible: that person validates.
      return { email: people.users.get(responsibleId)?.email ?? null, delegates: [] as Person[] };
    }
    return {
      email: account?.email ?? null,
      delegates: (account?.delegates ?? []).map((d) => ({ id: d.id, email: d.email, language: d.language })),
    };
  }

  /** The recipients of one notification, from its batch's people (the rules themselves are pure). */
  private recipientsFrom(n: NotificationRow, people: BatchPeople): Recipient[] {
    const settings = people.settings.get(n.structure_id);
    if (n.subject_type === 'incident') {
      const incident = people.incidents.get(String(n.subject_id));
      if (!incident || incident.structure_id !== n.structure_id) return [];
      const followerIds = people.followers.get(String(n.subject_id)) ?? [];
      const mailbox = this.mailboxOf(people, n.structure_id);
      const kind = n.kind.split('.')[1] as IncidentNotificationKind;
      return incidentRecipients(
        kind,
        {
          actorId: n.actor_id,
          reporter: person(people.users.get(incident.reporter_id)),
          followers: followerIds.map((id) => person(people.users.get(id))).filter((p): p is Person => p !== null),
          assignee: person(incident.assignee_id ? people.users.get(incident.assignee_id) : null),
          mailbox,
          extraMailbox: settings?.extra_mailbox ?? null,
          editorEmail: settings?.editor_email ?? null,
          preferences: people.preferences,
        },
        { level: Number((n.data as { level?: number }).level ?? incident.level) },
      );
    }
    if (n.subject_type === 'booking') {
      const booking = people.bookings.get(String(n.subject_id));
      if (!booking || booking.structure_id !== n.structure_id) return [];
      const kind = n.kind.split('.')[1] as BookingNotificationKind;
      return bookingRecipients(kind, { actorId: n.actor_id, owner: person(people.users.get(booking.owner_id)), validators: this.mailboxOf(people, n.structure_id, booking.responsible_id) });
    }
    return [];
  }

  /** The host's in-app notifications, when it has them: the same events, to the same people (users only). */
  private async timeline(n: NotificationRow, recipients: Recipient[], people: BatchPeople): Promise<void> {
    const timeline = this.ctx.host.timeline;
    if (!timeline) return;
    const users = new Set(recipients.map((r) => r.userId).filter((id): id is string => id !== null));
    // The shared mailbox is an address; in the ENT, its referents each see the notification.
    if (recipients.some((r) => r.role === 'mailbox')) {
      for (const d of people.accounts.get(n.structure_id)?.delegates ?? []) if (d.id !== n.actor_id) users.add(d.id);
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
