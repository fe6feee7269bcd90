/**
 * Search benchmark: indexes 100,000 synthetic showtimes into each engine, then runs geo + text +
 * date searches at 16 concurrent clients, printing p50/p95 latency, queries per second and CPU
 * per query for each query shape, measured three ways side by side:
 * - through the real search API (the service in this process, called on the connection the
 *   gateway uses for a backend: gRPC over HTTP/2, uncompressed);
 * - through the engine's search() alone (what the engine and its driver cost, without the RPC);
 * - the floor: the same API over an engine that answers every query with one fixed page from
 *   memory (what the service and its clients cost, whatever the engine).
 *
 *   npx tsx bench/search-engines.ts [--docs 100000] [--queries 3000] [--concurrency 16] [--engines postgres,opensearch,elasticsearch]
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
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { CatalogService } from "../gen/ticketing/catalog/v1/catalog_pb";
import { SearchService, SearchShowsRequestSchema } from "../gen/ticketing/search/v1/search_pb";
import { serviceCredential, TokenVerifier } from "../lib/auth";
import { createServiceClient } from "../lib/clients";
import { openDatabase } from "../lib/db";
import { silentLogger } from "../lib/logger";
import { createBackend } from "../services/gateway/forwarding";
import type { SearchEngine, SearchHits } from "../services/search/engine";
import { createElasticsearchClient } from "../services/search/engines/elasticsearch-clients";
import { ElasticsearchEngine } from "../services/search/engines/elasticsearch";
import { PostgresEngine } from "../services/search/engines/postgres";
import { migrations, SCHEMA } from "../services/search/db/migrations";
import { parseSearchRequest } from "../services/search/domain/query";
import { build } from "../services/search/server";
import { CITIES, prng, syntheticDocuments } from "../services/search/test/synthetic";
import { startEmbeddedPostgres } from "../scripts/dev-infra";
import { startEngine } from "../test/support/opensearch";
import { freePort } from "../test/support/ports";

export interface SearchBenchOptions {
  /** Admin URL of a Postgres server (a database is created and dropped on it); none = skip Postgres. */
  postgresAdminUrl?: string;
  /** Elasticsearch/OpenSearch nodes to benchmark; none = skip. */
  engines?: Array<{ kind: "elasticsearch" | "opensearch"; url: string }>;
  documents?: number;
  /** Measured queries per shape. */
  queries?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

interface Result {
  engine: string;
  /** "API": through the search service's RPC; "engine": engine.search() in this process. */
  via: "API" | "engine";
  shape: string;
  ok: number;
  failed: number;
  qps: number;
  p50: number;
  p95: number;
  meanHits: number;
  /** CPU per query: this process (load generator + service), the rest of the machine (the engine, and whatever else runs). */
  cpuSelfMs: number;
  cpuRestMs: number;
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
    // about 2,500 possible typos: unlike the 12 words of the shape above, a good share of them
    // miss the Postgres engine's 30 s cache of similar words (Elasticsearch/OpenSearch have no such cache)
    name: "geo + typo + date (25 km, one random edit)",
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
/** One edit after the first letter: two letters swapped, one replaced, deleted or inserted. */
function typo(word: string, r: () => number): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const letter = () => letters[Math.floor(r() * letters.length)];
  const i = 1 + Math.floor(r() * (word.length - 2));
  switch (Math.floor(r() * 4)) {
    case 0:
      return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
    case 1:
      return word.slice(0, i) + letter() + word.slice(i + 1);
    case 2:
      return word.slice(0, i) + word.slice(i + 1);
    default:
      return word.slice(0, i) + letter() + word.slice(i);
  }
}
function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN;
}

/** CPU-seconds of this process, and of the whole machine (/proc/stat: every process). */
function cpuNow(): { self: number; machine: number } {
  const u = process.cpuUsage();
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const busy = line.slice(0, 8).reduce((a, b) => a + b, 0) - line[3] - line[4];
  return { self: (u.user + u.system) / 1e6, machine: busy / CLK_TCK };
}
const CLK_TCK = 100;

/**
 * Runs each shape at `concurrency` clients through `run` (the API or the engine itself):
 * 100 warm-up queries, then `queries` measured ones.
 */
async function measure(
  label: string,
  via: Result["via"],
  run: (req: Req) => Promise<{ total: number }>,
  shapes: typeof SHAPES,
  opts: Required<Pick<SearchBenchOptions, "queries" | "concurrency">>,
  log: (l: string) => void,
): Promise<Result[]> {
  const results: Result[] = [];
  for (const shape of shapes) {
    const r = prng(1234);
    // warm-up: caches, JIT, connection
    for (let i = 0; i < 100; i++) await run(shape.make(r));
    const latencies: number[] = [];
    let next = 0;
    let ok = 0;
    let failed = 0;
    let hits = 0;
    const deadline = Date.now() + 120_000;
    const cpu0 = cpuNow();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < opts.queries && Date.now() < deadline) {
          const req = shape.make(r);
          next++;
          const t0 = performance.now();
          try {
            const res = await run(req);
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
    const cpu1 = cpuNow();
    latencies.sort((a, b) => a - b);
    const self = cpu1.self - cpu0.self;
    const result: Result = {
      engine: label,
      via,
      shape: shape.name,
      ok,
      failed,
      qps: ok / seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      meanHits: ok ? hits / ok : 0,
      cpuSelfMs: ((self / latencies.length) * 1000) || 0,
      cpuRestMs: ((Math.max(0, cpu1.machine - cpu0.machine - self) / latencies.length) * 1000) || 0,
    };
    results.push(result);
    log(
      `  ${result.engine} via ${via} | ${result.shape}: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, ${result.qps.toFixed(0)} q/s ` +
        `(${failed} failed, ~${result.meanHits.toFixed(0)} matches/query, CPU ${result.cpuSelfMs.toFixed(1)} + ${result.cpuRestMs.toFixed(1)} ms/query)`,
    );
  }
  return results;
}

/** Runs `count` calls, `concurrency` at a time (warm-ups). */
async function atFullConcurrency(concurrency: number, count: number, call: () => Promise<unknown>): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await call();
    }),
  );
}

/**
 * The search service in this process over `engine`, and a client on the connection the
 * gateway itself uses for a backend (gRPC over HTTP/2, uncompressed: services/gateway/forwarding.ts).
 */
async function withService<T>(engine: SearchEngine, fn: (search: (req: Req) => Promise<{ total: number }>) => Promise<T>): Promise<T> {
  const server = await build({
    engine,
    catalog: createServiceClient(CatalogService, "http://127.0.0.1:1", serviceCredential("bench", "search")),
    booking: null,
    verifier: new TokenVerifier({ issuer: "bench", audience: "bench", keys: { jwks: { keys: [] } }, serviceSecret: "bench-only" }),
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    liveAvailabilityMs: 0,
  });
  const connection = createBackend("search", `http://127.0.0.1:${server.port}`);
  const client = createClient(SearchService, connection.transport);
  try {
    return await fn((req) => client.searchShows(req));
  } finally {
    connection.close();
    await server.close();
  }
}

/**
 * Every shape through the API, then through the engine alone, after a warm-up of every shape
 * at full concurrency (an engine's JVM compiles its hot paths in the first thousand queries or
 * so: measured cold, the first shape paid for it).
 */
async function measureEngine(engine: SearchEngine, opts: Required<Pick<SearchBenchOptions, "queries" | "concurrency">>, log: (l: string) => void): Promise<Result[]> {
  const direct = (req: Req) => engine.search(parseSearchRequest(create(SearchShowsRequestSchema, req), new Date()));
  for (const shape of SHAPES) {
    const r = prng(99);
    await atFullConcurrency(opts.concurrency, 500, () => direct(shape.make(r)));
  }
  const api = await withService(engine, (search) => measure(engine.name, "API", search, SHAPES, opts, log));
  return [...api, ...(await measure(engine.name, "engine", direct, SHAPES, opts, log))];
}

/**
 * The floor: the same service and client over an engine that answers every query with one
 * fixed page of 20 documents from memory. What it costs is what no engine can go below here.
 */
async function measureFloor(engine: SearchEngine, opts: Required<Pick<SearchBenchOptions, "queries" | "concurrency">>, log: (l: string) => void): Promise<Result[]> {
  const shape = SHAPES[0];
  const page: SearchHits = await engine.search(parseSearchRequest(create(SearchShowsRequestSchema, shape.make(prng(1))), new Date()));
  const fixed: SearchEngine = Object.assign(Object.create(engine) as SearchEngine, { search: async () => page });
  return withService(fixed, async (search) => {
    // the same warm-up as the engines get: the service's code compiled before it is measured
    const r = prng(99);
    await atFullConcurrency(opts.concurrency, 2_000, () => search(shape.make(r)));
    return measure("none (a fixed page from memory)", "API", search, [shape], opts, log);
  });
}

async function index(engine: SearchEngine, count: number, log: (l: string) => void): Promise<string> {
  const docs = syntheticDocuments({ count, seed: 99, center: CENTER, spanDeg: 0.6, now: NOW, pastDays: 7, futureDays: 60, venues: Math.ceil(count / 50) });
  const started = performance.now();
  for (let i = 0; i < docs.length; i += 1000) await engine.upsert(docs.slice(i, i + 1000));
  await engine.refresh();
  const seconds = (performance.now() - started) / 1000;
  const line = `${engine.name}: indexed ${count.toLocaleString("en")} documents in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)} docs/s, batches of 1,000)`;
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
    // about two connections per core of the Postgres server (here this machine's), as the search
    // service should be configured (README): 16 clients on 20 connections kept 16 backends busy
    // on 2 cores, and a 25 km text search, engine alone, answered at p95 71 ms and 389 q/s
    // against 47 ms and 463 q/s on 4 connections (2 and 8 did worse than 4)
    const db = await openDatabase({ url: url.toString(), schema: SCHEMA, migrations, poolMax: 2 * os.cpus().length });
    try {
      const engine = new PostgresEngine({ db, logger: silentLogger(), queryTimeoutMs: 30_000 });
      await engine.init();
      indexing.push(await index(engine, documents, log));
      // the steady state autovacuum reaches a minute after a bulk load: statistics, and the
      // visibility map that index-only scans need
      await db.raw(`VACUUM (ANALYZE) ${SCHEMA}.showtimes`);
      results.push(...(await measureFloor(engine, run, log)));
      results.push(...(await measureEngine(engine, run, log)));
    } finally {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    }
  }
  for (const node of opts.engines ?? []) {
    const client = createElasticsearchClient({ engine: node.kind, url: node.url, requestTimeoutMs: 60_000 });
    const alias = `bench-${randomBytes(4).toString("hex")}`;
    const engine = new ElasticsearchEngine({ client, alias, logger: silentLogger(), queryTimeoutMs: 30_000 });
    try {
      await engine.init();
      indexing.push(await index(engine, documents, log));
      results.push(...(await measureEngine(engine, run, log)));
    } finally {
      for (const i of await client.aliasTargets(alias)) await client.deleteIndex(i);
      await client.close();
    }
  }

  const floor = results.find((r) => r.engine.startsWith("none"));
  const cores = os.cpus().length;
  return [
    `${documents.toLocaleString("en")} showtimes over a 130 km × 130 km region (${Math.ceil(documents / 50).toLocaleString("en")} venues), ` +
      `${run.concurrency} concurrent clients, ${run.queries.toLocaleString("en")} queries per shape after warm-up (each shape 500 times at full concurrency, then 100 times in a row), page size 20, ${cores} cores ` +
      `(Postgres: a pool of ${2 * cores} connections, two per core). ` +
      "Via API: the search service's RPC, called on the connection the gateway uses (gRPC over HTTP/2, uncompressed), service and clients in this process. " +
      "Via engine: the engine's search() called directly, without the RPC. " +
      "CPU per query: this process (clients, service, driver) + the rest of the machine (the engine, plus what the idle stack and the idle engine nodes use: the floor's share shows that part).",
    "",
    ...indexing.map((l) => `- ${l}`),
    "",
    "| engine | via | query | p50 | p95 | queries/s | failed | matches/query | CPU ms/query |",
    "|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.engine} | ${r.via} | ${r.shape} | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.qps.toFixed(0)} | ${r.failed} | ${r.meanHits.toFixed(0)} | ${r.cpuSelfMs.toFixed(1)} + ${r.cpuRestMs.toFixed(1)} |`,
    ),
    ...(floor
      ? [
          "",
          `The floor (an engine answering from memory) costs ${floor.cpuSelfMs.toFixed(1)} CPU-ms a query in the service and its clients, ` +
            `and reaches ${floor.qps.toFixed(0)} queries/s with a p95 of ${floor.p95.toFixed(1)} ms. By Little's law (mean latency = clients / throughput), ` +
            `${run.concurrency} clients at p95 ≤ 50 ms need a mean under 50 ms, so over ${Math.round(run.concurrency / 0.05)} queries/s: ` +
            `under ${((cores * 1000 * 0.05) / run.concurrency).toFixed(1)} CPU-ms a query for everything on ${cores} cores, the floor's share included.`,
        ]
      : []),
  ].join("\n");
}

/** Command line: engines from the environment, or started here for the run. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const wanted = (flag("engines") ?? "postgres,opensearch,elasticsearch").split(",");
  const stops: Array<() => Promise<void>> = [];
  try {
    let postgresAdminUrl: string | undefined;
    if (wanted.includes("postgres")) {
      postgresAdminUrl = process.env.BENCH_DATABASE_URL;
      if (!postgresAdminUrl) {
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
      for (const kind of ["opensearch", "elasticsearch"] as const) {
        if (!wanted.includes(kind)) continue;
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
