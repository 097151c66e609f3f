import type PgBoss from 'pg-boss';
import type { ModuleContext } from '../context';
import { createBoss } from '../notifications/queue';
import { schoolYearOf, todayIn } from '../domain/stats';
import { staleSummaries, SummaryKey } from '../store/stats';
import { DEFAULT_STATS_ZONE, refreshSchoolSummary, SETTLE_MS } from './stats';

/**
 * Keeps the cross-school summary (rsv_stats_summaries) fresh, from the job queue: every few minutes, the schools
 * whose data changed since their summary (a declaration, a move, a booking, their settings), or whose summary is a
 * day old, are computed again, for the current and the previous school year, and both together. A department of 1,000 schools costs
 * about 20 ms per school the first time, then only the schools that changed.
 */

export const STATS_REFRESH_QUEUE = 'rsv-stats-refresh';
/** Every five minutes: the cross-school view is at most that late (a school's own dashboard is always exact: live, or kept while provably fresh). */
export const STATS_REFRESH_CRON = '*/5 * * * *';
/** Even without a change, a summary is computed again after a day (a renamed type or equipment, the weeks moving on). */
const MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * The periods the summary keeps: the current school year, the previous one (the period form's two shortcuts), and
 * both together.
 */
export function summarisedPeriods(now: Date): SummaryKey[] {
  const current = Number(schoolYearOf(todayIn(DEFAULT_STATS_ZONE, now)).from.slice(0, 4));
  return [
    { year: current, span: 1 },
    { year: current - 1, span: 1 },
    { year: current - 1, span: 2 },
  ];
}

/**
 * Computes the stale summaries, oldest first, within a time budget; says whether some are left for the next run.
 * `periods` defaults to the summarised periods.
 */
export async function refreshSummaries(ctx: ModuleContext, options: { now?: Date; periods?: SummaryKey[]; budgetMs?: number; batch?: number } = {}): Promise<{ refreshed: number; remaining: boolean }> {
  const started = Date.now();
  const budget = options.budgetMs ?? 60_000;
  let refreshed = 0;
  for (const key of options.periods ?? summarisedPeriods(options.now ?? new Date())) {
    // A school changed within the safety margin still looks stale once refreshed: once per run is enough.
    const done: string[] = [];
    for (;;) {
      const now = options.now ?? new Date();
      const stale = await staleSummaries(ctx.knex, key, new Date(now.getTime() - MAX_AGE_MS), options.batch ?? 50, done);
      if (!stale.length) break;
      for (const structureId of stale) {
        if (Date.now() - started > budget) return { refreshed, remaining: true };
        // Dated the settling margin before its reads: a change committed while it was computed, by a transaction that
        // started earlier, is then seen as newer than the summary and refreshed next time, never missed.
        const computedAt = new Date((options.now ?? new Date()).getTime() - SETTLE_MS);
        await refreshSchoolSummary(ctx, structureId, key, computedAt, options.now ?? new Date());
        done.push(structureId);
        refreshed++;
      }
    }
  }
  return { refreshed, remaining: false };
}

/** The summary's worker: a pg-boss queue of its own on the module's database, with a schedule. */
export class StatsRefresher {
  private boss: PgBoss | null = null;

  constructor(
    private readonly ctx: ModuleContext,
    private readonly options: { schema: string; runWorker: boolean; maintenanceSeconds: number },
  ) {}

  async start(): Promise<void> {
    if (!this.options.runWorker || this.boss) return;
    const boss = createBoss(this.ctx.knex, this.options.schema, { supervise: true, maintenanceSeconds: this.options.maintenanceSeconds });
    boss.on('error', (error: Error) => this.ctx.logger.warn({ err: error }, 'statistics job queue error'));
    await boss.start();
    // `stately`: one refresh queued at most, however many triggers.
    await boss.createQueue(STATS_REFRESH_QUEUE, { name: STATS_REFRESH_QUEUE, policy: 'stately' });
    await boss.work(STATS_REFRESH_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
      const result = await refreshSummaries(this.ctx);
      if (result.refreshed) this.ctx.logger.info({ refreshed: result.refreshed, remaining: result.remaining }, 'statistics summary refreshed');
      if (result.remaining) await this.boss?.send(STATS_REFRESH_QUEUE, {});
    });
    await boss.schedule(STATS_REFRESH_QUEUE, STATS_REFRESH_CRON);
    this.boss = boss;
  }

  async stop(): Promise<void> {
    const boss = this.boss;
    this.boss = null;
    if (boss) await boss.stop({ graceful: true, timeout: 5000, wait: true }).catch(() => undefined);
  }
}
