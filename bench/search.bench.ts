/**
 * Search at 100,000 showtimes (issue 6's target: p95 ≤ 50 ms at 16 concurrent clients), on the
 * Postgres engine (a throw-away database on the stack's Postgres) and on real OpenSearch 2.19
 * and Elasticsearch 8.17 nodes started here from Maven Central (test/support/opensearch.ts) and
 * stopped afterwards. search-engines.ts does the work; the engines run one after the
 * other, so the idle node only holds memory while another is measured.
 *
 * Elasticsearch is what docker-compose.yml runs in production, and measured on its own it costs
 * about 2 minutes of the run (6 s start, 17 s indexing, the rest queries), so it is included.
 */
import { runSearchBench } from "./search-engines";
import { startEngine, type RunningEngine } from "../test/support/opensearch";
import type { Benchmark } from "./context";

export const searchBench: Benchmark = {
  name: "search: 100,000 showtimes at 16 clients",
  async run({ stack }) {
    const nodes: RunningEngine[] = [];
    try {
      // both JVMs start side by side (the slow part of starting is the JVM's own work)
      const started = await Promise.allSettled([
        startEngine("opensearch", { heap: "1g", jit: "full" }),
        startEngine("elasticsearch", { heap: "1g", jit: "full" }),
      ]);
      for (const s of started) if (s.status === "fulfilled") nodes.push(s.value);
      for (const s of started) if (s.status === "rejected") throw s.reason;
      const section = await runSearchBench({
        postgresAdminUrl: stack.databaseUrl,
        engines: nodes.map((n) => ({ kind: n.engine, url: n.url })),
        documents: 100_000,
        concurrency: 16,
      });
      const startedIn = nodes.map((n) => `${n.engine === "opensearch" ? "OpenSearch 2.19" : "Elasticsearch 8.17"} in ${(n.startMs / 1000).toFixed(1)} s`);
      return `${section}\n\nEngines: one node each, 1 GiB heap, started for this benchmark (${startedIn.join(", ")}).`;
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
};
