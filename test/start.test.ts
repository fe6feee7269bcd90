/**
 * End-to-end test of `npm start` (scripts/start.ts): the whole stack started the way a user starts it, on a
 * fresh data dir and free ports, then stopped by a signal. It must come up healthy, exit 0, and leave no
 * process and no listening port behind. Linux only (reads /proc). Set SKIP_E2E_START=1 to skip it locally.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { SERVICE_NAMES, portEnvVar, urlEnvVar } from "../lib/services";
import { isPortFree } from "../scripts/ports";

const REPO_ROOT = path.resolve(__dirname, "..");
const READY_TIMEOUT_MS = 150_000;
/** Shorter than READY_TIMEOUT_MS, so that start.ts gives up first and says which service is unhealthy. */
const HEALTH_TIMEOUT_SECONDS = 120;
/** Services get 10 s before SIGKILL, then Temporal and Postgres stop: generous, but bounded. */
const EXIT_TIMEOUT_MS = 60_000;
/** After a SIGKILL of start.ts, the orphan guard gives each group 10 s before SIGKILL. */
const REAP_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_LINES = 60;

const describeE2E = process.env.SKIP_E2E_START ? describe.skip : describe;

describeE2E("npm start (scripts/start.ts)", () => {
  test.each(["SIGINT", "SIGTERM"] as const)(
    "comes up healthy, and %s stops everything: exit 0, no process or port left",
    async (signal) => {
      const stack = await launchStack();
      try {
        const gateway = await stack.ready;
        const health = await fetch(`${gateway}/healthz`);
        expect(health.status).toBe(200);

        const tree = processTree(stack.child.pid as number);
        expect(tree.length).toBeGreaterThan(3); // at least postgres, temporal, a service and the guard

        stack.child.kill(signal);
        expect(await within(stack.exited, EXIT_TIMEOUT_MS, `exit after ${signal}`)).toEqual({ code: 0, signal: null });
        // tsx's esbuild helper processes exit when their parent's pipe closes, a moment after it
        await waitUntil(() => stillAlive(tree).length === 0, 5_000);
        expect(stillAlive(tree)).toEqual([]);
        expect(await busyPorts(stack.ports)).toEqual([]);
      } catch (err) {
        throw withOutput(err, stack);
      } finally {
        await stack.cleanup();
      }
    },
    READY_TIMEOUT_MS + EXIT_TIMEOUT_MS + 30_000,
  );

  test(
    "when start.ts itself is SIGKILLed, the orphan guard stops everything it started",
    async () => {
      const stack = await launchStack();
      try {
        await stack.ready;
        const tree = processTree(stack.child.pid as number);
        stack.child.kill("SIGKILL");
        await stack.exited;
        await waitUntil(() => stillAlive(tree).length === 0, REAP_TIMEOUT_MS);
        expect(stillAlive(tree)).toEqual([]);
        expect(await busyPorts(stack.ports)).toEqual([]);
      } catch (err) {
        throw withOutput(err, stack);
      } finally {
        await stack.cleanup();
      }
    },
    READY_TIMEOUT_MS + REAP_TIMEOUT_MS + 30_000,
  );
});

// ───────────────────────────── launching the stack ─────────────────────────────

interface Stack {
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

async function launchStack(): Promise<Stack> {
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
    env: stackEnv(dataDir, ports),
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

function withOutput(err: unknown, stack: Stack): Error {
  const error = err instanceof Error ? err : new Error(String(err));
  error.message +=
    `\n\nstart.ts said:\n${stack.ownOutput.join("\n")}` +
    `\n\nlast output (start.ts and the services):\n${stack.output.join("\n")}`;
  return error;
}

// ───────────────────────────── processes (/proc) ─────────────────────────────

interface ProcInfo {
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
function processTree(root: number): ProcInfo[] {
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
function stillAlive(tree: ProcInfo[]): string[] {
  return tree
    .filter((proc) => {
      const stat = readStat(proc.pid);
      return stat !== undefined && stat.startTime === proc.startTime && stat.state !== "Z";
    })
    .map((proc) => `${proc.pid} ${proc.command}`);
}

function killIfSame(proc: ProcInfo): void {
  if (readStat(proc.pid)?.startTime !== proc.startTime) return;
  try {
    process.kill(proc.pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
}

// ───────────────────────────── ports ─────────────────────────────

/** One free port per name, all different. */
async function freePorts(names: string[]): Promise<Record<string, number>> {
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};
  try {
    // hold them all open at once so that no two names get the same port
    for (const name of names) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ port: 0, host: "127.0.0.1" }, resolve);
      });
      servers.push(server);
      ports[name] = (server.address() as net.AddressInfo).port;
    }
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  return ports;
}

async function busyPorts(ports: Record<string, number>): Promise<string[]> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) busy.push(`${name}=${port}`);
  }
  return busy;
}
