import { PolledWorker } from "../../lib/poll-loop.js";
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
export class RatingPusher extends PolledWorker {
  constructor(private readonly opts: RatingPushOptions) {
    super({ name: "rating push loop", logger: opts.logger, batchSize: opts.batchSize ?? 50, pollMs: opts.pollMs });
  }

  protected nextDueAt(): Promise<Date | undefined> {
    return this.opts.repo.nextPushAt();
  }

  /** Pushes what is due now; returns how many aggregates it tried. */
  async runOnce(): Promise<number> {
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
}
