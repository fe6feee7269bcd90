import type { Knex } from "../../lib/db.js";
import type { Logger } from "../../lib/logger.js";
import { RateLimiter, type Limit } from "../../lib/rate-limit.js";

/** The booking service's hold-rate limits (BOOKING_HOLDS_PER_* in config.ts). */
export interface HoldRateSettings {
  /** Hold requests (ReserveSeats, ReserveBestSeats) per user per window; 0 = no limit. */
  holdsPerUser: number;
  holdsPerUserWindowSeconds: number;
  /** Hold requests without an admission token per showtime per window; 0 = no limit. */
  holdsPerShowtime: number;
  holdsPerShowtimeWindowSeconds: number;
}

/**
 * Limits on hold requests against hoarding (lib/rate-limit.ts; counters in the booking schema,
 * shared by every replica): per user (whoever the seats are held for), and per showtime for
 * requests without an admission token, so a rush on a showtime without a waiting room is
 * metered while admitted buyers are not held back by the crowd.
 */
export class HoldLimits {
  private readonly limiter: RateLimiter;
  private readonly perUser: Limit;
  private readonly perShowtime: Limit;

  constructor(db: Knex, s: HoldRateSettings, opts: { clock?: () => Date; logger?: Logger } = {}) {
    this.limiter = new RateLimiter(db, opts);
    this.perUser = { name: "hold.user", max: s.holdsPerUser, windowSeconds: s.holdsPerUserWindowSeconds };
    this.perShowtime = { name: "hold.showtime", max: s.holdsPerShowtime, windowSeconds: s.holdsPerShowtimeWindowSeconds };
  }

  /**
   * Counts one hold request (ReserveSeats or ReserveBestSeats) of `userId` for `showtimeId`, in
   * one statement, before anything else is done for it; throws RateLimitedError (429 with
   * Retry-After) when the user's or (not `admitted`: no valid admission token) the showtime's
   * limit is exceeded. Requests refused by a limit count too.
   */
  async checkHold(userId: string, showtimeId: string, opts: { admitted: boolean }): Promise<void> {
    const keys = [{ limit: this.perUser, subject: userId }];
    if (!opts.admitted) keys.push({ limit: this.perShowtime, subject: showtimeId });
    await this.limiter.check(keys, (l) =>
      l === this.perUser
        ? `too many hold requests (at most ${l.max} per ${l.windowSeconds} s per user)`
        : `too many hold requests for this showtime right now (at most ${l.max} per ${l.windowSeconds} s without an admission token)`,
    );
  }

  /** Waits for a sweep of old counters under way (before the database closes). */
  async idle(): Promise<void> {
    await this.limiter.idle();
  }
}
