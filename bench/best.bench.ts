/**
 * Best-available seating (issue #16): POST /api/v1/showtimes/{id}/seats/best through the REST
 * gateway on a 1,000-seat and a 20,000-seat hall, the same requests on each (2 seats, 8
 * concurrent clients, the orphan-seat rule on). A request reads rows best-first and stops when
 * satisfied, so its cost should follow the rows it reads, not the hall: target 20,000-seat p50
 * within 1.5× of the 1,000-seat p50. Also reported: CPU-ms of the whole stack per request, and
 * that no seat was handed out twice (checked in the responses).
 */
import os from "node:os";
import type { Benchmark, BenchContext } from "./context";
import { cpuSnapshot, cpuUsed, createShowtime, pool, progress, registerUsers, type Session } from "./platform";
import { ms, percentile } from "./stats";

const CONCURRENCY = 8;
const QUANTITY = 2;
const WARMUP = 20;
const MEASURED = 200;
/** 10 seats held per user and showtime at most (BOOKING_MAX_HELD_SEATS_PER_USER): 5 requests of 2 each. */
const REQUESTS_PER_USER = 5;

interface HallResult {
  label: string;
  seats: number;
  p50: number;
  p95: number;
  p99: number;
  failed: number;
  cpuMsPerRequest: number;
  duplicates: number;
  rps: number;
}

interface Run {
  latencies: number[];
  failed: number;
  duplicates: number;
  cpuSeconds: number;
  seconds: number;
}

async function runHall(ctx: BenchContext, users: Session[], label: string, rows: number, perRow: number): Promise<Run> {
  const st = await createShowtime(ctx.rest, ctx.adminToken, `Best ${label}`, rows, perRow, { avoidSingleSeats: true });
  const taken = new Set<string>();
  let duplicates = 0;
  let failed = 0;
  const request = async (i: number, into?: number[]) => {
    const user = users[Math.floor(i / REQUESTS_PER_USER)];
    const t0 = performance.now();
    const r = await ctx.rest("POST", `/api/v1/showtimes/${st.showtimeId}/seats/best`, { quantity: QUANTITY }, user.token);
    const elapsed = performance.now() - t0;
    if (r.status !== 201) {
      failed++;
      if (failed <= 3) progress(`  ${label}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      return;
    }
    for (const id of r.body.seatIds as string[]) {
      if (taken.has(id)) duplicates++;
      taken.add(id);
    }
    into?.push(elapsed);
  };
  await pool(
    Array.from({ length: WARMUP }, (_, i) => i),
    CONCURRENCY,
    (i) => request(i),
  );
  const latencies: number[] = [];
  const before = cpuSnapshot();
  const t0 = performance.now();
  await pool(
    Array.from({ length: MEASURED }, (_, i) => WARMUP + i),
    CONCURRENCY,
    (i) => request(i, latencies),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuUsed(before, cpuSnapshot());
  progress(`  ${label}: ${latencies.length} holds, p50 ${ms(percentile([...latencies].sort((a, b) => a - b), 50))}`);
  return { latencies, failed, duplicates, cpuSeconds, seconds };
}

function summary(label: string, seats: number, runs: Run[]): HallResult {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const requests = runs.length * MEASURED;
  return {
    label,
    seats,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    failed: runs.reduce((n, r) => n + r.failed, 0),
    cpuMsPerRequest: (runs.reduce((n, r) => n + r.cpuSeconds, 0) * 1000) / requests,
    duplicates: runs.reduce((n, r) => n + r.duplicates, 0),
    rps: latencies.length / runs.reduce((n, r) => n + r.seconds, 0),
  };
}

export const bestBench: Benchmark = {
  name: "best available: ReserveBestSeats on a 1,000- and a 20,000-seat hall",
  async run(ctx) {
    const needed = Math.ceil((WARMUP + MEASURED) / REQUESTS_PER_USER);
    progress(`registering ${needed} users`);
    const users = await registerUsers(ctx.rest, needed, "best");
    // two rounds in opposite orders, so that what the first hall leaves running (its booking
    // workflows) weighs on both halls alike; a new showtime each time (the holds stay)
    const small: Run[] = [];
    const big: Run[] = [];
    small.push(await runHall(ctx, users, "1,000 seats", 20, 50));
    big.push(await runHall(ctx, users, "20,000 seats", 100, 200));
    big.push(await runHall(ctx, users, "20,000 seats", 100, 200));
    small.push(await runHall(ctx, users, "1,000 seats", 20, 50));
    const a = summary("1,000 seats", 1000, small);
    const b = summary("20,000 seats", 20000, big);
    const ratio = b.p50 / a.p50;
    const row = (r: HallResult) =>
      `| ${r.label} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${r.rps.toFixed(0)} | ${r.cpuMsPerRequest.toFixed(1)} | ${r.failed} | ${r.duplicates} |`;
    return [
      `Per hall two runs (1,000 → 20,000 → 20,000 → 1,000 seats, a new showtime each) of ${MEASURED} requests of ${QUANTITY} seats ` +
        `after ${WARMUP} warm-up requests, ${CONCURRENCY} concurrent clients, each user holding at most ${REQUESTS_PER_USER * QUANTITY} seats; ` +
        `the holds stay (the best seats fill up as a run goes on). CPU: utime + stime of every process of the stack (from /proc) ` +
        `while the measured requests ran, divided by them; ${os.cpus().length} cores.`,
      "",
      "| hall | p50 | p95 | p99 | holds/s | CPU-ms per request | failed | seats handed out twice |",
      "|---|---|---|---|---|---|---|---|",
      row(a),
      row(b),
      "",
      `20,000-seat p50 / 1,000-seat p50 = ${ratio.toFixed(2)} (target ≤ 1.5: ${ratio <= 1.5 ? "met" : "NOT met"}).`,
    ].join("\n");
  },
};
