import path from 'node:path';
import { startReferenceHost } from './start';

/** `npm start`: the reference host with the module installed, on embedded PGlite in ./data unless DATABASE_URL is set. */
async function main(): Promise<void> {
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  const started = await startReferenceHost({
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: path.resolve(process.env.DATA_DIR || './data', 'pglite'),
    publicUrl: process.env.PUBLIC_URL || `http://${host}:${port}`,
    smtpCatcherPort: Number(process.env.SMTP_CATCHER_PORT || 2525),
    smtpUrl: process.env.SMTP_URL || undefined,
    // DEMO_DATA=0: no demo schools or accounts (the benchmark brings its own data set).
    demo: process.env.DEMO_DATA !== '0',
  });
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
