import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { bundleWorkflowCode, type WorkflowBundle } from "@temporalio/worker";
import { AdmissionService } from "../../../gen/ticketing/admission/v1/admission_pb.js";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { ActivityWorker } from "../../../lib/activity-worker.js";
import { AdmissionTokens, DEV_ADMISSION_TOKEN_SECRET } from "../../../lib/admission-tokens.js";
import { serviceCredential } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { TEST_SERVICE_SECRET } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { gridSeats, startBooking, type BookingHarness, type CallOptions } from "../../booking/test/harness.js";
import { startCatalog, type CatalogHarness } from "../../catalog/test/harness.js";
import { createAdmissionActivities } from "../activities.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import type { AdmissionRepo } from "../db/repo.js";
import { build, type AdmissionServer } from "../server.js";
import { waitingRoomWorkflowId } from "../../../workflows/waiting-room-types.js";
import { admissionQueue, startAdmissionWorker, WAITING_ROOM_WORKFLOW_CODE } from "../worker.js";

export const TICK_MS = 100;

/** The bundler's chatter stays out of the test output. */
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export interface AdmissionStack {
  /** The REAL booking service (its gate and ReserveSeats), with its own database. */
  booking: BookingHarness;
  /** The REAL catalog (showtimes' start times). */
  catalog: CatalogHarness;
  db: Knex;
  repo: AdmissionRepo;
  server: AdmissionServer;
  client: Client<typeof AdmissionService>;
  tokens: AdmissionTokens;
  queue: string;
  admin: CallOptions;
  user(): Promise<CallOptions & { userId: string }>;
  /** A showtime in the catalog (starting in `startsInHours`) with its booking inventory (2 rows of 10). */
  showtime(startsInHours?: number): Promise<{ showtimeId: string; startsAt: Date; seatIds: string[] }>;
  /** Starts a gate-workflow worker (the suite's queue); resolves once it polls. */
  startWorker(): Promise<ActivityWorker>;
  close(): Promise<void>;
}

/**
 * The admission service in-process on port 0 with its own database, the real booking and catalog
 * services, the Temporal dev server, and its gate workflows on a queue of the suite's own
 * (ticking every TICK_MS). The worker is started by the suite (startWorker), so a suite can stop
 * it and start another mid-on-sale.
 */
export async function startAdmissionStack(name: string): Promise<AdmissionStack> {
  const [booking, catalog, database, bundle] = await Promise.all([
    startBooking(`admission-${name}`),
    startCatalog(),
    createTestDatabase("admission"),
    bundleWorkflowCode({ workflowsPath: WAITING_ROOM_WORKFLOW_CODE, logger: quiet as never }) as Promise<WorkflowBundle>,
  ]);
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 20 });
  const credential = serviceCredential(TEST_SERVICE_SECRET, "admission");
  const tokens = new AdmissionTokens(DEV_ADMISSION_TOKEN_SECRET);
  const queue = admissionQueue(`${name}-${randomUUID().slice(0, 8)}`);
  const logger = silentLogger();
  const bookingClient = createServiceClient(BookingService, booking.url, credential);
  const server = await build({
    db,
    databaseUrl: database.url,
    verifier: booking.auth.verifier,
    tokens,
    catalog: createServiceClient(CatalogService, catalog.url, credential),
    temporal: booking.temporal,
    workflow: { taskQueue: queue, tickMs: TICK_MS, stepsPerRun: 50 },
    logger,
    host: "127.0.0.1",
    port: 0,
    booking: bookingClient,
  });
  const activities = createAdmissionActivities({ repo: server.repo, booking: bookingClient, logger });
  const workers: ActivityWorker[] = [];
  let shows = 0;
  const showtimeIds: string[] = [];
  const url = `http://127.0.0.1:${server.port}`;
  const venueId = (await catalog.client.createVenue({ name: `Venue ${randomUUID()}`, address: { city: "Pune" } }, catalog.admin)).venue!.venueId;
  const seats = gridSeats(2, 10);
  const layout = {
    sections: [
      {
        id: "s",
        name: "S",
        rows: [1, 2].map((r) => ({
          label: `R${r}`,
          seats: seats.filter((s) => s.seatId.startsWith(`R${r}S`)).map((s, i) => ({ id: s.seatId, label: s.seatId, coordinates: { x: i, y: r }, seatType: "standard" })),
        })),
      },
    ],
  };
  const hallId = (await catalog.client.createHall({ venueId, hallName: `Hall ${randomUUID()}`, seatLayout: layout }, catalog.admin)).hall!.hallId;
  const eventId = (await catalog.client.createEvent({ name: `Event ${randomUUID()}`, durationMinutes: 120 }, catalog.admin)).event!.eventId;

  return {
    booking,
    catalog,
    db,
    repo: server.repo,
    server,
    client: createClient(AdmissionService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    tokens,
    queue,
    admin: booking.admin,
    user: () => booking.user(),
    async showtime(startsInHours = 24) {
      // a hall takes one show at a time: each showtime of the suite 3 hours after the last
      const startsAt = new Date(Date.now() + (startsInHours + 3 * shows++) * 3_600_000);
      const res = await catalog.client.createShowtime(
        { eventId, venueId, hallId, timestamp: timestampFromDate(startsAt), currency: "USD", prices: [{ seatType: "standard", amount: 10 }] },
        catalog.admin,
      );
      const showtimeId = res.showtime!.showtimeId;
      showtimeIds.push(showtimeId);
      await booking.repo.inventory.createInventory(
        { showtimeId, eventId, venueId, hallId, startsAt, currency: "USD", prices: { standard: 1000 } },
        seats,
      );
      return { showtimeId, startsAt, seatIds: seats.map((s) => s.seatId) };
    },
    async startWorker() {
      const w = startAdmissionWorker({ address: process.env.TEST_TEMPORAL_ADDRESS!, namespace: "default", taskQueue: queue, activities, logger, bundle });
      workers.push(w);
      await w.ready;
      return w;
    },
    async close() {
      // the rooms' workflows would otherwise tick on in the shared dev server until their shows
      await Promise.all(showtimeIds.map((id) => booking.temporal.workflow.getHandle(waitingRoomWorkflowId(id)).terminate().catch(() => undefined)));
      for (const w of workers) await w.close();
      await server.close();
      await db.destroy();
      await database.drop();
      await catalog.close();
      await booking.close();
    },
  };
}

/** The first `n` messages of a server stream (then leaves it). */
export async function take<T>(stream: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const m of stream) {
    out.push(m);
    if (out.length >= n) break;
  }
  return out;
}

export { codeOf, errorOf, waitFor } from "../../../test/support/waiting.js";
