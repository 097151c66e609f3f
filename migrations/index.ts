import type { Migration } from '../src/db';
import * as foundation from './20261123_0001_foundation';
import * as planning from './20261123_0002_planning';
import * as incidents from './20261123_0003_incidents';
import * as stats from './20261123_0007_stats';
import * as statsSummary from './20261123_0007_stats_summary';
import * as statsSummarySpan from './20261123_0007_stats_summary_span';
import * as notifications from './20261123_0004_notifications';
import * as unavailabilities from './20261123_0005_unavailabilities';
import * as attachments from './20261123_0006_attachments';
import * as serviceClock from './20261123_0008_service_clock';
import * as statsDashboardCache from './20261123_0009_stats_dashboard_cache';
import * as pendingFiles from './20261123_0010_pending_files';

/** The module's migrations, in order. Forward-only: never edit one that has shipped, add a new one. */
export const moduleMigrations: Migration[] = [
  { name: '20261123_0001_foundation', up: foundation.up },
  { name: '20261123_0002_planning', up: planning.up },
  { name: '20261123_0003_incidents', up: incidents.up },
  { name: '20261123_0004_notifications', up: notifications.up },
  { name: '20261123_0005_unavailabilities', up: unavailabilities.up },
  { name: '20261123_0006_attachments', up: attachments.up },
  { name: '20261123_0007_stats', up: stats.up },
  { name: '20261123_0007_stats_summary', up: statsSummary.up },
  { name: '20261123_0007_stats_summary_span', up: statsSummarySpan.up },
  { name: '20261123_0008_service_clock', up: serviceClock.up },
  { name: '20261123_0009_stats_dashboard_cache', up: statsDashboardCache.up },
  { name: '20261123_0010_pending_files', up: pendingFiles.up },
];

export const MODULE_MIGRATIONS_TABLE = 'knex_migrations_rsv';
