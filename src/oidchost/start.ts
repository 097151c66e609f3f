import fs from 'node:fs';
import pino, { Logger } from 'pino';
import { Database, migrate, openDatabase } from '../db';
import { hostMigrations } from '../hostkit/migrations';
import { install, InstalledModule } from '../index';
import type { ModuleConfig } from '../config';
import type { OidcHostConfig } from './config';
import { fetchTrusting, FetchLike } from './fetch';
import { OidcHost } from './host';
import { oidcHostMigrations, OIDC_MIGRATIONS_TABLE } from './migrations';
import { markAllInstalled } from './directory-sync';

/** The same migrations table as the reference host's: both keep the shared directory in the same `host_` tables. */
export const HOST_MIGRATIONS_TABLE = 'knex_migrations_host';

/** Any number of the application's keys: the same for every process of one database. */
const STARTUP_LOCK_KEY = 727_120_001;

/**
 * Several processes started at once on a new database (systemd starting two instances, a rolling deploy) migrate and
 * install one after the other: a PostgreSQL advisory lock, held on one connection of the pool for the duration.
 */
async function withStartupLock<T>(db: Database, work: () => Promise<T>): Promise<T> {
  if (db.kind !== 'postgres') return work();
  const client = db.knex.client as { acquireConnection(): Promise<{ query(sql: string, values?: unknown[]): Promise<unknown> }>; releaseConnection(c: unknown): Promise<void> };
  const connection = await client.acquireConnection();
  try {
    await connection.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK_KEY]);
    try {
      return await work();
    } finally {
      await connection.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK_KEY]);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

export interface StartedOidcHost {
  db: Database;
  oidcHost: OidcHost;
  module: InstalledModule;
  close(): Promise<void>;
}

export interface StartOidcHostOptions {
  /** An open database (tests pass their own isolated one); else one is opened from the configuration. */
  db?: Database;
  logger?: Logger;
  httpLog?: boolean;
  /** A fetch for the provider; default: one trusting OIDC_CA_FILE when set, else Node's global fetch. */
  fetch?: FetchLike;
  /** Overrides of the module's configuration (else from the environment, with SMTP_URL and SESSION_SECRET from config). */
  moduleConfig?: Partial<ModuleConfig>;
  /** Clean expired sessions and sign-ins periodically (default true). */
  housekeeping?: boolean;
}

/** Opens the database, migrates, installs the module behind the OpenID Connect host. Nothing listens yet. */
export async function startOidcHost(config: OidcHostConfig, options: StartOidcHostOptions = {}): Promise<StartedOidcHost> {
  const logger = options.logger ?? pino({ name: 'oidc-host', level: process.env.LOG_LEVEL ?? 'info' });
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, schema: config.databaseSchema }));
  try {
    const fetch = options.fetch ?? (config.caFile ? fetchTrusting(fs.readFileSync(config.caFile)) : undefined);
    const oidcHost = new OidcHost({ knex: db.knex, kind: db.kind, config, logger, fetch, httpLog: options.httpLog });
    const module = await withStartupLock(db, async () => {
      await migrate(db.knex, HOST_MIGRATIONS_TABLE, hostMigrations);
      await migrate(db.knex, OIDC_MIGRATIONS_TABLE, oidcHostMigrations);
      const installed = await install(oidcHost.host, {
        logger,
        databaseSchema: db.schema,
        config: { secret: config.sessionSecret, ...(config.smtpUrl ? { smtpUrl: config.smtpUrl } : {}), ...options.moduleConfig },
      });
      // install() ran the install step for every structure already known.
      await markAllInstalled(db.knex);
      return installed;
    });
    oidcHost.setStructureInstaller((structureId) => module.installStructure(structureId));
    oidcHost.finish();
    if (options.housekeeping !== false) oidcHost.startHousekeeping();
    if (!config.smtpUrl && !options.moduleConfig?.smtpUrl) logger.warn('SMTP_URL is not set: mails wait in the outbox until it is');
    return {
      db,
      oidcHost,
      module,
      close: async () => {
        oidcHost.stopHousekeeping();
        await module.close();
        if (!options.db) await db.close();
      },
    };
  } catch (error) {
    if (!options.db) await db.close().catch(() => undefined);
    throw error;
  }
}
