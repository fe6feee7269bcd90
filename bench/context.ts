import type { Rest } from "../scripts/rest-client";
import type { Stack } from "../scripts/platform-stack";

export { restClient } from "../scripts/rest-client";

/** What every benchmark gets: the running stack and REST helpers with an admin session. */
export interface BenchContext {
  stack: Stack;
  adminToken: string;
  rest: Rest;
}

/** One benchmark: returns its section of docs/benchmarks.md (markdown). */
export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<string>;
}
