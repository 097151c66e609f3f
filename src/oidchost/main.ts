import pino from 'pino';
import { oidcConfigFromEnv, OidcConfigError } from './config';
import { startOidcHost } from './start';

/**
 * `HOST_ADAPTER=oidc`: the production host as a process. The configuration is checked before anything opens; a
 * wrong variable stops the process with a message naming it (exit code 78, EX_CONFIG, so systemd does not loop).
 */
export async function runOidcHost(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = oidcConfigFromEnv(env);
  } catch (error) {
    if (error instanceof OidcConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const logger = pino({ name: 'reservations-incident', level: env.LOG_LEVEL ?? 'info' });
  const started = await startOidcHost(config, { logger });
  const server = started.oidcHost.app.listen(config.port, config.host, () => {
    logger.info(
      { url: config.publicUrl, listen: `${config.host}:${config.port}`, issuer: config.issuer, pid: process.pid },
      `Réservations - Incident: OpenID Connect host listening on ${config.host}:${config.port}, public URL ${config.publicUrl}`,
    );
  });
  // Discovery now, so that a wrong issuer shows in the log at start rather than at the first sign-in.
  started.oidcHost.relyingParty.discover().then(
    () => logger.info({ issuer: config.issuer }, 'identity provider discovered'),
    (error) => logger.warn({ err: error }, 'identity provider not reachable yet; sign-ins will retry discovery'),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    void started.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
