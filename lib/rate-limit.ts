/**
 * Rate limits whose counters live in Postgres, in a table of the calling service's own schema,
 * so that they survive a restart of the service and every replica shares them.
 *
 * Algorithm: a fixed window per key. A check is ONE statement (a call of the schema's
 * `rate_limit_hit` function: an UPSERT per key it names, with plans cached per connection; a hold
 * checks the user's and the showtime's counters together) that adds
 * 1 to the counter of the key's current window, or starts a new window at 1, and returns the
 * count and the window's end. A request is refused when a count is over that key's limit, and
 * `Retry-After` is the time left until that window ends. Keys are counted in order and only while
 * the ones before are within their limits (a user over their own limit does not spend the
 * showtime's). Refused requests count against the key that refused them (hammering does not get
 * anyone in sooner, nor extend the wait past the window).
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
const HIT_FUNCTION = "rate_limit_hit";

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
      // The check, as a function so that its statements' plans are cached per connection (a
      // plain statement would be parsed and planned on every hold). Counts the keys in order,
      // each in the window holding p_now shifted by a hash of the key, and stops after the first
      // key over its limit; returns a row per key counted.
      await knex.raw(`
        CREATE FUNCTION ${schema}.${HIT_FUNCTION}(p_keys text[], p_windows int[], p_maxes int[], p_now timestamptz)
        RETURNS TABLE (r_key text, r_hits int, r_window_end timestamptz, r_now timestamptz)
        LANGUAGE plpgsql AS $$
        DECLARE
          v_now   timestamptz := coalesce(p_now, now());
          v_shift bigint;
          v_start timestamptz;
        BEGIN
          FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
            v_shift := (hashtext(p_keys[i])::bigint & 2147483647) % p_windows[i];
            v_start := to_timestamp(floor((extract(epoch FROM v_now) - v_shift) / p_windows[i]) * p_windows[i] + v_shift);
            INSERT INTO ${schema}.${RATE_LIMIT_TABLE} AS c (key, window_start, window_end, hits)
            VALUES (p_keys[i], v_start, v_start + make_interval(secs => p_windows[i]), 1)
            ON CONFLICT (key) DO UPDATE SET
              hits = CASE WHEN c.window_start = EXCLUDED.window_start THEN c.hits + 1 ELSE 1 END,
              window_start = EXCLUDED.window_start,
              window_end = EXCLUDED.window_end
            RETURNING c.key, c.hits, c.window_end, v_now INTO r_key, r_hits, r_window_end, r_now;
            RETURN NEXT;
            EXIT WHEN r_hits > p_maxes[i];
          END LOOP;
        END $$`);
    },
    async down(knex) {
      await knex.raw(`DROP FUNCTION ${schema}.${HIT_FUNCTION}`);
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
   * Counts one request against the keys, in order, in one statement, and returns the count of
   * each key counted. A key is counted only while every key before it is within its limit: a
   * request refused by its user's limit does not use up the showtime's (so one client cannot
   * spend everybody's budget). Keys whose limit is 0 are skipped. Pass keys in the same order
   * every time (narrow before shared, e.g. user then showtime): rows are locked in that order, so
   * concurrent checks never deadlock.
   */
  async hit(keys: readonly LimitKey[]): Promise<LimitCount[]> {
    const active = keys.filter((k) => k.limit.max > 0);
    if (active.length === 0) return [];
    this.maybeSweep();
    const { rows: found } = await this.db.raw<{ rows: Array<{ r_key: string; r_hits: number; r_window_end: Date; r_now: Date }> }>(
      `SELECT * FROM ${HIT_FUNCTION}(?::text[], ?::int[], ?::int[], ?::timestamptz)`,
      [active.map(keyOf), active.map((k) => k.limit.windowSeconds), active.map((k) => k.limit.max), this.opts.clock?.() ?? null],
    );
    const rows = found.map((r) => ({ key: r.r_key, hits: r.r_hits, window_end: r.r_window_end, now: r.r_now }));
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const counts: LimitCount[] = [];
    for (const k of active) {
      const r = byKey.get(keyOf(k));
      if (!r) break; // not counted: an earlier key is over its limit
      const windowEnd = new Date(r.window_end);
      counts.push({
        limit: k.limit,
        subject: k.subject,
        hits: r.hits,
        windowEnd,
        allowed: r.hits <= k.limit.max,
        retryAfterSeconds: Math.max(1, Math.ceil((windowEnd.getTime() - new Date(r.now).getTime()) / 1000)),
      });
    }
    return counts;
  }

  /**
   * Counts one request against the keys (as `hit`); throws RateLimitedError (429, Retry-After)
   * naming the limit it is over (the first in order: the later ones were not counted).
   */
  async check(keys: readonly LimitKey[], message: (limit: Limit) => string = defaultMessage): Promise<void> {
    const over = (await this.hit(keys)).find((c) => !c.allowed);
    if (!over) return;
    this.opts.logger?.debug({ limit: over.limit.name, hits: over.hits, retryAfterSeconds: over.retryAfterSeconds }, "rate limited");
    throw new RateLimitedError(message(over.limit), over.limit.name, over.retryAfterSeconds);
  }

  /** Deletes counters whose window ended (a bounded batch); returns how many. */
  async sweep(): Promise<number> {
    const now = this.opts.clock?.() ?? null;
    // the outer condition again: a row a check moved into a new window meanwhile is kept
    const { rowCount } = await this.db.raw(
      `WITH t AS (SELECT coalesce(?::timestamptz, now()) AS now)
       DELETE FROM ${RATE_LIMIT_TABLE} USING t WHERE window_end < t.now AND key IN (
         SELECT key FROM ${RATE_LIMIT_TABLE}, t WHERE window_end < t.now LIMIT ?
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
