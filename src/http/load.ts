import type { Request, Response, NextFunction } from 'express';

/** How long without a request the process must be for background work to go on. */
export const QUIET_MS = 50;
/** How often a waiter looks again at most. */
const POLL_MS = 10;

/**
 * How many of the module's requests this process is serving right now. The mail worker, when it runs in the web
 * process, reads it to stay out of the requests' way: background work yields to the people waiting for a page.
 */
export class RequestLoad {
  private inFlight = 0;
  /** When the last request ended (ms since the epoch); 0: none yet. */
  private lastEnd = 0;

  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Milliseconds since the last request ended, 0 while one is being served. */
  idleFor(now = Date.now()): number {
    return this.inFlight > 0 ? 0 : now - this.lastEnd;
  }

  /**
   * Resolves at a quiet moment, when no request has been served for QUIET_MS (one client's requests one after the
   * other leave gaps of a fraction of a millisecond: not quiet), or at `deadline` (ms since the epoch) at the latest,
   * or as soon as `waiting()` says the waiter gave up.
   */
  async quiet(deadline: number, waiting: () => boolean = () => true): Promise<void> {
    while (waiting() && Date.now() < deadline) {
      const idle = this.idleFor();
      if (idle >= QUIET_MS) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(POLL_MS, QUIET_MS - idle)).unref());
    }
  }

  /** The first middleware of the module's router: counts a request until its response is done or abandoned. */
  middleware() {
    return (_req: Request, res: Response, next: NextFunction): void => {
      this.inFlight++;
      res.once('close', () => {
        this.inFlight--;
        this.lastEnd = Date.now();
      });
      next();
    };
  }
}
