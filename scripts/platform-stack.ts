/**
 * The whole platform started the way a user starts it (`npm start`, i.e. scripts/start.ts: every
 * service its own process) on free ports with a throw-away data dir, for the end-to-end tests,
 * the benchmarks and the screenshot script. `launchPlatform` gives the process, its READY line and
 * its output; `startStack` is the benchmarks' shorthand (quiet logs, no demo data, waits for READY).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { BALANCED_SERVICES, SERVICE_NAMES, portEnvVar, urlEnvVar } from "../lib/services";
import { freePort, isPortFree } from "./ports";
import { replicaPorts } from "./start-config";

const REPO_ROOT = path.resolve(__dirname, "..");
export const READY_TIMEOUT_MS = 150_000;
/** Shorter than READY_TIMEOUT_MS, so that start.ts gives up first and says which service is unhealthy. */
const HEALTH_TIMEOUT_SECONDS = 120;
const OUTPUT_TAIL_LINES = 60;

export interface PlatformProcess {
  child: ChildProcess;
  dataDir: string;
  /** Every port the stack binds, by the variable that sets it. */
  ports: Record<string, number>;
  /** Resolves with the gateway URL from the READY line. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of all output, and the last lines start.ts itself wrote (the services can drown those). */
  output: string[];
  ownOutput: string[];
}

/**
 * One free port per name, all different (outside the kernel's range for outgoing connections);
 * for a name in `replicated`, the ports of its `replicas` replicas (port + k × 100) are free too.
 */
async function freePorts(names: string[], replicated: ReadonlySet<string>, replicas: number): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  const taken = new Set<number>();
  const usable = async (port: number, name: string): Promise<boolean> => {
    const all = replicated.has(name) ? replicaPorts(port, replicas) : [port];
    if (all.some((p) => taken.has(p) || p > 65535)) return false;
    for (const p of all.slice(1)) if (!(await isPortFree(p))) return false;
    return true;
  };
  for (const name of names) {
    let port = await freePort();
    while (!(await usable(port, name))) port = await freePort();
    for (const p of replicated.has(name) ? replicaPorts(port, replicas) : [port]) taken.add(p);
    ports[name] = port;
  }
  return ports;
}

/** The port variables of the tiers REPLICAS multiplies. */
const REPLICATED_PORTS = new Set([portEnvVar("gateway"), ...BALANCED_SERVICES.map(portEnvVar)]);

/** The user's environment minus anything that would point the stack elsewhere, plus our ports. */
function stackEnv(dataDir: string, ports: Record<string, number>, extraEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    HOST: "127.0.0.1", // every service binds here (lib/common-config.ts), whatever the machine sets
    START_HEALTH_TIMEOUT_SECONDS: String(HEALTH_TIMEOUT_SECONDS),
  };
  for (const name of ["DATABASE_URL", "TEMPORAL_ADDRESS", "JWT_JWKS_URL", "JWT_PRIVATE_KEY_FILE", "NODE_ENV"]) {
    delete env[name]; // jest sets NODE_ENV=test; the stack should run as `npm start` runs it
  }
  for (const name of SERVICE_NAMES) delete env[urlEnvVar(name)];
  for (const name of Object.keys(env)) if (name === "REPLICAS" || name.startsWith("REPLICAS_")) delete env[name]; // launchPlatform's own
  for (const [name, port] of Object.entries(ports)) env[name] = String(port);
  return { ...env, ...extraEnv };
}

/**
 * Starts scripts/start.ts; `ready` settles with its READY line (or its failure). `replicas`: how
 * many of each scaled tier (gateway, booking, payments, workflow worker) it runs (REPLICAS).
 */
export async function launchPlatform(extraEnv: Record<string, string> = {}, replicas = 1): Promise<PlatformProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-"));
  fs.chmodSync(dataDir, 0o755); // embedded Postgres runs as the `postgres` user when we are root
  const ports = await freePorts(
    [portEnvVar("gateway"), ...SERVICE_NAMES.map(portEnvVar), "EMBEDDED_PG_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT"],
    REPLICATED_PORTS,
    replicas,
  );
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: REPO_ROOT,
    env: { ...stackEnv(dataDir, ports, extraEnv), REPLICAS: String(replicas) },
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
  ready.catch(() => undefined); // observed by the caller; this only prevents an unhandled rejection
  return { child, dataDir, ports, ready, exited, output, ownOutput };
}

export interface Stack {
  gateway: string;
  /** Every gateway (the first is `gateway`): more than one when started with replicas. */
  gateways: string[];
  databaseUrl: string;
  temporalAddress: string;
  ports: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * The platform with quiet logs and no demo data unless asked, once it is READY; stop() ends it.
 * `replicas`: processes of each scaled tier (gateway, booking, payments, workflow worker).
 */
export async function startStack(extraEnv: Record<string, string> = {}, replicas = 1): Promise<Stack> {
  const p = await launchPlatform({ LOG_LEVEL: "warn", CATALOG_DEMO_DATA: "false", ...extraEnv }, replicas);
  const stop = async () => {
    p.child.kill("SIGINT");
    await p.exited;
    fs.rmSync(p.dataDir, { recursive: true, force: true });
  };
  let gateway: string;
  try {
    gateway = await p.ready;
  } catch (err) {
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}:\n${p.output.join("\n")}`, { cause: err });
  }
  return {
    gateway,
    gateways: replicaPorts(p.ports[portEnvVar("gateway")], replicas).map((port) => `http://127.0.0.1:${port}`),
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${p.ports.EMBEDDED_PG_PORT}/ticketing`,
    temporalAddress: `127.0.0.1:${p.ports.TEMPORAL_PORT}`,
    ports: p.ports,
    stop,
  };
}
