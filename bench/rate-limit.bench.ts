/**
 * What one rate-limit check costs (lib/rate-limit.ts), the check every hold makes: one call of
 * `rate_limit_hit`, which UPSERTs the user's and the showtime's counters. Needs only Postgres: a throw-away embedded one.
 *
 *   npm run bench -- rate-limit        (a standalone section of docs/benchmarks.md)
 *
 * Measured, after a warm-up:
 *   - one client, sequential checks of a hold's two keys (a user among 1,000, one showtime):
 *     latency p50/p95, and CPU per check of the Node process and of its Postgres backend
 *     (/proc, Linux), i.e. what a check adds to the hold path's CPU-ms per hold;
 *   - 16 concurrent clients, all on one showtime's counter (the hot row of a rush): checks/s, p95.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Knex } from "../lib/db";
import { RateLimiter, rateLimitMigration, type Limit } from "../lib/rate-limit";
import { startEmbeddedPostgres } from "../scripts/dev-infra";
import { freePort } from "../scripts/ports";
import type { StandaloneBenchmark } from "./context";

const SEQUENTIAL = 5_000;
const WARMUP = 500;
const CONCURRENCY = 16;
const PER_CLIENT = 500;
const USERS = 1_000;
const CLK_TCK = 100;

const user: Limit = { name: "hold.user", max: 1_000_000, windowSeconds: 60 };
const showtime: Limit = { name: "hold.showtime", max: 10_000_000, windowSeconds: 10 };
const keys = (i: number) => [
  { limit: user, subject: `user-${i % USERS}` },
  { limit: showtime, subject: "showtime-1" },
];

/** CPU seconds of a process (user + system), from /proc. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function sequential(db: Knex): Promise<string> {
  const limiter = new RateLimiter(db);
  const backend = (await db.raw("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  for (let i = 0; i < WARMUP; i++) await limiter.hit(keys(i));
  const lat: number[] = [];
  const node0 = process.cpuUsage();
  const pg0 = cpuOf(backend);
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    await limiter.hit(keys(i));
    lat.push(performance.now() - t);
  }
  const node = process.cpuUsage(node0);
  const pgCpu = cpuOf(backend) - pg0;
  lat.sort((a, b) => a - b);
  const nodeMs = (node.user + node.system) / 1000 / SEQUENTIAL;
  const pgMs = (pgCpu * 1000) / SEQUENTIAL;
  return (
    `- one client, ${SEQUENTIAL.toLocaleString("en")} checks of a hold's two keys: p50 ${pct(lat, 0.5).toFixed(2)} ms, ` +
    `p95 ${pct(lat, 0.95).toFixed(2)} ms; CPU per check: Node ${nodeMs.toFixed(3)} ms + its Postgres backend ` +
    `${pgMs.toFixed(3)} ms = **${(nodeMs + pgMs).toFixed(2)} CPU-ms** (the backend's at ${CLK_TCK} Hz ticks)`
  );
}

async function concurrent(db: Knex): Promise<string> {
  const limiter = new RateLimiter(db);
  const lat: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let i = 0; i < PER_CLIENT; i++) {
        const t = performance.now();
        await limiter.hit(keys(c * PER_CLIENT + i));
        lat.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return (
    `- ${CONCURRENCY} concurrent clients, every check on the same showtime counter: ` +
    `${Math.round(lat.length / seconds).toLocaleString("en")} checks/s, p95 ${pct(lat, 0.95).toFixed(2)} ms`
  );
}

export const rateLimitBench: StandaloneBenchmark = {
  name: "rate-limit",
  standalone: true,
  async run() {
    const dir = mkdtempSync(join(tmpdir(), "ratelimit-bench-"));
    chmodSync(dir, 0o755);
    const pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port: await freePort(), database: "ratelimitbench" });
    try {
      const single = await openDatabase({ url: pg.url, schema: "bench", migrations: [rateLimitMigration("bench")], poolMax: 1 });
      const pool = await openDatabase({ url: pg.url, schema: "bench", migrations: [rateLimitMigration("bench")], poolMax: CONCURRENCY });
      try {
        const lines = [await sequential(single), await concurrent(pool)];
        return [
          "One rate-limit check as a hold makes it (lib/rate-limit.ts: one call of `rate_limit_hit`, which UPSERTs the",
          "user's and the showtime's counters in an UNLOGGED table), on a throw-away embedded Postgres with default settings:",
          "",
          ...lines,
        ].join("\n");
      } finally {
        await single.destroy();
        await pool.destroy();
      }
    } finally {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
