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
