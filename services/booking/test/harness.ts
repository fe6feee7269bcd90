import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Client as TemporalClient, Connection, WorkflowNotFoundError, type WorkflowExecutionDescription } from "@temporalio/client";
import { DefaultLogger, Runtime } from "@temporalio/worker";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { testAuth } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { recogniseNodeErrors } from "../../../test/support/node-errors.js";
import { waitFor } from "../../../test/support/waiting.js";
import { bookingWorkflowId } from "../../../workflows/booking-types.js";
import { TASK_QUEUES } from "../../../workflows/task-queues.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import type { SeatInit } from "../db/inventory-repo.js";
import type { BookingRepos } from "../db/repos.js";
import { hallGeometry } from "../domain/hall-geometry.js";
import { build, type BookingServer, type BookingServerDeps } from "../server.js";

export type Auth = Awaited<ReturnType<typeof testAuth>>;
export type CallOptions = { headers: Record<string, string> };

/** Quietens the Temporal SDK's own logs for the test process (once per process). */
export function quietTemporal(): void {
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") });
  } catch {
    // already installed in this process by another suite
  }
}

/** A Temporal client of the test run's dev server. */
export async function testTemporal(): Promise<{ client: TemporalClient; address: string; close(): Promise<void> }> {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error("TEST_TEMPORAL_ADDRESS is not set: run the tests with jest (global setup)");
  const connection = await Connection.connect({ address });
  return { client: new TemporalClient({ connection, namespace: "default" }), address, close: () => connection.close() };
}

/**
 * This suite's own task queues: booking workflows on `booking-workflows-<suffix>` (run by the
 * booking service's own worker) and the other workflows on `ticketing-workflows-<suffix>` send
 * their activities to `booking-activities-<suffix>` etc. (workflows/task-queues.ts
 * activityQueue), so suites sharing the Temporal dev server never run each other's tasks.
 */
export function suiteQueues(name: string) {
  const suffix = `-${name}-${randomUUID().slice(0, 8)}`;
  return {
    bookingWorkflows: TASK_QUEUES.bookingWorkflows + suffix,
    workflows: TASK_QUEUES.workflows + suffix,
    booking: TASK_QUEUES.booking + suffix,
    payments: TASK_QUEUES.payments + suffix,
  };
}

export interface BookingHarness {
  url: string;
  db: Knex;
  databaseUrl: string;
  repo: BookingRepos;
  server: BookingServer;
  client: Client<typeof BookingService>;
  auth: Auth;
  temporal: TemporalClient;
  queues: ReturnType<typeof suiteQueues>;
  /** Call options of a (new or given) user; returns the user id too. */
  user(userId?: string): Promise<CallOptions & { userId: string }>;
  /** Call options of a door staff account (checks tickets in; no business with bookings). */
  door(userId?: string): Promise<CallOptions & { userId: string }>;
  admin: CallOptions & { userId: string };
  service: CallOptions;
  close(): Promise<void>;
}

/**
 * The booking service in-process on port 0 with its own database and the real Temporal dev
 * server (booking workflows start on this suite's queue; whether a worker runs them is up to the
 * suite).
 */
export async function startBooking(
  name: string,
  deps: Partial<BookingServerDeps> = {},
): Promise<BookingHarness> {
  quietTemporal();
  recogniseNodeErrors(); // Node's own errors as in production (see there: else a client leaving a stream logs an error)
  const database = await createTestDatabase("booking");
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 30 });
  const auth = await testAuth();
  const temporal = await testTemporal();
  const queues = suiteQueues(name);
  const server = await build({
    db,
    databaseUrl: database.url,
    verifier: auth.verifier,
    temporal: temporal.client,
    workflowTaskQueue: queues.bookingWorkflows,
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    ...deps,
  });
  const url = `http://127.0.0.1:${server.port}`;
  const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
  const adminId = randomUUID();
  return {
    url,
    db,
    databaseUrl: database.url,
    repo: server.repo,
    server,
    client: createClient(BookingService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    auth,
    temporal: temporal.client,
    queues,
    async user(userId = randomUUID()) {
      return { ...bearer(await auth.userToken(userId)), userId };
    },
    /** A door staff account (checks tickets in; no business with bookings). */
    async door(userId = randomUUID()) {
      return { ...bearer(await auth.doorToken(userId)), userId };
    },
    admin: { ...bearer(await auth.adminToken(adminId)), userId: adminId },
    service: bearer(await auth.serviceToken("payments")),
    async close() {
      await server.close().catch(() => undefined);
      await temporal.close();
      await db.destroy();
      await database.drop();
    },
  };
}

/**
 * `R<row>S<seat>` ids of a grid hall, in layout order; the first `premiumRows` rows are premium.
 * Each seat has its geometry as initialisation computes it (row 1 nearest the stage), unless
 * `geometry` is false (an inventory initialised before seats had one).
 */
export function gridSeats(rows: number, perRow: number, premiumRows = 0, geometry = true): SeatInit[] {
  const seats = Array.from({ length: rows * perRow }, (_, i) => ({
    seatId: `R${Math.floor(i / perRow) + 1}S${(i % perRow) + 1}`,
    seatType: Math.floor(i / perRow) < premiumRows ? "premium" : "standard",
    section: "main",
    row: Math.floor(i / perRow),
    index: i % perRow,
    x: i % perRow,
    y: Math.floor(i / perRow),
  }));
  if (!geometry) return seats.map(({ seatId, seatType }) => ({ seatId, seatType }));
  return hallGeometry(seats).map(({ seatId, seatType, ...g }) => ({ seatId, seatType, geometry: g }));
}

/**
 * A showtime's inventory written directly (what initializeInventory writes). The orphan-seat
 * rule (on by default in production) is off unless `avoidSingleSeats`: the suites written before
 * it choose seats for what they test (timers, workflows, streams), not for their neighbours;
 * best-available.test.ts and the RPC tests of the rule switch it on.
 */
export async function seedInventory(
  repo: BookingRepos,
  opts: { rows?: number; perRow?: number; premiumRows?: number; startsAt?: Date; currency?: string; eventId?: string; geometry?: boolean;
    avoidSingleSeats?: boolean } = {},
): Promise<{ showtimeId: string; eventId: string; seatIds: string[] }> {
  const showtimeId = randomUUID();
  const eventId = opts.eventId ?? randomUUID();
  const seats = gridSeats(opts.rows ?? 4, opts.perRow ?? 10, opts.premiumRows ?? 1, opts.geometry ?? true);
  await repo.inventory.createInventory(
    {
      showtimeId,
      eventId,
      venueId: randomUUID(),
      hallId: randomUUID(),
      startsAt: opts.startsAt ?? new Date(Date.now() + 7 * 86_400_000),
      currency: opts.currency ?? "USD",
      prices: { premium: 4500, standard: 2500 },
    },
    seats,
  );
  if (!opts.avoidSingleSeats) await repo.inventory.setAvoidSingleSeats(showtimeId, false);
  return { showtimeId, eventId, seatIds: seats.map((s) => s.seatId) };
}

/** A hold straight through the repository (any length, e.g. 1 s for expiry tests). */
export async function holdDirect(
  repo: BookingRepos,
  opts: { showtimeId: string; seatIds: string[]; userId?: string; holdSeconds?: number; maxHeldPerUser?: number },
) {
  return repo.holds.db.transaction((trx) =>
    repo.holds.hold(trx, {
      bookingId: randomUUID(),
      showtimeId: opts.showtimeId,
      userId: opts.userId ?? randomUUID(),
      seatIds: opts.seatIds,
      holdSeconds: opts.holdSeconds ?? 600,
      maxHeldPerUser: opts.maxHeldPerUser ?? 100,
    }),
  );
}

/** Seat rows as stored, by id. */
export async function seatRows(db: Knex, showtimeId: string) {
  const rows: Array<{ seat_id: string; status: string; holder_id: string | null; booking_id: string | null; held_until: Date | null }> =
    await db("inventory_seats").where({ showtime_id: showtimeId }).select("seat_id", "status", "holder_id", "booking_id", "held_until");
  return new Map(rows.map((r) => [r.seat_id, r]));
}

export async function bookingRow(db: Knex, id: string) {
  return db("bookings").where({ id }).first();
}

export { errorOf, codeOf, waitFor } from "../../../test/support/waiting.js";

/**
 * The booking's workflow once it exists: a hold answers before its workflow is started
 * (services/booking/workflow-starts.ts), so a test that looks at the workflow waits for it.
 */
export async function startedWorkflow(temporal: TemporalClient, bookingId: string, timeoutMs = 20_000): Promise<WorkflowExecutionDescription> {
  return waitFor(
    `the workflow of booking ${bookingId}`,
    () =>
      temporal.workflow
        .getHandle(bookingWorkflowId(bookingId))
        .describe()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }),
    timeoutMs,
  );
}
