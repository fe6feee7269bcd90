/**
 * The whole platform for benchmarks and the screenshot script, started the way a user starts it
 * (scripts/start.ts: every service its own process) on free ports with throw-away data, and
 * stopped afterwards. Logs at `warn`; no demo data unless asked (CATALOG_DEMO_DATA=true).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { SERVICE_NAMES, portEnvVar, urlEnvVar } from "../lib/services";
import { freePort } from "./ports";

const REPO_ROOT = path.resolve(__dirname, "..");

export interface Stack {
  gateway: string;
  databaseUrl: string;
  temporalAddress: string;
  ports: Record<string, number>;
  stop(): Promise<void>;
}

export async function startStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-stack-"));
  fs.chmodSync(dataDir, 0o755); // embedded Postgres runs as `postgres` when we are root
  const ports: Record<string, number> = {};
  for (const name of [portEnvVar("gateway"), ...SERVICE_NAMES.map(portEnvVar), "EMBEDDED_PG_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT"]) {
    ports[name] = await freePort();
  }
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, HOST: "127.0.0.1", LOG_LEVEL: "warn", CATALOG_DEMO_DATA: "false", ...extraEnv };
  for (const name of ["DATABASE_URL", "TEMPORAL_ADDRESS", "JWT_JWKS_URL", "JWT_PRIVATE_KEY_FILE", "NODE_ENV"]) delete env[name];
  for (const name of SERVICE_NAMES) delete env[urlEnvVar(name)];
  for (const [name, port] of Object.entries(ports)) env[name] = String(port);

  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const gateway = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack not ready in 180 s:\n${tail.join("\n")}`)), 180_000);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const m = /^READY gateway=(\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    readline.createInterface({ input: child.stdout }).on("line", onLine);
    readline.createInterface({ input: child.stderr }).on("line", onLine);
    void exited.then(() => reject(new Error(`stack exited before READY:\n${tail.join("\n")}`)));
  });
  return {
    gateway,
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${ports.EMBEDDED_PG_PORT}/ticketing`,
    temporalAddress: `127.0.0.1:${ports.TEMPORAL_PORT}`,
    ports,
    async stop() {
      child.kill("SIGINT");
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
