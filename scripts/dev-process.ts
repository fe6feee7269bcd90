/**
 * The process plumbing of the development infrastructure (scripts/dev-infra.ts): waiting,
 * readiness probes, port checks, and long-running processes spawned into their own process group
 * under the orphan guard.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { isPortFree } from "./ports";

export type LogLine = (line: string) => void;

export const LOOPBACK = "127.0.0.1";

// ───────────────────────────── small async helpers ─────────────────────────────

export class AbortedError extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortedError";
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
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
export async function waitForReady(probe: () => Promise<boolean>, opts: ReadinessOptions): Promise<void> {
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

export function describeExit(proc: ManagedProcess): string | undefined {
  const info = proc.exitInfo();
  if (!info) return undefined;
  const how = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
  const tail = proc.recentOutput().slice(-10).join("\n  ");
  return tail ? `${how}; last output:\n  ${tail}` : how;
}

export function runFile(file: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout) => {
      resolve({ ok: !err, stdout: stdout ?? "" });
    });
  });
}

/** Runs a command, streaming its output lines to `onLog`; resolves with success. */
export function runStreaming(file: string, args: string[], onLog: LogLine): Promise<boolean> {
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

export function splitLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== "");
}
