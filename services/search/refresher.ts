import type { Logger } from "../../lib/logger.js";
import type { SearchEngine, UpcomingCursor } from "./engine.js";
import { AVAILABILITY_BATCH, type Indexer } from "./indexer.js";

export interface RefresherOptions {
  engine: SearchEngine;
  indexer: Indexer;
  logger: Logger;
  /** Pause between rounds, ms. */
  intervalMs: number;
  /** Showtimes asked about per round at most (the soonest first, then onwards round-robin). */
  perRound?: number;
  now?: () => Date;
}

/**
 * Keeps `availableSeats` in the index following bookings: every `intervalMs` it walks the indexed
 * upcoming showtimes in start order and asks booking's GetSeatAvailability about them, up to
 * `perRound` per round, continuing where it stopped (so a small catalog is fully refreshed each
 * round and a large one cycles through, soonest shows first after each wrap). Failures are
 * logged and the next round tries again. Results also overlay live counts at query time.
 */
export class AvailabilityRefresher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private cursor?: UpcomingCursor;
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly opts: RefresherOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, "availability refresh failed"))
        .finally(() => this.schedule(this.opts.intervalMs));
    }, ms);
    this.timer.unref();
  }

  /** One round; returns how many showtimes were updated. */
  async round(): Promise<number> {
    const perRound = this.opts.perRound ?? 2_000;
    let asked = 0;
    let updated = 0;
    while (asked < perRound) {
      const limit = Math.min(AVAILABILITY_BATCH, perRound - asked);
      const batch = await this.opts.engine.upcoming(this.now(), this.cursor, limit);
      if (!batch.length) {
        this.cursor = undefined; // wrapped: next round starts with the soonest again
        break;
      }
      this.cursor = batch[batch.length - 1];
      asked += batch.length;
      updated += (await this.opts.indexer.refreshAvailability(batch.map((b) => b.showtimeId))).updated;
      if (batch.length < limit) {
        this.cursor = undefined;
        break;
      }
    }
    return updated;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
