/**
 * `npm run bench`: starts the platform as `npm start` does (every service its own process, on
 * free ports, throw-away data), runs every benchmark against it in one run, so the numbers in
 * one report are side by side on the same machine, and writes docs/benchmarks.md.
 * `npm run bench -- <name filter>` runs a subset (and still rewrites the report).
 * The seat-storage benchmark of ADR 0001 needs only Postgres and runs on its own
 * (bench/seat-storage.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { bestBench } from "./best.bench";
import { catalogBench } from "./catalog.bench";
import { checkinsBench } from "./checkins.bench";
import { bookingsBench } from "./bookings.bench";
import { BENCH_LIMITS, restClient, type Benchmark, type StandaloneBenchmark } from "./context";
import { holdsBench } from "./holds.bench";
import { rateLimitBench } from "./rate-limit.bench";
import { scaleOutBench } from "./scale-out.bench";
import { searchBench } from "./search.bench";
import { waitingRoomBench } from "./waiting-room.bench";
import { webBench } from "./web.bench";
import { startStack } from "../scripts/platform-stack";

/** In report order; the standalone ones (their own stacks) run after the shared stack has stopped. */
const BENCHMARKS: Array<Benchmark | StandaloneBenchmark> = [
  catalogBench,
  holdsBench,
  bookingsBench,
  waitingRoomBench,
  bestBench,
  checkinsBench,
  searchBench,
  webBench,
  scaleOutBench,
  rateLimitBench,
];

const isStandalone = (b: Benchmark | StandaloneBenchmark): b is StandaloneBenchmark => "standalone" in b && b.standalone;

function usage(): string {
  return [
    "npm run bench [-- <name filter>[,<name filter>...]] [--update]   (npx tsx bench/run.ts ...)",
    "",
    "Starts the platform as `npm start` does, runs the benchmarks whose name contains one of the",
    "filters (all without one) in one run and rewrites docs/benchmarks.md with them; with --update",
    "it replaces only their sections of the report and keeps the others (each section says which",
    "run it comes from). Benchmarks:",
    ...BENCHMARKS.map((b) => `  ${b.name}`),
    "",
    "On its own, with only Postgres: npx tsx bench/seat-storage.ts --help",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(usage());
    return;
  }
  const update = args.includes("--update");
  const filters = args.filter((a) => !a.startsWith("--")).flatMap((a) => a.split(",")).filter(Boolean);
  const selected = BENCHMARKS.filter((b) => !filters.length || filters.some((f) => b.name.includes(f)));
  const runDate = new Date().toISOString();
  const sections = new Map<Benchmark | StandaloneBenchmark, string>();
  const runOne = async (bench: Benchmark | StandaloneBenchmark, run: () => Promise<string>) => {
    process.stdout.write(`running: ${bench.name}\n`);
    const started = Date.now();
    const body = await run();
    sections.set(bench, `## ${bench.name}\n\n${body}\n\n_(took ${((Date.now() - started) / 1000).toFixed(0)} s${update ? `; run of ${runDate}` : ""})_`);
    process.stdout.write(`${body}\n\n`);
  };
  const shared = selected.filter((b): b is Benchmark => !isStandalone(b));
  if (shared.length) {
    const stack = await startStack(BENCH_LIMITS);
    // Ctrl-C or a kill: the stack (its own process tree) goes too, rather than running on orphaned
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`${signal}: stopping the stack\n`);
      void stack.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const rest = restClient(stack.gateway);
      const login = await rest("POST", "/api/v1/auth/login", { email: "admin@ticketing.local", password: "change-me-admin" });
      if (login.status !== 200) throw new Error(`admin login failed: ${login.status}`);
      const ctx = { stack, adminToken: login.body.accessToken as string, rest };
      for (const bench of shared) await runOne(bench, () => bench.run(ctx));
    } finally {
      await stack.stop();
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
  }
  // each stops its own stacks on Ctrl-C
  for (const bench of selected.filter(isStandalone)) await runOne(bench, () => bench.run());
  const file = path.join(__dirname, "..", "docs", "benchmarks.md");
  if (update && fs.existsSync(file)) {
    fs.writeFileSync(file, updatedReport(fs.readFileSync(file, "utf8"), sections, runDate));
    process.stdout.write("updated docs/benchmarks.md\n");
    return;
  }
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const report = [
    "# Benchmarks",
    "",
    "Written by `npm run bench`; do not edit by hand. Every number below comes from one run on one",
    "machine, against the platform started as `npm start` starts it (each service its own process,",
    "embedded Postgres, the Temporal dev server), with the load generator on the same machine over",
    "loopback. Compare numbers within this report (the ratios), not across machines.",
    "",
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`,
    `- node ${process.version}`,
    "",
    ...selected.map((b) => sections.get(b) ?? ""),
    "",
  ].join("\n");
  fs.mkdirSync(path.join(__dirname, "..", "docs"), { recursive: true });
  fs.writeFileSync(path.join(__dirname, "..", "docs", "benchmarks.md"), report);
  process.stdout.write("wrote docs/benchmarks.md\n");
}

/**
 * The report with the sections of this run in place of their old ones (a new benchmark's section
 * goes where BENCHMARKS puts it) and a line under the header naming the run.
 */
function updatedReport(old: string, sections: Map<Benchmark | StandaloneBenchmark, string>, runDate: string): string {
  const parts = old.split(/^(?=## )/m);
  const header = parts.shift() ?? "";
  const byName = new Map(parts.map((p) => [p.slice(3, p.indexOf("\n")).trim(), p.trimEnd()]));
  for (const [bench, text] of sections) byName.set(bench.name, text);
  const order = [...BENCHMARKS.map((b) => b.name).filter((n) => byName.has(n)), ...[...byName.keys()].filter((n) => !BENCHMARKS.some((b) => b.name === n))];
  const ran = [...sections.keys()].map((b) => b.name.split(":")[0]).join(", ");
  const note = `- ${runDate}: re-ran ${ran} alone (\`--update\`); those sections say so, the others are from the run above`;
  return [header.trimEnd(), note, "", ...order.map((n) => byName.get(n)!), ""].join("\n\n").replace(/\n{3,}/g, "\n\n");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
