/**
 * An open-loop load: arrivals on a schedule fixed before the first one (a Poisson process at the
 * given rate), each sent at its time whether or not the earlier ones have answered, so a slow
 * answer cannot hold back the next arrival as it does in a closed loop (no coordinated omission).
 * The generator says how well it kept to the schedule: the arrival rate it achieved and how late
 * each arrival was sent (its own event loop's lag).
 */
import { percentile } from "./stats";
import { Outcomes } from "./platform";
import { prng } from "../services/search/test/synthetic";

export interface OpenLoopResult {
  /** Arrivals per second asked for. */
  targetRate: number;
  /** Arrivals sent, over the time from the schedule's start to the last one sent. */
  sent: number;
  achievedRate: number;
  /** How late each arrival was sent after its scheduled time, ms, sorted. */
  lateness: number[];
  /** Most operations in flight at once. */
  maxInFlight: number;
  /** Latency of every operation by outcome; `seconds` is the schedule's length. */
  out: Outcomes;
}

/** Arrival times (ms from the start) of a Poisson process at `rate`/s over `seconds`. */
export function poissonSchedule(rate: number, seconds: number, seed = 15): number[] {
  const random = prng(seed); // seeded: the same schedule for the same seed
  const times: number[] = [];
  for (let t = -Math.log(1 - random()) / rate; t < seconds; t += -Math.log(1 - random()) / rate) times.push(t * 1000);
  return times;
}

/** Sends `op(i)` at each arrival of a Poisson schedule at `rate`/s for `seconds`; waits for every answer. */
export async function openLoop(opts: { rate: number; seconds: number; op: (i: number) => Promise<string>; seed?: number }): Promise<OpenLoopResult> {
  const schedule = poissonSchedule(opts.rate, opts.seconds, opts.seed);
  const out = new Outcomes();
  const lateness: number[] = [];
  const pending: Array<Promise<void>> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const start = performance.now();
  let lastSent = start;
  for (let i = 0; i < schedule.length; i++) {
    const wait = start + schedule[i] - performance.now();
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.now();
    lastSent = sentAt;
    lateness.push(Math.max(0, sentAt - (start + schedule[i])));
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      opts
        .op(i)
        .catch(() => "error")
        .then((outcome) => {
          inFlight--;
          out.add(outcome, performance.now() - sentAt);
        }),
    );
  }
  await Promise.all(pending);
  out.seconds = opts.seconds;
  lateness.sort((a, b) => a - b);
  return {
    targetRate: opts.rate,
    sent: schedule.length,
    achievedRate: schedule.length / Math.max(1e-3, (lastSent - start) / 1000),
    lateness,
    maxInFlight,
    out,
  };
}

/** "achieved 12.1/s of 12.0/s; sent late by p50 0.4 ms, p99 3.1 ms, max 9.0 ms; up to 14 in flight". */
export function scheduleText(r: OpenLoopResult): string {
  const f = (v: number) => `${v.toFixed(1)} ms`;
  return (
    `${r.sent} arrivals, achieved ${r.achievedRate.toFixed(1)}/s of ${r.targetRate.toFixed(1)}/s; sent late by p50 ${f(percentile(r.lateness, 50))}, ` +
    `p99 ${f(percentile(r.lateness, 99))}, max ${f(r.lateness[r.lateness.length - 1] ?? 0)}; up to ${r.maxInFlight} in flight`
  );
}
