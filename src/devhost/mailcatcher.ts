import type { SMTPServer } from 'smtp-server';
import type { AddressObject } from 'mailparser';
import type { Knex } from 'knex';
import type { AddressInfo } from 'node:net';

export interface CaughtMail {
  id: string;
  to: string[];
  from: string | null;
  subject: string;
  text: string;
  html: string | null;
  date: string;
  headers: Record<string, string>;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);
}

/**
 * The reference host's mail catcher: a real SMTP server on loopback (nodemailer's smtp-server) that keeps every
 * mail it receives in `host_mails`, listed on /mail. Tests stop and start it to play a mail server that is down.
 */
export class MailCatcher {
  private server: SMTPServer | null = null;
  private readonly closed = new Set<string>();
  port = 0;
  /** Milliseconds the server waits before answering a mail's DATA (tests use it to kill a sender mid-mail). */
  delayMs = 0;
  /** Mails whose DATA arrived and that wait, unanswered and unstored, for `release()`. */
  private heldMails: Array<{ session: string; resume: () => void }> = [];
  private holding = false;
  /** Mails received and not yet stored and answered (between the end of DATA and the final reply). */
  private answering = 0;

  constructor(private readonly knex: Knex) {}

  async start(port = 0): Promise<number> {
    // Loaded when the catcher starts: a reference host that sends to a real SMTP server never carries them.
    const { SMTPServer } = await import('smtp-server');
    const server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 30 * 1024 * 1024,
      onClose: (session) => {
        this.closed.add(session.id);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', async () => {
          if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
          if (this.holding) await new Promise<void>((resume) => this.heldMails.push({ session: session.id, resume }));
          // Like a real server: a mail whose sender went away before the final reply is not delivered.
          if (this.closed.has(session.id)) return;
          const raw = Buffer.concat(chunks);
          this.answering++;
          this.store(raw, session.envelope.rcptTo.map((r) => r.address), session.envelope.mailFrom ? session.envelope.mailFrom.address : null)
            .then(() => callback())
            .catch((error: Error) => callback(error))
            .finally(() => this.answering--);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port || this.port || 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
    return this.port;
  }

  /**
   * From now on, every mail waits after its DATA, neither stored nor answered, until `release()`: a test can then kill
   * a sender at a moment when its mails are on the wire and every mail the server accepted has been answered.
   */
  hold(): void {
    this.holding = true;
  }

  /** How many mails wait in `hold()` (and how many of their senders went away), how many are being answered now. */
  get waiting(): { held: number; heldFromClosed: number; answering: number } {
    return { held: this.heldMails.length, heldFromClosed: this.heldMails.filter((m) => this.closed.has(m.session)).length, answering: this.answering };
  }

  release(): void {
    this.holding = false;
    const held = this.heldMails;
    this.heldMails = [];
    for (const { resume } of held) resume();
  }

  async stop(): Promise<void> {
    // Held mails would keep their connections open, and close() waits for them.
    this.release();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  private async store(raw: Buffer, rcptTo: string[], mailFrom: string | null): Promise<void> {
    const { simpleParser } = await import('mailparser');
    const parsed = await simpleParser(raw);
    const headers: Record<string, string> = {};
    for (const [key, value] of parsed.headers) headers[key] = typeof value === 'string' ? value : JSON.stringify(value);
    await this.knex('host_mails').insert({
      envelope_from: mailFrom,
      envelope_to: JSON.stringify(rcptTo.length ? rcptTo : addresses(parsed.to)),
      subject: parsed.subject ?? '',
      text_body: parsed.text ?? '',
      html_body: typeof parsed.html === 'string' ? parsed.html : null,
      headers: JSON.stringify(headers),
      raw: raw.toString('utf8'),
    });
  }

  async list(limit = 200): Promise<CaughtMail[]> {
    const rows = await this.knex('host_mails').orderBy('id', 'desc').limit(limit);
    return rows.map((r: Record<string, unknown>) => ({
      id: String(r.id),
      to: r.envelope_to as string[],
      from: r.envelope_from as string | null,
      subject: r.subject as string,
      text: r.text_body as string,
      html: r.html_body as string | null,
      date: (r.received_at as Date).toISOString(),
      headers: r.headers as Record<string, string>,
    }));
  }
}
