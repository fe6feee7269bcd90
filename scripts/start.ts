/**
 * `npm start`: the whole platform on this machine with one command and nothing installed by hand.
 *
 *   1. Postgres: DATABASE_URL if set, else embedded Postgres (data in $DATA_DIR/postgres).
 *   2. Temporal: TEMPORAL_ADDRESS if set, else the Temporal dev server (state in $DATA_DIR/temporal.db).
 *   3. Every service that exists (services/<name>/main.ts, workflows/worker.ts), each its own process;
 *      with REPLICAS=n (or REPLICAS_GATEWAY, _BOOKING, _PAYMENTS, _WORKFLOWS), n processes of those
 *      tiers, replica k on its port + k × 100, the others reaching them through <NAME>_URL's list.
 *   4. The browser app, built into web/dist when missing or stale (scripts/web-build.ts), served by the gateway.
 *   5. Waits for every gateway's /healthz, prints where everything is, and a `READY gateway=<url>` line
 *      (the first gateway's).
 *
 * Ctrl-C / SIGTERM stops services first (SIGTERM, SIGKILL after 10 s), then Temporal, then Postgres, and exits
 * 0. A second Ctrl-C kills everything at once. If a service dies, everything stops and we exit 1.
 *
 * Every child runs in its own process group (so the terminal's Ctrl-C reaches only us and we decide the
 * order), and an orphan guard (scripts/orphan-guard.js) stops those groups if this process is SIGKILLed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SERVICE_NAMES, portEnvVar, urlEnvVar, type ServiceName } from "../lib/services";
import {
  AbortedError,
  assertPortsFree,
  generateDevJwtKey,
  resolveTemporalCli,
  settlesWithin,
  spawnManaged,
  startEmbeddedPostgres,
  startProcessGuard,
  startTemporalDevServer,
  startTemporalViaSdk,
  type ManagedProcess,
  type ProcessGuard,
  type RunningPostgres,
  type RunningTemporal,
} from "./dev-infra";
import { ConfigError, SCALED_TIERS, configFromEnvironment, replicaPorts, type ScaledTier, type StartConfig } from "./start-config";
import { waitForHealthy } from "./start-health";
import { colour, complain, elapsed, printLine, say } from "./start-output";
import { ensureWebBuilt } from "./web-build";

const REPO_ROOT = path.resolve(__dirname, "..");

// ═══════════════════════ Timings ═══════════════════════

/** A service gets this long to shut down after SIGTERM before its process group is SIGKILLed. */
const SERVICE_STOP_TIMEOUT_MS = 10_000;
/**
 * `npm start` forwards SIGINT to us and the terminal sends it to the whole foreground group as well, so one
 * Ctrl-C can arrive twice. Only a signal this long after the first one counts as the impatient second Ctrl-C.
 */
const REPEATED_SIGNAL_WINDOW_MS = 1_000;

// ═══════════════════════ The stack ═══════════════════════

interface ChildSpec {
  /** The tier's name (a service, `workflows`, `gateway`), with `-<k>` for its k-th replica from the second on. */
  name: string;
  tier: string;
  /** Entry file, relative to the repository root. */
  file: string;
  /** The port this process listens on, when it has one. */
  port?: number;
}

/**
 * Services that exist right now, backends first, the gateway last; each scaled tier as many
 * times as it has replicas (REPLICAS, REPLICAS_<TIER>), each replica on its own port.
 */
function discoverChildren(config: StartConfig): ChildSpec[] {
  const candidates = [
    ...SERVICE_NAMES.map((name) => ({ tier: name as string, file: `services/${name}/main.ts`, port: config.services[name].port as number | undefined })),
    { tier: "workflows", file: "workflows/worker.ts", port: undefined },
    { tier: "gateway", file: "services/gateway/main.ts", port: config.gatewayPort },
  ];
  return candidates
    .filter((spec) => fs.existsSync(path.join(REPO_ROOT, spec.file)))
    .flatMap((spec) => {
      const n = (SCALED_TIERS as readonly string[]).includes(spec.tier) ? config.replicas[spec.tier as ScaledTier] : 1;
      const ports = spec.port === undefined ? [] : replicaPorts(spec.port, n);
      return Array.from({ length: n }, (_, k) => ({ ...spec, name: k === 0 ? spec.tier : `${spec.tier}-${k + 1}`, port: ports[k] }));
    });
}

class Stack {
  private readonly startup = new AbortController();
  private readonly children: ManagedProcess[] = [];
  private guard?: ProcessGuard;
  private postgres?: RunningPostgres;
  private temporal?: RunningTemporal;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private forced = false;

  constructor(
    private readonly config: StartConfig,
    private readonly specs: ChildSpec[],
  ) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  start(): Promise<void> {
    this.starting ??= this.startEverything();
    return this.starting;
  }

  /** Orderly stop, then exit: services, Temporal, Postgres. Idempotent. */
  shutdown(reason: string, exitCode: number): Promise<void> {
    this.stopping ??= this.stopEverything(reason, exitCode);
    return this.stopping;
  }

  /** The impatient path (second Ctrl-C): SIGKILL every process group we started, then exit. */
  async forceStop(): Promise<never> {
    complain("stopping NOW: killing every process");
    this.forced = true;
    this.guard?.killAll();
    // reap them before we go, so that the guard finds nothing left (zombies would keep it waiting)
    const processes = [...this.children, this.temporal?.process, this.postgres?.process];
    await settlesWithin(Promise.all(processes.map((proc) => proc?.exited)), 3_000);
    await settlesWithin(this.guard?.close() ?? Promise.resolve(), 3_000);
    process.exit(130);
  }

  private async startEverything(): Promise<void> {
    const { config } = this;
    const signal = this.startup.signal;
    ensureDataDir(config.dataDir);
    this.guard = await startProcessGuard();
    await assertPortsFree(this.portsWeBind());

    // the browser app builds (when missing or stale) while the engines start; the gateway serves it
    const webBuild = ensureWebBuilt((line) => printLine("web", line), signal).then(
      (outcome) => say(outcome === "built" ? "web app built (web/dist)" : "web app up to date (web/dist)"),
      (err: unknown) => {
        if (!signal.aborted) complain(`the web app could not be built; the API runs without it. ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    await this.startInfrastructure(signal);
    const jwtKeyFile =
      config.jwtPrivateKeyFile ?? generateDevJwtKey(path.join(config.dataDir, "dev-keys", "jwt-ed25519.pem"));
    const env = this.childEnv(jwtKeyFile);
    for (const spec of this.specs) {
      if (spec.tier === "gateway") await webBuild;
      if (signal.aborted) throw new AbortedError();
      this.children.push(await this.spawnChild(spec, env));
    }
    if (this.specs.length === 0) say("no service exists yet (services/<name>/main.ts); only the infrastructure runs");

    const gateways = this.specs.filter((spec) => spec.tier === "gateway");
    const hasGateway = gateways.length > 0;
    if (hasGateway) {
      // each gateway's /healthz asks every replica of every backend
      for (const gateway of gateways) await waitForHealthy(`http://127.0.0.1:${gateway.port}/healthz`, config.healthTimeoutMs, signal);
    } else {
      complain("services/gateway/main.ts does not exist: nothing to health-check, and no gateway to use");
    }
    this.printBanner(hasGateway);
  }

  private portsWeBind(): Array<{ name: string; port: number }> {
    const { config } = this;
    const ports: Array<{ name: string; port: number }> = [];
    if (!config.databaseUrl) ports.push({ name: "embedded Postgres (EMBEDDED_PG_PORT)", port: config.embeddedPgPort });
    if (!config.temporalAddress) {
      ports.push({ name: "Temporal (TEMPORAL_PORT)", port: config.temporalPort });
      ports.push({ name: "Temporal UI (TEMPORAL_UI_PORT)", port: config.temporalUiPort });
    }
    for (const spec of this.specs) {
      if (spec.port !== undefined) ports.push({ name: `${spec.name} (${portEnvVar(spec.tier as ServiceName | "gateway")})`, port: spec.port });
    }
    return ports;
  }

  /** Postgres and Temporal start in parallel; the first failure aborts the other. */
  private async startInfrastructure(signal: AbortSignal): Promise<void> {
    const abortOthers = (err: unknown): never => {
      this.startup.abort();
      throw err;
    };
    const results = await Promise.allSettled([
      this.startDatabase(signal).catch(abortOthers),
      this.startTemporal(signal).catch(abortOthers),
    ]);
    const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    if (failures.length > 0) throw failures.find((err) => !(err instanceof AbortedError)) ?? failures[0];
  }

  private async startDatabase(signal: AbortSignal): Promise<void> {
    if (this.config.databaseUrl) {
      say(`Postgres: using DATABASE_URL (${redactUrl(this.config.databaseUrl)})`);
      return;
    }
    const started = Date.now();
    this.postgres = await startEmbeddedPostgres({
      dataDir: path.join(this.config.dataDir, "postgres"),
      port: this.config.embeddedPgPort,
      maxConnections: this.config.embeddedPgMaxConnections,
      onLog: (line) => printLine("postgres", line),
      guard: this.guard,
      signal,
    });
    say(`Postgres ready on 127.0.0.1:${this.config.embeddedPgPort} in ${elapsed(started)}`);
  }

  private async startTemporal(signal: AbortSignal): Promise<void> {
    const { config } = this;
    if (config.temporalAddress) {
      say(`Temporal: using TEMPORAL_ADDRESS (${config.temporalAddress})`);
      return;
    }
    const started = Date.now();
    const onLog = (line: string): void => printLine("temporal", line);
    const options = {
      port: config.temporalPort,
      uiPort: config.temporalUiPort,
      dbFile: path.join(config.dataDir, "temporal.db"),
      namespace: config.temporalNamespace,
      onLog,
      signal,
    };
    const cli = await resolveTemporalCli({ onLog });
    if (cli) {
      this.temporal = await startTemporalDevServer({ ...options, cli, guard: this.guard });
    } else {
      complain("no temporal CLI and pip could not install one; letting the Temporal SDK download a dev server");
      this.temporal = await startTemporalViaSdk(options);
    }
    say(`Temporal ready on ${this.temporal.address} in ${elapsed(started)} (UI ${this.temporal.uiUrl})`);
  }

  private childEnv(jwtKeyFile: string): NodeJS.ProcessEnv {
    const { config } = this;
    const env: NodeJS.ProcessEnv = {
      ...config.inheritedEnv,
      NODE_ENV: config.nodeEnv,
      DATABASE_URL: config.databaseUrl ?? this.postgres?.url,
      TEMPORAL_ADDRESS: config.temporalAddress ?? this.temporal?.address,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      JWT_PRIVATE_KEY_FILE: jwtKeyFile,
      JWT_JWKS_URL: config.jwksUrl,
      BOOTSTRAP_ADMIN_EMAIL: config.admin.email,
      BOOTSTRAP_ADMIN_PASSWORD: config.admin.password,
      BOOTSTRAP_DOOR_EMAIL: config.door.email,
      BOOTSTRAP_DOOR_PASSWORD: config.door.password,
      [portEnvVar("gateway")]: String(config.gatewayPort),
      // the gateway's /healthz waits for the backends that exist in this checkout
      GATEWAY_SERVICES:
        config.inheritedEnv.GATEWAY_SERVICES ?? [...new Set(this.specs.map((spec) => spec.tier))].filter(isServiceName).join(","),
      // the demo venues, events and showtimes (idempotent: loading twice adds nothing)
      CATALOG_DEMO_DATA: config.inheritedEnv.CATALOG_DEMO_DATA ?? "true",
      // the web app links admins to a booking's workflow in the Temporal UI
      TEMPORAL_UI_URL: config.inheritedEnv.TEMPORAL_UI_URL ?? this.temporal?.uiUrl,
      // the development payment provider sends its signed webhooks to our own gateway
      PAYMENTS_WEBHOOK_URL:
        config.inheritedEnv.PAYMENTS_WEBHOOK_URL ?? `http://127.0.0.1:${config.gatewayPort}/api/v1/payments/webhook`,
    };
    for (const name of SERVICE_NAMES) {
      env[portEnvVar(name)] = String(config.services[name].port);
      env[urlEnvVar(name)] = config.services[name].url;
    }
    return env;
  }

  private async spawnChild(spec: ChildSpec, env: NodeJS.ProcessEnv): Promise<ManagedProcess> {
    const child = await spawnManaged({
      name: spec.name,
      command: process.execPath,
      args: ["--import", "tsx", spec.file],
      cwd: REPO_ROOT,
      // a replica listens on its own port; the others reach it through <NAME>_URL's list
      env: spec.port === undefined ? env : { ...env, [portEnvVar(spec.tier as ServiceName | "gateway")]: String(spec.port) },
      stopSignal: "SIGTERM",
      stopTimeoutMs: SERVICE_STOP_TIMEOUT_MS,
      onLine: (line, stream) => printLine(spec.name, line, stream),
      guard: this.guard,
    });
    say(`started ${spec.name} (pid ${child.pid}): ${spec.file}`);
    void child.exited.then(({ code, signal }) => {
      if (this.isStopping) return;
      complain(`${spec.name} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`);
      void this.shutdown(`${spec.name} died`, 1);
    });
    return child;
  }

  private async stopEverything(reason: string, exitCode: number): Promise<void> {
    say(`${reason}: stopping`);
    this.startup.abort();
    try {
      // an interrupted start-up stops what it had half-started itself; let it unwind first
      if (this.starting) await settlesWithin(this.starting, 60_000);
      await Promise.all(this.children.map((child) => this.stopChild(child)));
      if (this.temporal) await timed("Temporal", () => this.temporal?.stop());
      if (this.postgres) await timed("Postgres", () => this.postgres?.stop());
      await this.guard?.close();
      say("stopped");
    } catch (err) {
      complain(`error while stopping: ${err instanceof Error ? err.message : String(err)}; killing what is left`);
      this.guard?.killAll();
      exitCode = 1;
    } finally {
      // after a forced stop, this orderly path may finish first (everything is dead): still not a clean exit
      process.exit(this.forced ? 130 : exitCode);
    }
  }

  private async stopChild(child: ManagedProcess): Promise<void> {
    const started = Date.now();
    await child.stop();
    const info = child.exitInfo();
    const how = info?.signal ? `signal ${info.signal}` : `exit code ${info?.code ?? "?"}`;
    say(`${child.name} stopped in ${elapsed(started)} (${how})`);
  }

  private printBanner(hasGateway: boolean): void {
    const { config } = this;
    const gateway = `http://127.0.0.1:${config.gatewayPort}`;
    const gateways = this.specs.filter((spec) => spec.tier === "gateway").map((spec) => `http://127.0.0.1:${spec.port}`);
    const password = config.admin.passwordFromEnv ? "(BOOTSTRAP_ADMIN_PASSWORD)" : config.admin.password;
    const database = config.databaseUrl
      ? `${redactUrl(config.databaseUrl)} (DATABASE_URL)`
      : `${redactUrl(this.postgres?.url ?? "")} (embedded, data in ${path.join(config.dataDir, "postgres")})`;
    const temporal = this.temporal
      ? `${this.temporal.address} (dev server, state in ${path.join(config.dataDir, "temporal.db")})`
      : `${config.temporalAddress ?? "?"} (TEMPORAL_ADDRESS)`;
    const rows: Array<[string, string]> = [
      ["Web app", hasGateway ? `${gateway}/` : "-"],
      ["Gateway", hasGateway ? gateways.join(", ") : "not started (services/gateway/main.ts missing)"],
      ["REST API", hasGateway ? `${gateway}/api/v1` : "-"],
      ["Temporal UI", this.temporal?.uiUrl ?? "-"],
      ["Temporal", `${temporal}, namespace ${config.temporalNamespace}`],
      ["Postgres", database],
      ["Admin login", `${config.admin.email} / ${password}`],
      ["Door login", `${config.door.email} / ${config.door.passwordFromEnv ? "(BOOTSTRAP_DOOR_PASSWORD)" : config.door.password}`],
      ["Services", this.specs.map((spec) => spec.name).join(", ") || "none yet"],
    ];
    const rule = "─".repeat(72);
    const lines = [
      rule,
      "  Ticketing platform is up (development)",
      "",
      ...rows.map(([key, value]) => `  ${key.padEnd(12)} ${value}`),
      "",
      "  Ctrl-C to stop",
      rule,
    ];
    process.stdout.write(lines.map((line) => colour(1, line)).join("\n") + "\n");
    // the one line scripts and tests wait for; keep its format stable
    process.stdout.write(`READY gateway=${hasGateway ? gateway : "none"}\n`);
  }
}

// ═══════════════════════ Helpers ═══════════════════════

function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

/** Creates the data dir world-enterable: Postgres runs as another user when we are root. */
function ensureDataDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755); // whatever the umask
}

async function timed(what: string, stop: () => Promise<void> | undefined): Promise<void> {
  const started = Date.now();
  say(`stopping ${what}`);
  await stop();
  say(`${what} stopped in ${elapsed(started)}`);
}


function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

// ═══════════════════════ Main ═══════════════════════

function installSignalHandlers(stack: Stack): void {
  let firstSignalAt: number | undefined;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (firstSignalAt === undefined) {
        firstSignalAt = Date.now();
        void stack.shutdown(`received ${signal} (Ctrl-C again to kill everything at once)`, 0);
      } else if (Date.now() - firstSignalAt > REPEATED_SIGNAL_WINDOW_MS) {
        void stack.forceStop();
      }
    });
  }
  // a bug in this script must not leave the stack running
  process.on("uncaughtException", (err) => {
    complain(`internal error: ${err.stack ?? String(err)}`);
    void stack.shutdown("internal error", 1);
  });
  process.on("unhandledRejection", (err) => {
    complain(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void stack.shutdown("internal error", 1);
  });
  // Output can vanish under us (`npm start | head`: EPIPE; a closed terminal: EIO, with a SIGHUP that stops
  // us anyway). Nobody is left to read an error about it, and throwing would only disturb the shutdown.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
}

async function main(): Promise<void> {
  let config: StartConfig;
  try {
    config = configFromEnvironment();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    complain(err.message);
    process.exit(2);
  }
  const stack = new Stack(config, discoverChildren(config));
  installSignalHandlers(stack);
  try {
    await stack.start();
  } catch (err) {
    if (stack.isStopping) return; // start-up was interrupted on purpose
    complain(`start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await stack.shutdown("start-up failed", 1);
  }
}

void main();
