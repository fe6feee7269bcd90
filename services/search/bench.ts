/**
 * Search benchmark: indexes 100,000 synthetic showtimes into each backend, then runs geo + text +
 * date searches through the real search API (Connect over HTTP/2, the service in this process) at
 * 16 concurrent clients, printing p50/p95 latency and queries per second per query shape.
 *
 *   npx tsx services/search/bench.ts [--docs 100000] [--queries 3000] [--concurrency 16] [--backends postgres,opensearch,elasticsearch]
 *
 * Engines: Postgres at BENCH_DATABASE_URL (an admin URL; a throw-away database is made on it) or
 * an embedded Postgres started here; OpenSearch/Elasticsearch at ELASTICSEARCH_URL (with
 * SEARCH_ENGINE=opensearch|elasticsearch) or OpenSearch 2.19 / Elasticsearch 8.17 nodes started
 * here from Maven Central (test/support/opensearch.ts). All traffic stays on 127.0.0.1; every loop is bounded.
 * `runSearchBench` returns the markdown section for `npm run bench`.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import knexFactory from "knex";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { SearchService } from "../../gen/ticketing/search/v1/search_pb.js";
import { serviceCredential, TokenVerifier } from "../../lib/auth.js";
import { createServiceClient } from "../../lib/clients.js";
import { openDatabase } from "../../lib/db.js";
import { silentLogger } from "../../lib/logger.js";
import type { SearchBackend } from "./backend.js";
import { createEngineClient } from "./backends/engine-clients.js";
import { EngineBackend } from "./backends/engine.js";
import { PostgresBackend } from "./backends/postgres.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";
import { CITIES, prng, syntheticDocuments } from "./synthetic.js";

export interface SearchBenchOptions {
  /** Admin URL of a Postgres server (a database is created and dropped on it); none = skip Postgres. */
  postgresAdminUrl?: string;
  /** Engines to benchmark (Elasticsearch, OpenSearch); none = skip. */
  engines?: Array<{ kind: "elasticsearch" | "opensearch"; url: string }>;
  documents?: number;
  /** Measured queries per shape. */
  queries?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

interface Result {
  backend: string;
  shape: string;
  ok: number;
  failed: number;
  qps: number;
  p50: number;
  p95: number;
  meanHits: number;
}

const CENTER = { lat: 17.4, lon: 78.45 };
const NOW = new Date();
const WORDS = ["dark", "knight", "jazz", "night", "symphony", "comedy", "festival", "rock", "opera", "magic", "batman", "galaxy"];

type Req = Parameters<ReturnType<typeof createClient<typeof SearchService>>["searchShows"]>[0];

/** The query shapes measured: what the homepage and the search box send. */
const SHAPES: Array<{ name: string; make: (r: () => number) => Req }> = [
  {
    name: "geo + date (10 km, next 7 days, by distance)",
    make: (r) => ({ ...point(r), distance: "10km", startDate: day(0), endDate: day(7) }),
  },
  {
    name: "geo + text + date (25 km, a word, next 14 days)",
    make: (r) => ({ ...point(r), distance: "25km", query: WORDS[Math.floor(r() * WORDS.length)], endDate: day(14) }),
  },
  {
    name: "geo + typo + date (25 km, one letter swapped)",
    make: (r) => ({ ...point(r), distance: "25km", query: typo(WORDS[Math.floor(r() * WORDS.length)], r), endDate: day(14) }),
  },
  {
    name: "city + text (no location)",
    make: (r) => ({ city: CITIES[Math.floor(r() * CITIES.length)], query: WORDS[Math.floor(r() * WORDS.length)] }),
  },
];

function point(r: () => number) {
  return { lat: CENTER.lat + (r() * 2 - 1) * 0.5, lon: CENTER.lon + (r() * 2 - 1) * 0.5 };
}
function day(offset: number): string {
  return new Date(NOW.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
}
function typo(word: string, r: () => number): string {
  const i = 1 + Math.floor(r() * (word.length - 2));
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}
function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN;
}

async function measure(backend: SearchBackend, opts: Required<Pick<SearchBenchOptions, "queries" | "concurrency">>, log: (l: string) => void): Promise<Result[]> {
  const server = await build({
    backend,
    catalog: createServiceClient(CatalogService, "http://127.0.0.1:1", serviceCredential("bench", "search")),
    booking: null,
    verifier: new TokenVerifier({ issuer: "bench", audience: "bench", keys: { jwks: { keys: [] } }, serviceSecret: "bench-only" }),
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    liveAvailabilityMs: 0,
  });
  const client = createClient(SearchService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "2" }));
  const results: Result[] = [];
  try {
    for (const shape of SHAPES) {
      const r = prng(1234);
      // warm-up: caches, JIT, connection
      for (let i = 0; i < 100; i++) await client.searchShows(shape.make(r));
      const latencies: number[] = [];
      let next = 0;
      let ok = 0;
      let failed = 0;
      let hits = 0;
      const deadline = Date.now() + 120_000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: opts.concurrency }, async () => {
          while (next < opts.queries && Date.now() < deadline) {
            const req = shape.make(r);
            next++;
            const t0 = performance.now();
            try {
              const res = await client.searchShows(req);
              hits += res.total;
              ok++;
            } catch {
              failed++;
            }
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const result = {
        backend: backend.name,
        shape: shape.name,
        ok,
        failed,
        qps: ok / seconds,
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        meanHits: ok ? hits / ok : 0,
      };
      results.push(result);
      log(`  ${result.backend} | ${result.shape}: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, ${result.qps.toFixed(0)} q/s (${failed} failed, ~${result.meanHits.toFixed(0)} matches/query)`);
    }
  } finally {
    await server.close();
  }
  return results;
}

async function index(backend: SearchBackend, count: number, log: (l: string) => void): Promise<string> {
  const docs = syntheticDocuments({ count, seed: 99, center: CENTER, spanDeg: 0.6, now: NOW, pastDays: 7, futureDays: 60, venues: Math.ceil(count / 50) });
  const started = performance.now();
  for (let i = 0; i < docs.length; i += 1000) await backend.upsert(docs.slice(i, i + 1000));
  await backend.refresh();
  const seconds = (performance.now() - started) / 1000;
  const line = `${backend.name}: indexed ${count.toLocaleString("en")} documents in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)} docs/s, batches of 1,000)`;
  log(line);
  return line;
}

export async function runSearchBench(opts: SearchBenchOptions): Promise<string> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const documents = opts.documents ?? 100_000;
  const run = { queries: opts.queries ?? 3_000, concurrency: opts.concurrency ?? 16 };
  const indexing: string[] = [];
  const results: Result[] = [];

  if (opts.postgresAdminUrl) {
    const name = `search_bench_${randomBytes(4).toString("hex")}`;
    const admin = knexFactory({ client: "pg", connection: opts.postgresAdminUrl, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${name}`);
    const url = new URL(opts.postgresAdminUrl);
    url.pathname = `/${name}`;
    const db = await openDatabase({ url: url.toString(), schema: SCHEMA, migrations, poolMax: 20 });
    try {
      const backend = new PostgresBackend({ db, logger: silentLogger(), queryTimeoutMs: 30_000 });
      await backend.init();
      indexing.push(await index(backend, documents, log));
      // the steady state autovacuum reaches a minute after a bulk load: statistics, and the
      // visibility map that index-only scans need
      await db.raw(`VACUUM (ANALYZE) ${SCHEMA}.showtimes`);
      results.push(...(await measure(backend, run, log)));
    } finally {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    }
  }
  for (const engine of opts.engines ?? []) {
    const client = createEngineClient({ engine: engine.kind, url: engine.url, requestTimeoutMs: 60_000 });
    const alias = `bench-${randomBytes(4).toString("hex")}`;
    const backend = new EngineBackend({ client, alias, logger: silentLogger(), queryTimeoutMs: 30_000 });
    try {
      await backend.init();
      indexing.push(await index(backend, documents, log));
      results.push(...(await measure(backend, run, log)));
    } finally {
      for (const i of await client.aliasTargets(alias)) await client.deleteIndex(i);
      await client.close();
    }
  }

  return [
    `${documents.toLocaleString("en")} showtimes over a 130 km × 130 km region (${Math.ceil(documents / 50).toLocaleString("en")} venues), ` +
      `${run.concurrency} concurrent clients over one HTTP/2 connection to the search service, ${run.queries.toLocaleString("en")} queries per shape after 100 warm-up queries, page size 20.`,
    "",
    ...indexing.map((l) => `- ${l}`),
    "",
    "| backend | query | p50 | p95 | queries/s | failed | matches/query |",
    "|---|---|---|---|---|---|---|",
    ...results.map((r) => `| ${r.backend} | ${r.shape} | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.qps.toFixed(0)} | ${r.failed} | ${r.meanHits.toFixed(0)} |`),
  ].join("\n");
}

/** Command line: engines from the environment, or started here for the run. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const backends = (flag("backends") ?? "postgres,opensearch,elasticsearch").split(",");
  const stops: Array<() => Promise<void>> = [];
  try {
    let postgresAdminUrl: string | undefined;
    if (backends.includes("postgres")) {
      postgresAdminUrl = process.env.BENCH_DATABASE_URL;
      if (!postgresAdminUrl) {
        const { startEmbeddedPostgres } = await import("../../scripts/dev-infra.js");
        const { freePort } = await import("../../test/support/ports.js");
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "search-bench-pg-"));
        fs.chmodSync(dataDir, 0o755);
        const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pg"), port: await freePort() });
        stops.push(async () => {
          await pg.stop();
          fs.rmSync(dataDir, { recursive: true, force: true });
        });
        postgresAdminUrl = pg.url;
      }
    }
    const engines: NonNullable<SearchBenchOptions["engines"]> = [];
    const url = process.env.ELASTICSEARCH_URL;
    if (url) {
      engines.push({ kind: process.env.SEARCH_ENGINE === "opensearch" ? "opensearch" : "elasticsearch", url });
    } else {
      const { startEngine } = await import("../../test/support/opensearch.js");
      for (const kind of ["opensearch", "elasticsearch"] as const) {
        if (!backends.includes(kind)) continue;
        const node = await startEngine(kind, { heap: "1g", jit: "full" });
        process.stdout.write(`${kind} node started in ${node.startMs} ms\n`);
        stops.push(() => node.stop());
        engines.push({ kind, url: node.url });
      }
    }
    const markdown = await runSearchBench({
      postgresAdminUrl,
      engines,
      documents: Number(flag("docs") ?? 100_000),
      queries: Number(flag("queries") ?? 3_000),
      concurrency: Number(flag("concurrency") ?? 16),
    });
    process.stdout.write(`\n${markdown}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
