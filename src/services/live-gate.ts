import { BusyError } from '../errors';

/**
 * A gate for heavy computations a request may start (the cross-school statistics of a custom period scan a whole
 * department's incidents: seconds of database time). Identical requests share one computation; at most `running`
 * distinct ones run at once in this process and `waiting` more wait their turn; beyond that the request is answered
 * 503 with Retry-After at once, so that a few curious users cannot take every pooled connection from the teachers.
 */
export class LiveGate {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    readonly running: number,
    readonly waiting: number,
    private readonly messageKey: string,
  ) {}

  /** What runs and waits now (for tests and logs). */
  get load(): { running: number; waiting: number; shared: number } {
    return { running: this.active, waiting: this.queue.length, shared: this.inFlight.size };
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const known = this.inFlight.get(key);
    if (known) return known as Promise<T>;
    if (this.active >= this.running && this.queue.length >= this.waiting) return Promise.reject(new BusyError(this.messageKey));
    const result = this.turn().then(async () => {
      try {
        return await work();
      } finally {
        this.leave();
      }
    });
    this.inFlight.set(key, result);
    const forget = () => {
      if (this.inFlight.get(key) === result) this.inFlight.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  private turn(): Promise<void> {
    if (this.active < this.running) {
      this.active++;
      return Promise.resolve();
    }
    // The slot is handed over by leave(): `active` stays counted for the next in line.
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private leave(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
}
