import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/** An SMTP server that accepts every mail and keeps nothing but a count: the mail server the module's worker talks to. */
export async function startSmtpSink(): Promise<{ url: string; received(): number; stop(): Promise<void> }> {
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        count++;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => count,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
