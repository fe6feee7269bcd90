import { RateLimitedError } from "../../../lib/errors.js";

/**
 * The front door's load shedding. Joins are the waiting room's whole crowd arriving at once: a
 * process that took every one of them would queue them on its database pool until they timed out
 * (504s after 30 s, and the work spent on them wasted). Instead it works on at most `max` joins at
 * a time and answers the others at once with 429 and a short Retry-After; the queue page tries
 * again after it, so nobody's place is lost, only taken a few seconds later.
 */
export class JoinGate {
  private inFlight = 0;

  constructor(
    readonly max: number,
    readonly retryAfterSeconds = 2,
  ) {}

  /** Runs `fn` within the limit, or throws RateLimitedError (429, Retry-After) past it. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.max) {
      throw new RateLimitedError("many buyers are joining this waiting room right now", "waiting_room.join", this.retryAfterSeconds);
    }
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
    }
  }

  get busy(): number {
    return this.inFlight;
  }
}
