/**
 * Acceptance test of the catalog's transactional outbox under a crash: the catalog runs as a real
 * process (`node --import tsx services/catalog/main.ts`, the way `npm start` runs it), 100
 * clients create 100 showtimes concurrently (each with its own Idempotency-Key, retrying with
 * the same key on connection errors), the process is SIGKILLed mid-way and started again. In
 * the end there must be exactly 100 showtimes and exactly 100 ShowtimeCreated workflow
 * executions in Temporal: nothing lost, nothing doubled.
 *
 * Runs against the jest run's embedded Postgres (its own database) and Temporal dev server. The
 * users service is replaced by a minimal stand-in serving the JWKS of the test's token issuer and
 * IsSessionActive → true, which is all the catalog asks of it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Client as TemporalClient, Connection } from "@temporalio/client";
import knexFactory, { type Knex } from "knex";
import { CatalogService } from "../gen/ticketing/catalog/v1/catalog_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { UsersService } from "../gen/ticketing/users/v1/users_pb.js";
import { silentLogger } from "../lib/logger.js";
import { startServer, type RunningServer } from "../lib/server.js";
import { testAuth, TEST_SERVICE_SECRET } from "./support/auth.js";
import { createTestDatabase } from "./support/db.js";
import { freePort } from "./support/ports.js";

const REPO_ROOT = path.resolve(__dirname, "..");
const SHOWTIMES = 100;
/** Kill the process once this many showtimes are committed (and before all of them are). */
const KILL_AFTER = 25;
const JWKS_PATH = "/.well-known/jwks.json";

/** Codes that are the service's final answer; anything else (connection lost, unavailable) is retried. */
const FINAL = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.FailedPrecondition,
]);

interface CatalogProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: string[];
}

function spawnCatalog(env: NodeJS.ProcessEnv): CatalogProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "services/catalog/main.ts"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split("\n").filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("catalog outbox survives a crash (acceptance)", () => {
  let auth: Awaited<ReturnType<typeof testAuth>>;
  let users: RunningServer | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let db: Knex | undefined;
  let temporalConnection: Connection | undefined;
  const processes: CatalogProcess[] = [];

  afterAll(async () => {
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill("SIGTERM");
        await Promise.race([p.exited, sleep(15_000)]);
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      }
    }
    await db?.destroy();
    await database?.drop();
    await users?.close();
    await temporalConnection?.close();
  });

  it(
    "100 concurrent creates, SIGKILL mid-way, restart: exactly 100 showtimes and 100 ShowtimeCreated workflows",
    async () => {
      const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
      if (!temporalAddress) throw new Error("TEST_TEMPORAL_ADDRESS is not set (jest global setup)");
      const testStarted = new Date(Date.now() - 1_000);

      // the users service's part: JWKS and the session check
      auth = await testAuth();
      const jwks = JSON.stringify(auth.issuer.jwks());
      users = await startServer({
        name: "users",
        host: "127.0.0.1",
        port: 0,
        logger: silentLogger(),
        verifier: auth.verifier,
        routes: (router) => router.service(UsersService, { isSessionActive: async () => ({ active: true }) }),
        httpRoutes: (req, res) => {
          if (req.url !== JWKS_PATH) return false;
          res.writeHead(200, { "content-type": "application/jwk-set+json" });
          res.end(jwks);
          return true;
        },
      });

      database = await createTestDatabase("catalog_crash");
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: "test",
        LOG_LEVEL: "warn",
        HOST: "127.0.0.1",
        CATALOG_PORT: String(port),
        DATABASE_URL: database.url,
        DATABASE_POOL_MAX: "5",
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: "default",
        JWT_JWKS_URL: `http://127.0.0.1:${users.port}${JWKS_PATH}`,
        USERS_URL: `http://127.0.0.1:${users.port}`,
        SERVICE_AUTH_SECRET: TEST_SERVICE_SECRET,
        CATALOG_DEMO_DATA: "false",
      };

      const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });
      const catalog = createClient(CatalogService, transport);
      const health = createClient(Health, transport);
      const serving = (p: CatalogProcess) =>
        until(
          "the catalog to serve",
          async () => {
            if (p.child.exitCode !== null) throw new Error(`catalog exited early:\n${p.output.join("\n")}`);
            return (await health.check({ service: "catalog" }, { timeoutMs: 1_000 })).status === HealthCheckResponse_ServingStatus.SERVING;
          },
          60_000,
          100,
        );

      let current = spawnCatalog(env);
      processes.push(current);
      await serving(current);

      const admin = { authorization: `Bearer ${await auth.adminToken()}` };
      const venueId = (await catalog.createVenue({ name: "Crash Test Arena", address: { city: "Hyderabad" } }, { headers: admin })).venue!
        .venueId;
      const hallId = (
        await catalog.createHall(
          { venueId, hallName: "Hall 1", seatLayout: { sections: [{ name: "Main", rows: [{ label: "A", seats: [{ id: "A1" }, { id: "A2" }] }] }] } },
          { headers: admin },
        )
      ).hall!.hallId;
      const eventId = (await catalog.createEvent({ name: "Crash Test Show", category: "Theatre", durationMinutes: 45 }, { headers: admin }))
        .event!.eventId;

      db = knexFactory({ client: "pg", connection: database.url, searchPath: ["catalog"], pool: { min: 0, max: 2 } });
      const committed = async () => Number((await db!("showtimes").where({ hall_id: hallId }).count<{ c: string }[]>("* as c"))[0].c);

      // 100 clients, started 20 ms apart, each retrying with its own key until it gets an answer
      const base = Date.now() + 86_400_000;
      let attempts = 0;
      let retried = 0;
      let replayed = 0;
      const create = async (i: number) => {
        await sleep(i * 20);
        const key = `crash-${randomUUID()}`;
        const body = {
          eventId,
          venueId,
          hallId,
          timestamp: timestampFromDate(new Date(base + i * 3_600_000)), // one hour apart: no overlaps
          currency: "USD",
          prices: [{ seatType: "standard", amount: 12.5 }],
        };
        const deadline = Date.now() + 120_000;
        for (;;) {
          attempts++;
          try {
            const res = await catalog.createShowtime(body, {
              headers: { ...admin, "idempotency-key": key },
              timeoutMs: 10_000,
              onHeader: (h) => void (h.get("idempotent-replayed") === "true" && replayed++),
            });
            return res.showtime!.showtimeId;
          } catch (err) {
            const e = ConnectError.from(err);
            if (FINAL.has(e.code) || Date.now() > deadline) throw e;
            retried++;
            await sleep(100 + Math.random() * 200);
          }
        }
      };
      const clients = Promise.allSettled(Array.from({ length: SHOWTIMES }, (_, i) => create(i)));

      // SIGKILL mid-way: some showtimes committed, others in flight or not sent yet
      await until("some showtimes to be committed", async () => (await committed()) >= KILL_AFTER, 60_000, 10);
      current.child.kill("SIGKILL");
      expect((await current.exited).signal).toBe("SIGKILL");
      const atKill = await committed();
      expect(atKill).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(atKill).toBeLessThan(SHOWTIMES);

      // clients keep retrying against the dead port meanwhile; start it again
      current = spawnCatalog(env);
      processes.push(current);
      await serving(current);

      const results = await clients;
      const failures = results.filter((r) => r.status === "rejected");
      expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
      const ids = results.map((r) => (r as PromiseFulfilledResult<string>).value);
      expect(new Set(ids).size).toBe(SHOWTIMES);
      expect(retried).toBeGreaterThan(0); // the crash was felt

      // exactly 100 showtimes, the ones the clients were told about
      const stored: string[] = await db("showtimes").where({ hall_id: hallId }).pluck("id");
      expect(stored.length).toBe(SHOWTIMES);
      expect(new Set(stored)).toEqual(new Set(ids));

      // exactly one ShowtimeCreated event per showtime, all relayed
      const events = await until(
        "the outbox to drain",
        async () => {
          const rows: Array<{ event_id: string; aggregate_id: string; published_at: Date | null }> = await db!("outbox")
            .where({ event_type: "ShowtimeCreated" })
            .select("event_id", "aggregate_id", "published_at");
          return rows.length === SHOWTIMES && rows.every((r) => r.published_at) ? rows : undefined;
        },
        60_000,
        200,
      );
      expect(new Set(events.map((e) => e.aggregate_id))).toEqual(new Set(ids));

      // exactly 100 showtimeCreatedWorkflow executions for this database's events
      temporalConnection = await Connection.connect({ address: temporalAddress });
      const temporal = new TemporalClient({ connection: temporalConnection, namespace: "default" });
      const ours = new Set(events.map((e) => `ShowtimeCreated-${e.event_id}`));
      const query = `WorkflowType = "showtimeCreatedWorkflow" AND StartTime >= "${testStarted.toISOString()}"`;
      const executions = await until(
        "Temporal's visibility to list every execution",
        async () => {
          const found: Array<{ workflowId: string; runId: string }> = [];
          for await (const wf of temporal.workflow.list({ query })) {
            if (ours.has(wf.workflowId)) found.push({ workflowId: wf.workflowId, runId: wf.runId });
          }
          return found.length >= SHOWTIMES ? found : undefined;
        },
        30_000,
        500,
      );
      expect(executions.length).toBe(SHOWTIMES); // no workflow id ran twice
      expect(new Set(executions.map((e) => e.workflowId))).toEqual(ours);
      for (const id of [...ours].slice(0, 5)) {
        expect((await temporal.workflow.getHandle(id).describe()).type).toBe("showtimeCreatedWorkflow");
      }

      // a graceful stop of the restarted process exits 0
      current.child.kill("SIGTERM");
      expect(await current.exited).toEqual({ code: 0, signal: null });
      console.log(`crash test: ${atKill} showtimes committed at SIGKILL, ${attempts} create attempts, ${retried} retries, ${replayed} replayed responses`);
    },
    240_000,
  );
});
