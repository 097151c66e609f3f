import path from 'node:path';

/** The module's configuration, read once from the environment by the process entry points and passed explicitly. */
export interface ModuleConfig {
  /** Secret for CSRF tokens and signed links; when absent one is generated and kept in the database. */
  secret?: string;
  /** SMTP URL for outgoing mail, e.g. smtp://127.0.0.1:2525 */
  smtpUrl?: string;
  /** From address of the module's mails. */
  mailFrom: string;
  /** Folder for attachments when the host offers no storage. */
  filesDir: string;
  /** Maximum size of one attached file, in bytes. */
  maxFileBytes: number;
  /** Whether changes are told by mail at all (NOTIFICATIONS=0: the benchmark's "off" run, or a test install). */
  notifications: boolean;
  /** Whether the outbox worker runs in this process. */
  runWorker: boolean;
  /** Whether new structures get the module switched on. */
  enableNewStructures: boolean;
  /** Seconds before a failed mail is retried (pg-boss doubles it at each try) and how many tries. */
  mailRetryDelaySeconds: number;
  mailRetryLimit: number;
  /** Mails the worker sends at once (pooled SMTP connections); on PGlite they still share its one connection. */
  mailConcurrency: number;
  /** The longest a mail worker in the web process waits for a moment without requests before each batch (0: never). */
  mailYieldSeconds: number;
  /** How often the mail worker looks for work when nothing woke it. */
  workerPollingSeconds: number;
  /** How long a worker holds a mail it is sending; a worker that died lets it go after this. */
  mailLeaseSeconds: number;
  /** How often the job queue looks for jobs of dead workers. */
  queueMaintenanceSeconds: number;
  /** Mutations per user, minute and process before 429 (0: no limit). */
  mutationRateLimit: number;
}

/**
 * A number from the environment, or `fallback` when unset. A value that is not a number, or is below `min`, stops the
 * start with the variable's name: `Number('four')` is NaN, and a NaN concurrency silently sent no mail at all.
 */
function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name}=${JSON.stringify(raw)}: expected a number of at least ${min}`);
  return value;
}

export function moduleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ModuleConfig {
  return {
    secret: env.SESSION_SECRET || undefined,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'Réservations - Incident <no-reply@reservations.invalid>',
    filesDir: path.resolve(env.FILES_DIR || './data/files'),
    maxFileBytes: numberFrom(env, 'MAX_FILE_BYTES', 10 * 1024 * 1024, 1),
    runWorker: env.RUN_WORKER !== '0',
    notifications: env.NOTIFICATIONS !== '0',
    enableNewStructures: env.ENABLE_NEW_STRUCTURES !== '0',
    mailRetryDelaySeconds: numberFrom(env, 'MAIL_RETRY_DELAY_SECONDS', 30, 0),
    mailRetryLimit: numberFrom(env, 'MAIL_RETRY_LIMIT', 8, 0),
    mailConcurrency: Math.floor(numberFrom(env, 'MAIL_CONCURRENCY', 4, 1)),
    mailYieldSeconds: numberFrom(env, 'MAIL_YIELD_SECONDS', 5, 0),
    workerPollingSeconds: numberFrom(env, 'WORKER_POLLING_SECONDS', 2, 0.1),
    mailLeaseSeconds: numberFrom(env, 'MAIL_LEASE_SECONDS', 120, 1),
    queueMaintenanceSeconds: numberFrom(env, 'QUEUE_MAINTENANCE_SECONDS', 60, 1),
    mutationRateLimit: numberFrom(env, 'MUTATION_RATE_LIMIT', 300, 0),
  };
}
