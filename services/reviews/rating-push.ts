import { ConnectError, type Client } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { Logger } from "../../lib/logger.js";
import type { ReviewsRepo } from "./db/repo.js";

export interface RatingPushOptions {
  repo: ReviewsRepo;
  catalog: Client<typeof CatalogService>;
  logger: Logger;
  /** How often to look for unpushed aggregates when nothing wakes the loop (ms). Default 1000. */
  pollMs?: number;
  /** First wait after a failed push; doubles per failure up to `maxDelayMs`. Defaults 500 ms, 60 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a claimed aggregate is reserved for this pusher (ms). Default 30 s. */
  leaseMs?: number;
  batchSize?: number;
}

/**
 * Keeps the catalog's copy of each event's rating (averageRating, reviewCount) in step: pushes
 * every aggregate the catalog has not accepted yet with UpdateEventRating and its computed_at,
 * and retries with backoff until the catalog accepts it (while the catalog is down, reviews are
 * still recorded and listed). The catalog keeps the newest computed_at, so repeats and
 * reordering between replicas are harmless; "applied: false" (it had something newer) counts
 * as accepted. `kick()` wakes it after a review commits.
 */
export class RatingPusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private kicked = false;

  constructor(private readonly opts: RatingPushOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Pushes what is due now; returns how many aggregates it tried. */
  async pushOnce(): Promise<number> {
    const { repo, catalog, logger } = this.opts;
    const due = await repo.claimUnpushed(this.opts.batchSize ?? 50, this.opts.leaseMs ?? 30_000);
    await Promise.all(
      due.map(async (r) => {
        try {
          const { applied } = await catalog.updateEventRating({
            eventId: r.eventId,
            averageRating: r.averageRating,
            reviewCount: r.reviewCount,
            computedAt: timestampFromDate(r.computedAt),
          });
          await repo.markPushed(r.eventId, r.computedAt);
          logger.debug({ eventId: r.eventId, reviewCount: r.reviewCount, applied }, "rating pushed to the catalog");
        } catch (err) {
          const e = ConnectError.from(err);
          const delay = Math.min(this.opts.maxDelayMs ?? 60_000, (this.opts.baseDelayMs ?? 500) * 2 ** r.attempts);
          await repo.markPushFailed(r.eventId, e.message.slice(0, 1000), delay);
          logger.warn({ eventId: r.eventId, err: e, retryInMs: delay }, "catalog did not take the rating; will retry");
        }
      }),
    );
    return due.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const poll = this.opts.pollMs ?? 1_000;
    let next = poll;
    try {
      this.kicked = false;
      const n = await this.pushOnce();
      if (n === (this.opts.batchSize ?? 50) || this.kicked) {
        next = 0;
      } else {
        const due = await this.opts.repo.nextPushAt();
        // (at least a moment: a due row may be locked by a transaction about to commit)
        if (due) next = Math.max(10, Math.min(poll, due.getTime() - Date.now()));
      }
    } catch (err) {
      this.opts.logger.warn({ err }, "rating push loop failed; will retry");
      next = Math.max(poll, 1_000);
    }
    this.schedule(next);
  }
}
