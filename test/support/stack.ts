/**
 * The whole platform started the way a user starts it (`npm start`, i.e. scripts/start.ts), for
 * end-to-end tests: a fresh data dir, free ports for everything it binds, its output kept for
 * failure messages, and helpers to check that it left no process or port behind. Linux only
 * (reads /proc).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { SERVICE_NAMES, portEnvVar, urlEnvVar } from "../../lib/services";
import { freePort, isPortFree } from "../../scripts/ports";

const REPO_ROOT = path.resolve(__dirname, "../..");
export const READY_TIMEOUT_MS = 150_000;
/** Shorter than READY_TIMEOUT_MS, so that start.ts gives up first and says which service is unhealthy. */
const HEALTH_TIMEOUT_SECONDS = 120;
const OUTPUT_TAIL_LINES = 60;

export interface Stack {
  child: ChildProcess;
  /** Every port the stack binds, by the variable that sets it. */
  ports: Record<string, number>;
  /** Resolves with the gateway URL from the READY line. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of all output, and the last lines start.ts itself wrote (the services can drown those). */
  output: string[];
  ownOutput: string[];
  cleanup(): Promise<void>;
}

export async function launchStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "start-test-"));
  fs.chmodSync(dataDir, 0o755); // embedded Postgres runs as the `postgres` user when we are root
  const ports = await freePorts([
    portEnvVar("gateway"),
    ...SERVICE_NAMES.map(portEnvVar),
    "EMBEDDED_PG_PORT",
    "TEMPORAL_PORT",
    "TEMPORAL_UI_PORT",
  ]);
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: REPO_ROOT,
    env: { ...stackEnv(dataDir, ports), ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const ownOutput: string[] = [];
  const remember = (lines: string[], line: string): void => {
    lines.push(line);
    if (lines.length > OUTPUT_TAIL_LINES) lines.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no READY line within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    const onLine = (line: string): void => {
      remember(output, line);
      if (/^(start\s+\||READY )/.test(line)) remember(ownOutput, line);
      const match = /^READY gateway=(\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
    readline.createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", onLine);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`start.ts exited before READY (code ${code}, signal ${signal})`));
    });
  });
  ready.catch(() => undefined); // observed by the test; this only prevents an unhandled rejection

  const cleanup = async (): Promise<void> => {
    // only after a failure is anything left: do not let it leak into the next test
    const leftovers = processTree(child.pid as number);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    for (const proc of leftovers) killIfSame(proc);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { child, ports, ready, exited, output, ownOutput, cleanup };
}

/** The user's environment minus anything that would point the stack elsewhere, plus our ports. */
function stackEnv(dataDir: string, ports: Record<string, number>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    HOST: "127.0.0.1", // every service binds here (lib/common-config.ts), whatever the CI machine sets
    START_HEALTH_TIMEOUT_SECONDS: String(HEALTH_TIMEOUT_SECONDS),
  };
  for (const name of ["DATABASE_URL", "TEMPORAL_ADDRESS", "JWT_JWKS_URL", "JWT_PRIVATE_KEY_FILE", "NODE_ENV"]) {
    delete env[name]; // jest sets NODE_ENV=test; the stack should run as `npm start` runs it
  }
  for (const name of SERVICE_NAMES) delete env[urlEnvVar(name)];
  for (const [name, port] of Object.entries(ports)) env[name] = String(port);
  return env;
}

export function withOutput(err: unknown, stack: Stack): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  error.message +=
    `\n\nstart.ts said:\n${stack.ownOutput.join("\n")}` +
    `\n\nlast output (start.ts and the services):\n${stack.output.join("\n")}`;
  return error;
}

// ───────────────────────────── processes (/proc) ─────────────────────────────

export interface ProcInfo {
  pid: number;
  /** Start time in clock ticks since boot: tells a reused pid from the original. */
  startTime: string;
  command: string;
}

function readStat(pid: number): { ppid: number; state: string; startTime: string; command: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ")"
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return { state: fields[0], ppid: Number(fields[1]), startTime: fields[19], command: stat.slice(stat.indexOf("(") + 1, close) };
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants, found by walking parent pids in /proc. */
export function processTree(root: number): ProcInfo[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const tree: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const stat = readStat(pid);
    if (stat) tree.push({ pid, startTime: stat.startTime, command: stat.command });
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The recorded processes that still run (zombies and reused pids do not count). */
export function stillAlive(tree: ProcInfo[]): string[] {
  return tree
    .filter((proc) => {
      const stat = readStat(proc.pid);
      return stat !== undefined && stat.startTime === proc.startTime && stat.state !== "Z";
    })
    .map((proc) => `${proc.pid} ${proc.command}`);
}

export function killIfSame(proc: ProcInfo): void {
  if (readStat(proc.pid)?.startTime !== proc.startTime) return;
  try {
    process.kill(proc.pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

// ───────────────────────────── ports ─────────────────────────────

/** One free port per name, all different (outside the kernel's range for outgoing connections). */
async function freePorts(names: string[]): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  const taken = new Set<number>();
  for (const name of names) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

export async function busyPorts(ports: Record<string, number>): Promise<string[]> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) busy.push(`${name}=${port}`);
  }
  return busy;
}
