import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Host } from './host';
import type { Manifest } from './manifest';
import type { ModuleConfig } from './config';
import type { Notifier } from './notifications/notifier';
import type { RequestLoad } from './http/load';

/** What every part of the module receives explicitly (no global singletons). */
export interface ModuleContext {
  host: Host;
  knex: Knex;
  manifest: Manifest;
  config: ModuleConfig;
  logger: Logger;
  /** Secret for CSRF tokens and signed links (from config or generated once and kept in the database). */
  secret: string;
  /** The mail outbox's worker side (wakes after commits, delivers, retries). */
  notifier: Notifier;
  /** The requests this process is serving (the in-process mail worker yields to them). */
  load: RequestLoad;
}
