/**
 * Exponential lock-out after repeated failures (sign-ins), in Postgres like lib/rate-limit.ts:
 * shared by every replica and kept across restarts, in a table of the service's own schema.
 *
 * Per key (e.g. an account's email, a client address): failures are counted until
 * `forgetSeconds` pass without one. From the `maxFailures`-th failure on, each failure locks the
 * key for `baseSeconds × 2^k` (k = failures − maxFailures: 0, 1, 2...), at most `maxSeconds`.
 * While a key is locked its attempts are refused (429, Retry-After) before anything is checked,
 * and they are not counted: the lock-out ends on time whatever the caller does, and only failures
 * after it lifts make the next one longer. `succeed` forgets a key's failures.
 *
 * Each operation is one statement. The table is logged (unlike the rate-limit counters): a
 * lock-out should survive a Postgres crash too, and sign-ins are far from the hot path.
 */
import type { Knex, Migration } from "./db.js";
import { RateLimitedError } from "./errors.js";

export const LOCKOUT_TABLE = "lockouts";

export function lockoutMigration(schema: string, name = "lockouts"): Migration {
  return {
    name,
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${schema}.${LOCKOUT_TABLE} (
          key          text PRIMARY KEY,
          failures     integer NOT NULL,
          last_failure_at timestamptz NOT NULL,
          -- the failures are forgotten from then on (the last failure + forgetSeconds)
          forget_at    timestamptz NOT NULL,
          locked_until timestamptz,
          -- the policy that counted the last failure (the UPSERT reads it from EXCLUDED)
          max_failures integer NOT NULL,
          base_seconds integer NOT NULL,
          max_seconds  integer NOT NULL
        )`);
      await knex.raw(`CREATE INDEX ${LOCKOUT_TABLE}_forget_at ON ${schema}.${LOCKOUT_TABLE} (forget_at)`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${schema}.${LOCKOUT_TABLE}`);
    },
  };
}

export interface LockoutPolicy {
  /** Names the policy in keys and the error detail, e.g. "login.account". */
  name: string;
  /** Failures before the first lock-out; 0 = never lock. */
  maxFailures: number;
  baseSeconds: number;
  maxSeconds: number;
  /** Failures are forgotten this long after the last one. */
  forgetSeconds: number;
}

export interface LockoutKey {
  policy: LockoutPolicy;
  subject: string;
}

export interface Lock {
  policy: LockoutPolicy;
  subject: string;
  until: Date;
  retryAfterSeconds: number;
}

const keyOf = (k: LockoutKey) => `${k.policy.name}:${k.subject}`;

export class Lockout {
  private lastSweep = Date.now();
  private sweeping: Promise<unknown> | undefined;

  constructor(
    private readonly db: Knex,
    /** The time of a check; tests move it. Default: the database's clock. */
    private readonly clock?: () => Date,
    /** How often `fail` also deletes forgotten rows (a bounded batch), at most. Default 60 s. */
    private readonly sweepEveryMs = 60_000,
  ) {}

  /** The longest lock among the keys, if any is locked now. */
  async lockOf(keys: readonly LockoutKey[]): Promise<Lock | undefined> {
    const active = keys.filter((k) => k.policy.maxFailures > 0);
    if (active.length === 0) return undefined;
    const { rows } = await this.db.raw<{ rows: Array<{ key: string; locked_until: Date; now: Date }> }>(
      `WITH t AS (SELECT coalesce(?::timestamptz, now()) AS now)
       SELECT key, locked_until, t.now FROM ${LOCKOUT_TABLE}, t
       WHERE key = ANY(?::text[]) AND locked_until > t.now
       ORDER BY locked_until DESC LIMIT 1`,
      [this.clock?.() ?? null, active.map(keyOf)],
    );
    if (rows.length === 0) return undefined;
    const k = active.find((a) => keyOf(a) === rows[0].key)!;
    return lockFrom(k, rows[0].locked_until, rows[0].now);
  }

  /** Throws RateLimitedError when any key is locked; `message` says which. */
  async assertUnlocked(keys: readonly LockoutKey[], message: (lock: Lock) => string): Promise<void> {
    const lock = await this.lockOf(keys);
    if (lock) throw new RateLimitedError(message(lock), lock.policy.name, lock.retryAfterSeconds);
  }

  /** Counts a failure against every key (one statement); returns the locks it set, if any. */
  async fail(keys: readonly LockoutKey[]): Promise<Lock[]> {
    const active = keys.filter((k) => k.policy.maxFailures > 0).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    if (active.length === 0) return [];
    this.maybeSweep();
    const col = <T>(f: (k: LockoutKey) => T) => active.map(f);
    // EXCLUDED.last_failure_at is this failure's time (t.now)
    const failures = `CASE WHEN l.forget_at <= EXCLUDED.last_failure_at THEN 1 ELSE l.failures + 1 END`;
    const { rows } = await this.db.raw<{ rows: Array<{ key: string; locked_until: Date | null; now: Date }> }>(
      `WITH t AS (SELECT coalesce(?::timestamptz, now()) AS now)
       INSERT INTO ${LOCKOUT_TABLE} AS l (key, failures, last_failure_at, forget_at, locked_until, max_failures, base_seconds, max_seconds)
       SELECT u.key, 1, t.now, t.now + make_interval(secs => u.forget),
              CASE WHEN u.max_failures <= 1 THEN t.now + make_interval(secs => least(u.base, u.cap)) END,
              u.max_failures, u.base, u.cap
       FROM unnest(?::text[], ?::int[], ?::int[], ?::int[], ?::int[]) WITH ORDINALITY AS u(key, max_failures, base, cap, forget, ord), t
       ORDER BY u.ord
       ON CONFLICT (key) DO UPDATE SET
         failures = ${failures},
         last_failure_at = EXCLUDED.last_failure_at,
         forget_at = EXCLUDED.forget_at,
         locked_until = CASE
           WHEN ${failures} >= EXCLUDED.max_failures
             THEN EXCLUDED.last_failure_at + make_interval(secs => least(
               EXCLUDED.base_seconds * power(2::float8, least(${failures} - EXCLUDED.max_failures, 30)),
               EXCLUDED.max_seconds))
           ELSE l.locked_until END,
         max_failures = EXCLUDED.max_failures,
         base_seconds = EXCLUDED.base_seconds,
         max_seconds = EXCLUDED.max_seconds
       RETURNING key, locked_until, (SELECT now FROM t) AS now`,
      [
        this.clock?.() ?? null,
        col(keyOf),
        col((k) => k.policy.maxFailures),
        col((k) => k.policy.baseSeconds),
        col((k) => k.policy.maxSeconds),
        col((k) => k.policy.forgetSeconds),
      ],
    );
    const locks: Lock[] = [];
    for (const r of rows) {
      if (!r.locked_until || new Date(r.locked_until) <= new Date(r.now)) continue;
      locks.push(lockFrom(active.find((a) => keyOf(a) === r.key)!, r.locked_until, r.now));
    }
    return locks;
  }

  /** Forgets the key's failures (a successful sign-in). */
  async succeed(key: LockoutKey): Promise<void> {
    await this.db(LOCKOUT_TABLE).where({ key: keyOf(key) }).delete();
  }

  /** Deletes rows whose failures are forgotten and whose lock is over (a bounded batch). */
  async sweep(batch = 5_000): Promise<number> {
    // the outer condition again: a row a failure renewed meanwhile is kept
    const { rowCount } = await this.db.raw(
      `WITH t AS (SELECT coalesce(?::timestamptz, now()) AS now)
       DELETE FROM ${LOCKOUT_TABLE} USING t
       WHERE forget_at < t.now AND coalesce(locked_until, '-infinity') < t.now AND key IN (
         SELECT key FROM ${LOCKOUT_TABLE}, t WHERE forget_at < t.now AND coalesce(locked_until, '-infinity') < t.now LIMIT ?
       )`,
      [this.clock?.() ?? null, batch],
    );
    return rowCount ?? 0;
  }

  /** Waits for a sweep under way (before closing the database). */
  async idle(): Promise<void> {
    await this.sweeping;
  }

  private maybeSweep(): void {
    if (this.sweeping || Date.now() - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = Date.now();
    // best effort: a failed sweep is retried at the next interval
    this.sweeping = this.sweep()
      .catch(() => undefined)
      .finally(() => (this.sweeping = undefined));
  }
}

function lockFrom(k: LockoutKey, until: Date, now: Date): Lock {
  const u = new Date(until);
  return {
    policy: k.policy,
    subject: k.subject,
    until: u,
    retryAfterSeconds: Math.max(1, Math.ceil((u.getTime() - new Date(now).getTime()) / 1000)),
  };
}
