import type { Rest } from "../scripts/rest-client";
import type { Stack } from "../scripts/platform-stack";

export { restClient } from "../scripts/rest-client";
export type { Rest };

/** What every benchmark gets: the running stack and REST helpers with an admin session. */
export interface BenchContext {
  stack: Stack;
  adminToken: string;
  rest: Rest;
}

/**
 * A benchmark that starts and stops the stacks it measures itself (run.ts runs it after the
 * shared stack has stopped, so that nothing else of ours runs meanwhile).
 */
export interface StandaloneBenchmark {
  name: string;
  standalone: true;
  run(): Promise<string>;
}

/** One benchmark: returns its section of docs/benchmarks.md (markdown). */
export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<string>;
}

/**
 * The rate limits the platform benchmarks run with (README "Rate limits"): their few hundred
 * users all register and sign in from one address (127.0.0.1), and each holds faster than any
 * person, so the defaults would refuse most of the load. The limits stay on (raised, not 0), so
 * every hold still pays its check.
 */
export const BENCH_LIMITS: Record<string, string> = {
  USERS_REGISTRATIONS_PER_ADDRESS: "1000000",
  USERS_LOGIN_MAX_FAILURES_PER_ADDRESS: "100000",
  BOOKING_HOLDS_PER_USER: "1000000",
  BOOKING_HOLDS_PER_SHOWTIME: "10000000",
};
