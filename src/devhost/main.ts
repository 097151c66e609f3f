import path from 'node:path';
import { startReferenceHost } from './start';

/**
 * `npm start`: the reference host with the module installed, on embedded PGlite in ./data unless DATABASE_URL is set.
 * `npm run worker` (WORKER_ONLY=1): the same module with its mail worker and no web server, for larger set-ups where
 * web processes run with RUN_WORKER=0.
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  const workerOnly = process.env.WORKER_ONLY === '1';
  if (workerOnly && !process.env.DATABASE_URL) throw new Error('WORKER_ONLY=1 needs DATABASE_URL (embedded PGlite is one process)');
  const started = await startReferenceHost({
    schema: process.env.DATABASE_SCHEMA || undefined,
    startMailCatcher: !workerOnly,
    config: workerOnly ? { runWorker: true } : undefined,
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: path.resolve(process.env.DATA_DIR || './data', 'pglite'),
    publicUrl: process.env.PUBLIC_URL || `http://${host}:${port}`,
    smtpCatcherPort: Number(process.env.SMTP_CATCHER_PORT || 2525),
    smtpUrl: process.env.SMTP_URL || undefined,
    // DEMO_DATA=0: no demo schools or accounts (the benchmark brings its own data set).
    demo: process.env.DEMO_DATA !== '0',
  });
  if (workerOnly) {
    started.referenceHost.logger.info({ database: started.db.kind, smtp: process.env.SMTP_URL }, 'Réservations - Incident: mail worker running');
    const stopWorker = () => void started.close().then(() => process.exit(0));
    process.on('SIGINT', stopWorker);
    process.on('SIGTERM', stopWorker);
    return;
  }
  const server = started.referenceHost.app.listen(port, host, () => {
    started.referenceHost.logger.info(
      { url: `http://${host}:${port}`, database: started.db.kind, smtpCatcher: started.mailCatcher.url },
      `Réservations - Incident: reference host on http://${host}:${port} (database: ${started.db.kind})`,
    );
  });
  const stop = () => {
    server.close();
    void started.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
