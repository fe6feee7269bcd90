import { addressSubject, clientAddress, normaliseAddress } from "../lib/client-address";
import { openDatabase, type Knex } from "../lib/db";
import { RateLimitedError } from "../lib/errors";
import { Lockout, LOCKOUT_TABLE, lockoutMigration, type LockoutPolicy } from "../lib/lockout";
import { RATE_LIMIT_TABLE, RateLimiter, rateLimitMigration, type Limit } from "../lib/rate-limit";
import { createTestDatabase } from "./support/db";

/*
 * lib/rate-limit.ts on real Postgres: exact counts under concurrency from two connection pools
 * (two processes' worth), windows that end on a moved clock, and the sweep of old counters.
 */

let database: { url: string; drop(): Promise<void> };
let db1: Knex;
let db2: Knex;
let now = Date.parse("2026-12-03T12:00:00Z");
const clock = () => new Date(now);

beforeAll(async () => {
  database = await createTestDatabase("ratelimit");
  const opts = { url: database.url, schema: "limits_test", migrations: [rateLimitMigration("limits_test"), lockoutMigration("limits_test")] };
  db1 = await openDatabase(opts);
  db2 = await openDatabase(opts);
});
afterAll(async () => {
  await db1.destroy();
  await db2.destroy();
  await database.drop();
});

describe("RateLimiter", () => {
  it("counts concurrent requests from two pools exactly: `max` pass, the rest are refused", async () => {
    const limit: Limit = { name: "t.concurrent", max: 25, windowSeconds: 3600 };
    const limiters = [new RateLimiter(db1, { clock }), new RateLimiter(db2, { clock })];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => limiters[i % 2].hit([{ limit, subject: "s" }]).then((r) => r[0])),
    );
    expect(results.map((r) => r.hits).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(results.filter((r) => r.allowed)).toHaveLength(25);
    // every answer names the same window end, and Retry-After is the time left in it
    const ends = new Set(results.map((r) => r.windowEnd.getTime()));
    expect(ends.size).toBe(1);
    const end = [...ends][0];
    expect(end).toBeGreaterThan(now);
    expect(end - now).toBeLessThanOrEqual(3600_000);
    expect(results[0].retryAfterSeconds).toBe(Math.ceil((end - now) / 1000));
  });

  it("checks several keys in one statement, in order: a key over its limit refuses, and the keys after it are not counted", async () => {
    const short: Limit = { name: "t.short", max: 1, windowSeconds: 10 };
    const long: Limit = { name: "t.long", max: 1, windowSeconds: 100 };
    const limiter = new RateLimiter(db1, { clock });
    const keys = [
      { limit: short, subject: "x" },
      { limit: long, subject: "x" },
    ];
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as RateLimitedError,
      );
    await limiter.check(keys);
    const first = await refusal(limiter.check(keys));
    expect(first).toBeInstanceOf(RateLimitedError);
    expect(first).toMatchObject({ limit: "t.short" });
    expect(first!.retryAfterSeconds).toBeLessThanOrEqual(10);
    expect(first!.metadata).toEqual({ "retry-after": String(first!.retryAfterSeconds) });
    // the long key was not counted by the refused request
    expect((await db1(RATE_LIMIT_TABLE).where({ key: "t.long:x" }).first()).hits).toBe(1);
    // the short window ends first: now the long limit refuses
    now += first!.retryAfterSeconds * 1000;
    const second = await refusal(limiter.check(keys));
    expect(second).toMatchObject({ limit: "t.long" });
    expect(second!.retryAfterSeconds).toBeLessThanOrEqual(100);
    now += 100_000;
    await expect(limiter.check(keys)).resolves.toBeUndefined();
  });

  it("a limit of 0 counts nothing and never refuses", async () => {
    const off: Limit = { name: "t.off", max: 0, windowSeconds: 10 };
    const limiter = new RateLimiter(db1, { clock });
    for (let i = 0; i < 5; i++) await limiter.check([{ limit: off, subject: "y" }]);
    expect(await db1(RATE_LIMIT_TABLE).where("key", "like", "t.off:%")).toHaveLength(0);
  });

  it("sweeps the counters whose window has ended, and only those", async () => {
    const limit: Limit = { name: "t.sweep", max: 5, windowSeconds: 60 };
    const limiter = new RateLimiter(db1, { clock });
    for (let i = 0; i < 20; i++) await limiter.hit([{ limit, subject: `old-${i}` }]);
    now += 120_000;
    await limiter.hit([{ limit, subject: "current" }]);
    await limiter.sweep();
    const left = (await db1(RATE_LIMIT_TABLE).select("key")).map((r: { key: string }) => r.key);
    expect(left).toContain("t.sweep:current");
    expect(left.filter((k: string) => k.startsWith("t.sweep:old-"))).toEqual([]);
  });
});

describe("Lockout", () => {
  const policy: LockoutPolicy = { name: "t.lock", maxFailures: 2, baseSeconds: 10, maxSeconds: 60, forgetSeconds: 300 };

  it("forgets failures once `forgetSeconds` pass without one", async () => {
    const lockout = new Lockout(db1, clock);
    const key = { policy, subject: "forgetful" };
    expect(await lockout.fail([key])).toEqual([]);
    now += 301_000;
    expect(await lockout.fail([key])).toEqual([]); // counted from 1 again: no lock
    expect((await lockout.fail([key]))[0]).toMatchObject({ retryAfterSeconds: 10 });
  });

  it("sweeps rows whose failures are forgotten and whose lock is over, and keeps the others", async () => {
    const lockout = new Lockout(db2, clock);
    const long: LockoutPolicy = { ...policy, name: "t.lock-long", baseSeconds: 100_000, maxSeconds: 100_000 };
    await lockout.fail([{ policy, subject: "old" }]);
    for (let i = 0; i < 2; i++) await lockout.fail([{ policy: long, subject: "locked" }]);
    now += 1_000_000; // past "old"'s memory (300 s), within "locked"'s lock (100,000 s)
    await lockout.fail([{ policy, subject: "recent" }]);
    expect(await lockout.sweep()).toBeGreaterThanOrEqual(1);
    const left = (await db2(LOCKOUT_TABLE).select("key")).map((r: { key: string }) => r.key);
    expect(left).toEqual(expect.arrayContaining(["t.lock:recent", "t.lock-long:locked"]));
    expect(left).not.toContain("t.lock:old");
  });
});

describe("client addresses", () => {
  it("normalises IPv4-mapped and bracketed addresses, refuses what is not an address", () => {
    expect(normaliseAddress("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(normaliseAddress("[2001:DB8::1]")).toBe("2001:db8::1");
    expect(normaliseAddress("not-an-ip")).toBeUndefined();
    expect(normaliseAddress("10.1.2.3, 10.4.5.6")).toBeUndefined();
  });

  it("trusts X-Forwarded-For only as many hops in as there are proxies of ours", () => {
    expect(clientAddress("10.0.0.1", "6.6.6.6", 0)).toBe("10.0.0.1");
    expect(clientAddress("10.0.0.1", "6.6.6.6, 203.0.113.5", 1)).toBe("203.0.113.5");
    expect(clientAddress("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.1", 2)).toBe("203.0.113.5");
    expect(clientAddress("10.0.0.1", undefined, 1)).toBe("10.0.0.1");
    expect(clientAddress("10.0.0.1", "garbage", 1)).toBeUndefined();
  });

  it("counts IPv6 callers by their /64", () => {
    expect(addressSubject("2001:db8:1:2::a")).toBe("2001:db8:1:2::/64");
    expect(addressSubject("2001:db8:1:2:ffff::b")).toBe("2001:db8:1:2::/64");
    expect(addressSubject("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressSubject("::1")).toBe("0:0:0:0::/64");
    expect(addressSubject("192.0.2.1")).toBe("192.0.2.1");
  });
});
