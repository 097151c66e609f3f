import crypto from 'node:crypto';
import type { Router } from 'express';
import pino, { Logger } from 'pino';
import { HOOK_API_VERSION, Host } from './host';
import { loadManifest, Manifest } from './manifest';
import { ModuleConfig, moduleConfigFromEnv } from './config';
import type { ModuleContext } from './context';
import { migrate } from './db';
import { moduleMigrations, MODULE_MIGRATIONS_TABLE } from '../migrations';
import { createModuleRouter } from './http/router';
import { installStructure } from './services/install';
import { enabledServicesOf } from './store/settings';
import { RequestLoad } from './http/load';
import { Notifier } from './notifications/notifier';
import { StatsRefresher } from './services/stats-summary';
import { sweepAbandonedFiles } from './services/attachments';

export type { Host } from './host';
export { HOOK_API_VERSION } from './host';

export interface InstallOptions {
  config?: Partial<ModuleConfig>;
  logger?: Logger;
  /** The database schema the host gave the module (for the job queue's own schema beside it). */
  databaseSchema?: string;
  /** A manifest already read by the host (else module.json beside the code is read). */
  manifest?: Manifest;
}

export interface InstalledModule {
  manifest: Manifest;
  context: ModuleContext;
  router: Router;
  /** Runs the install step for one structure (a host calls it when a school appears). Idempotent. */
  installStructure(structureId: string): Promise<{ enabled: boolean }>;
  /** Stops background work (the outbox worker). */
  close(): Promise<void>;
}

export class HookApiVersionError extends Error {}

function compatible(hostVersion: string, needed: string): boolean {
  const [hostMajor, hostMinor] = hostVersion.split('.').map(Number);
  const [major, minor] = needed.split('.').map(Number);
  return hostMajor === major && (hostMinor ?? 0) >= (minor ?? 0);
}

/** A stable secret shared by every process on the same database, unless the configuration gives one. */
async function moduleSecret(ctx: Pick<ModuleContext, 'knex'>, configured?: string): Promise<string> {
  if (configured) return configured;
  await ctx.knex.raw(`INSERT INTO rsv_module_state (key, value) VALUES ('secret', ?) ON CONFLICT (key) DO NOTHING`, [
    crypto.randomBytes(32).toString('base64url'),
  ]);
  return (await ctx.knex('rsv_module_state').where({ key: 'secret' }).first()).value;
}

/**
 * The entry a host calls. Installing runs the module's migrations, declares its secured actions, registers its menu
 * entry, mounts its router and installs it in every structure the host knows (its service.informatique account,
 * default grants, seeded lists). Installing twice creates nothing twice.
 */
export async function install(host: Host, options: InstallOptions = {}): Promise<InstalledModule> {
  const manifest = options.manifest ?? loadManifest();
  if (!compatible(host.apiVersion, manifest.hookApi)) {
    throw new HookApiVersionError(`The host implements hook API ${host.apiVersion}; module ${manifest.name} needs ${manifest.hookApi}`);
  }
  if (HOOK_API_VERSION !== manifest.hookApi) {
    throw new HookApiVersionError(`module.json says hook API ${manifest.hookApi} but the code implements ${HOOK_API_VERSION}`);
  }
  const logger = options.logger ?? pino({ name: manifest.name });
  const config: ModuleConfig = { ...moduleConfigFromEnv(), ...options.config };
  const baseKnex = host.database.knex;
  await migrate(baseKnex, MODULE_MIGRATIONS_TABLE, moduleMigrations);
  const secret = await moduleSecret({ knex: baseKnex }, config.secret);
  const context = { host, manifest, config, logger, secret, load: new RequestLoad() } as ModuleContext;
  const notifier = new Notifier(context, baseKnex, {
    enabled: config.notifications,
    runWorker: config.runWorker,
    smtpUrl: config.smtpUrl,
    mailFrom: config.mailFrom,
    retryDelaySeconds: config.mailRetryDelaySeconds,
    retryLimit: config.mailRetryLimit,
    pollingIntervalSeconds: config.workerPollingSeconds,
    leaseSeconds: config.mailLeaseSeconds,
    maintenanceSeconds: config.queueMaintenanceSeconds,
    schema: options.databaseSchema ?? 'public',
    alsoOnSweep: () => sweepAbandonedFiles(context),
  });
  // Transactions opened from this knex carry the outbox's waker: a change that records a notification wakes the
  // worker once committed, without any caller passing it along.
  context.knex = baseKnex.withUserParams({ outbox: notifier });
  context.notifier = notifier;
  const knex = context.knex;

  await host.rights.declare(manifest.securedActions);
  if (manifest.menu) {
    host.menu.register({
      id: manifest.name,
      labelKey: manifest.menu.labelKey,
      icon: manifest.menu.icon,
      href: manifest.prefix,
      right: manifest.menu.right,
      isVisible: async (user) => {
        const services = await enabledServicesOf(knex, user.structures);
        const rights = await host.rights.actionsOf(user);
        // A school's admin keeps the entry while the module is off there, to switch it back on.
        return user.structures.some(
          (s) => ((services[s]?.planning || services[s]?.incidents) && (rights[s] ?? []).includes(manifest.menu!.right)) || (rights[s] ?? []).includes('module.configure'),
        );
      },
    });
  }
  for (const structure of await host.directory.listStructures()) await installStructure(context, structure.id);
  await notifier.start();
  // The cross-school statistics' summary, kept fresh from the job queue (in worker processes only).
  const statsRefresher = new StatsRefresher(context, { schema: options.databaseSchema ?? 'public', runWorker: config.runWorker, maintenanceSeconds: config.queueMaintenanceSeconds });
  await statsRefresher.start();
  const router = createModuleRouter(context);
  host.http.mount(manifest.prefix, router);
  logger.info({ host: host.name, prefix: manifest.prefix }, 'module installed');
  return {
    manifest,
    context,
    router,
    installStructure: (structureId) => installStructure(context, structureId),
    close: async () => {
      await statsRefresher.stop();
      await notifier.stop();
    },
  };
}
