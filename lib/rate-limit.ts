/**
 * Rate limits whose counters live in Postgres, in a table of the calling service's own schema,
 * so that they survive a restart of the service and every replica shares them.
 *
 * Algorithm: a fixed window per key. A check is ONE statement (an UPSERT over every key it
 * names: a hold checks the user's and the showtime's counters together) that adds 1 to the
 * counter of the key's current window, or starts a new window at 1, and returns the count and
 * the window's end. A request is refused when any of its counts is over that key's limit, and
 * `Retry-After` is the time left until that window ends. Refused requests count too (hammering
 * does not get anyone in sooner, and does not extend the wait past the window either).
 *
 * - Each key's windows are shifted by a hash of the key, so the counters of different users do
 *   not all reset at the same instant (no thundering herd at the top of the minute).
 * - The cost of fixed windows is a burst of up to twice the limit across a window boundary;
 *   for limits against hoarding and brute force that is acceptable, and it buys an exact
 *   Retry-After and one short row per key.
 * - The table is UNLOGGED: a check writes no WAL and its commit waits for no disk flush (the
 *   hold path is the platform's hottest). Counters survive restarts of the services and clean
 *   restarts of Postgres; a Postgres crash (or a fail-over to a replica) resets them, which for
 *   rate limits is harmless. Its fill factor leaves room for HOT updates (the only index is on
 *   `window_end`, which changes once per window).
 * - Old rows are deleted by `sweep()`, which `check()` runs by itself at most once per
 *   `sweepEveryMs` in each process, a bounded batch at a time (one index range scan).
 */
import type { Knex, Migration } from "./db.js";
import { RateLimitedError } from "./errors.js";
import type { Logger } from "./logger.js";

export const RATE_LIMIT_TABLE = "rate_limit_counters";

/** The counters' table in `schema`: list it in the service's migrations. */
export function rateLimitMigration(schema: string, name = "rate_limit_counters"): Migration {
  return {
    name,
    async up(knex) {
      await knex.raw(`
        CREATE UNLOGGED TABLE ${schema}.${RATE_LIMIT_TABLE} (
          key          text PRIMARY KEY,
          window_start timestamptz NOT NULL,
          window_end   timestamptz NOT NULL,
          hits         integer NOT NULL
        ) WITH (fillfactor = 70)`);
      await knex.raw(`CREATE INDEX ${RATE_LIMIT_TABLE}_window_end ON ${schema}.${RATE_LIMIT_TABLE} (window_end)`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${schema}.${RATE_LIMIT_TABLE}`);
    },
  };
}

/** One limit: at most `max` requests per `windowSeconds` per subject. `max` 0 = no limit. */
export interface Limit {
  /** Names the limit in keys, logs and the error detail, e.g. "hold.user". */
  name: string;
  max: number;
  windowSeconds: number;
}

/** A limit applied to one subject (a user id, a showtime id, a client address...). */
export interface LimitKey {
  limit: Limit;
  subject: string;
}

export interface LimitCount {
  limit: Limit;
  subject: string;
  /** Requests counted in the current window, this one included. */
  hits: number;
  windowEnd: Date;
  allowed: boolean;
  /** Seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
}

export interface RateLimiterOptions {
  /** The time of a check; tests move it. Default: the database's clock (the same for every replica). */
  clock?: () => Date;
  logger?: Logger;
  /** How often this process deletes old counters, at most. Default 60 s. */
  sweepEveryMs?: number;
  /** Most rows one sweep deletes. Default 5,000. */
  sweepBatch?: number;
}

const keyOf = (k: LimitKey) => `${k.limit.name}:${k.subject}`;

export class RateLimiter {
  private lastSweep = Date.now();
  private sweeping: Promise<unknown> | undefined;

  constructor(
    private readonly db: Knex,
    private readonly opts: RateLimiterOptions = {},
  ) {}

  /**
   * Counts one request against every key (one statement) and returns each count. Keys whose
   * limit is 0 are not counted. Keys are locked in a fixed order, so concurrent checks of
   * overlapping keys never deadlock.
   */
  async hit(keys: readonly LimitKey[]): Promise<LimitCount[]> {
    const active = keys.filter((k) => k.limit.max > 0).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    if (active.length === 0) return [];
    this.maybeSweep();
    const now = this.opts.clock?.() ?? null;
    const { rows } = await this.db.raw<{ rows: Array<{ key: string; hits: number; window_end: Date; now: Date }> }>(
      `WITH t AS (SELECT coalesce(?::timestamptz, now()) AS now),
       k AS (
         -- the window holding t.now, shifted by a hash of the key
         SELECT s.key, s.win, s.ord, to_timestamp(floor((extract(epoch FROM t.now) - s.shift) / s.win) * s.win + s.shift) AS start
         FROM (SELECT u.key, u.win, u.ord, (hashtext(u.key)::bigint & 2147483647) % u.win AS shift
               FROM unnest(?::text[], ?::int[]) WITH ORDINALITY AS u(key, win, ord)) AS s, t
       )
       INSERT INTO ${RATE_LIMIT_TABLE} AS c (key, window_start, window_end, hits)
       SELECT key, start, start + make_interval(secs => win), 1 FROM k ORDER BY ord
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.window_start = EXCLUDED.window_start THEN c.hits + 1 ELSE 1 END,
         window_start = EXCLUDED.window_start,
         window_end = EXCLUDED.window_end
       RETURNING key, hits, window_end, (SELECT now FROM t) AS now`,
      [now, active.map(keyOf), active.map((k) => k.limit.windowSeconds)],
    );
    const byKey = new Map(rows.map((r) => [r.key, r]));
    return active.map((k) => {
      const r = byKey.get(keyOf(k))!;
      const windowEnd = new Date(r.window_end);
      return {
        limit: k.limit,
        subject: k.subject,
        hits: r.hits,
        windowEnd,
        allowed: r.hits <= k.limit.max,
        retryAfterSeconds: Math.max(1, Math.ceil((windowEnd.getTime() - new Date(r.now).getTime()) / 1000)),
      };
    });
  }

  /**
   * Counts one request against every key; throws RateLimitedError (429, Retry-After) naming the
   * first limit over its count, with the longest wait among those over.
   */
  async check(keys: readonly LimitKey[], message: (limit: Limit) => string = defaultMessage): Promise<void> {
    const over = (await this.hit(keys)).filter((c) => !c.allowed);
    if (over.length === 0) return;
    const wait = Math.max(...over.map((c) => c.retryAfterSeconds));
    this.opts.logger?.info({ limit: over[0].limit.name, hits: over[0].hits, retryAfterSeconds: wait }, "rate limited");
    throw new RateLimitedError(message(over[0].limit), over[0].limit.name, wait);
  }

  /** Deletes counters whose window ended (a bounded batch); returns how many. */
  async sweep(): Promise<number> {
    const now = this.opts.clock?.() ?? null;
    const { rowCount } = await this.db.raw(
      `DELETE FROM ${RATE_LIMIT_TABLE} WHERE key IN (
         SELECT key FROM ${RATE_LIMIT_TABLE} WHERE window_end < coalesce(?::timestamptz, now()) LIMIT ?
       )`,
      [now, this.opts.sweepBatch ?? 5_000],
    );
    return rowCount ?? 0;
  }

  /** Waits for a sweep under way (before closing the database). */
  async idle(): Promise<void> {
    await this.sweeping;
  }

  private maybeSweep(): void {
    const now = Date.now();
    if (this.sweeping || now - this.lastSweep < (this.opts.sweepEveryMs ?? 60_000)) return;
    this.lastSweep = now;
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.opts.logger?.warn({ err }, "sweeping old rate-limit counters failed"))
      .finally(() => (this.sweeping = undefined));
  }
}

function defaultMessage(limit: Limit): string {
  return `too many requests (at most ${limit.max} per ${limit.windowSeconds} s)`;
}
