import type { Request, Response, NextFunction } from 'express';

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
