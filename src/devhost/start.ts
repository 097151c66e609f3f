import type { Logger } from 'pino';
import pino from 'pino';
import { openDatabase, Database, migrate } from '../db';
import { hostMigrations } from '../hostkit/migrations';
import { install, InstalledModule } from '../index';
import type { ModuleConfig } from '../config';
import { MailCatcher } from './mailcatcher';
import { ReferenceHost } from './host';
import { seedDemoDirectory, seedDemoEquipment } from './demo';

export const HOST_MIGRATIONS_TABLE = 'knex_migrations_host';

export interface StartedReferenceHost {
  db: Database;
  referenceHost: ReferenceHost;
  module: InstalledModule;
  mailCatcher: MailCatcher;
  close(): Promise<void>;
}

export interface StartReferenceHostOptions {
  /** An open database (tests pass their own isolated one); else one is opened from url/dataDir. */
  db?: Database;
  databaseUrl?: string;
  dataDir?: string;
  publicUrl?: string;
  smtpCatcherPort?: number;
  /** Where the module sends mail; default: the reference host's own catcher. */
  smtpUrl?: string;
  demo?: boolean;
  /** false: no SMTP catcher in this process (a worker process sends to the web process's catcher). */
  startMailCatcher?: boolean;
  /** Database schema for the module's tables (a test's own schema). */
  schema?: string;
  logger?: Logger;
  httpLog?: boolean;
  config?: Partial<ModuleConfig>;
}

/** Opens the database, migrates, seeds the demo, starts the mail catcher and installs the module. */
export async function startReferenceHost(options: StartReferenceHostOptions = {}): Promise<StartedReferenceHost> {
  const logger = options.logger ?? pino({ name: 'reference-host', level: process.env.LOG_LEVEL ?? 'info' });
  const db = options.db ?? (await openDatabase({ url: options.databaseUrl, dataDir: options.dataDir, schema: options.schema }));
  await migrate(db.knex, HOST_MIGRATIONS_TABLE, hostMigrations);
  if (options.demo !== false) await seedDemoDirectory(db.knex);
  const mailCatcher = new MailCatcher(db.knex);
  if (options.startMailCatcher !== false) await mailCatcher.start(options.smtpCatcherPort ?? 0);
  const referenceHost = new ReferenceHost({ knex: db.knex, kind: db.kind, publicUrl: options.publicUrl ?? 'http://127.0.0.1:3000', logger, httpLog: options.httpLog, mailCatcher });
  const module = await install(referenceHost.host, { logger, databaseSchema: db.schema, config: { smtpUrl: options.smtpUrl ?? mailCatcher.url, ...options.config } });
  if (options.demo !== false) await seedDemoEquipment(module.context);
  referenceHost.finish();
  return {
    db,
    referenceHost,
    module,
    mailCatcher,
    close: async () => {
      await module.close();
      await mailCatcher.stop();
      if (!options.db) await db.close();
    },
  };
}
