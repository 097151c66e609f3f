import type { TestHost } from './host';
import type { CaughtMail } from '../../src/devhost/mailcatcher';

/** Waits until the catcher holds at least `count` mails matching `filter` (or the time runs out), then returns them. */
export async function waitForMails(h: TestHost, filter: (m: CaughtMail) => boolean, count: number, timeoutMs = 15_000): Promise<CaughtMail[]> {
  const until = Date.now() + timeoutMs;
  let found: CaughtMail[] = [];
  while (Date.now() < until) {
    found = (await h.mailCatcher.list(1000)).filter(filter);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 150));
  }
  return found;
}

/** Lets the worker run a little longer, to see that nothing more arrives. */
export function settle(ms = 1500): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const mailbox = (structureId: string) => `service.informatique@${structureId}.demo-ent.test`;
export const address = (login: string, structureId = 'college-a') => `${login}@${structureId}.demo-ent.test`;
