/** Latency statistics and a bounded closed-loop load generator (loopback only). */

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i];
}

export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * `concurrency` workers each run `op` in a loop until `total` operations were started (or the
 * time cap passes). `op` returns true when the operation succeeded as expected.
 */
export async function closedLoop(opts: {
  concurrency: number;
  total: number;
  maxSeconds: number;
  op: (i: number) => Promise<boolean>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const deadline = Date.now() + opts.maxSeconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.total && Date.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        const good = await opts.op(i).catch(() => false);
        latencies.push(performance.now() - t0);
        if (good) ok++;
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ok,
    failed,
    seconds,
    perSecond: ok / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;
