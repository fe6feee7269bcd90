import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApplicationFailure } from "@temporalio/common";
import { temporal } from "@temporalio/proto";
import { bundleWorkflowCode, type WorkflowBundle } from "@temporalio/worker";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { serviceCredential } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import { silentLogger } from "../../../lib/logger.js";
import { TEST_SERVICE_SECRET } from "../../../test/support/auth.js";
import { bookingWorkflowId, type BookingState } from "../../../workflows/booking-types.js";
import { SA_BOOKING_STATUS } from "../../../workflows/search-attributes.js";
import { createWorkflowWorker } from "../../../workflows/worker.js";
import { SEEDS_LAYOUT, startCatalog, type CatalogHarness } from "../../catalog/test/harness.js";
import { createBookingActivities } from "../activities.js";
import { bookingWorkflows } from "../../../workflows/booking-client.js";
import { workflowInputOf } from "../workflow-starts.js";
import type { ActivityWorker } from "../../../lib/activity-worker.js";
import { BOOKING_WORKFLOW_CODE, ensureReaperSchedule, startActivityWorker, startBookingWorkflowWorker, type Background } from "../worker.js";
import { bookingRow, codeOf, holdDirect, seatRows, seedInventory, startBooking, waitFor, type BookingHarness } from "./harness.js";

/**
 * The booking service with the real booking workflow (workflows/booking.ts), run as production
 * runs it: by the booking service's own worker, its booking activities local, its starts eager;
 * the other workflows (catalog events, the reaper) by the workflow worker, calling the booking
 * activity worker; all on the Temporal dev server, on this suite's queues. The catalog runs
 * in-process for inventory initialisation. No payments worker runs: the workflow only calls
 * payments when a payment intent exists or a refund is due. No notifications or tickets worker
 * runs either: a confirmed booking's tickets wait to be issued (and its confirmation with them),
 * which changes none of the booking's states these tests read; a cancel is carried out anyway.
 */

let h: BookingHarness;
let catalog: CatalogHarness;
let workflowWorker: Awaited<ReturnType<typeof createWorkflowWorker>> | undefined;
let bundle: WorkflowBundle;
let bookingBundle: WorkflowBundle;
/** The booking service's worker of booking workflows (stopped and restarted by a test). */
let bookingWorker: ActivityWorker | undefined;
const quietBundler = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
let workflowRun: Promise<void>;
let activityWorker: Background;
let activities: ReturnType<typeof createBookingActivities>;

beforeAll(async () => {
  h = await startBooking("wf", { confirmWaitMs: 10_000, eagerClient: () => bookingWorker?.client() });
  catalog = await startCatalog({ temporal: h.temporal, relay: { pollMs: 50, taskQueue: h.queues.workflows } });
  // the booking service's own client of the catalog: gRPC with its service credential
  const catalogClient = createServiceClient(CatalogService, catalog.url, serviceCredential(TEST_SERVICE_SECRET, "booking"));
  activities = createBookingActivities({
    repo: h.repo,
    catalog: catalogClient,
    workflows: h.server.workflows,
    logger: silentLogger(),
    reaperGraceSeconds: 0,
  });
  activityWorker = startActivityWorker({
    address: process.env.TEST_TEMPORAL_ADDRESS!,
    namespace: "default",
    taskQueue: h.queues.booking,
    activities,
    logger: silentLogger(),
  });
  [bundle, bookingBundle] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: require.resolve("../../../workflows/index"), logger: quietBundler }),
    bundleWorkflowCode({ workflowsPath: BOOKING_WORKFLOW_CODE, logger: quietBundler }),
  ]);
  workflowWorker = await createWorkflowWorker({ address: process.env.TEST_TEMPORAL_ADDRESS!, namespace: "default", taskQueue: h.queues.workflows, bundle });
  workflowRun = workflowWorker.worker.run();
  await startBookingWorker();
  await activityWorker.ready;
}, 120_000);

async function startBookingWorker(): Promise<void> {
  bookingWorker = startBookingWorkflowWorker({
    address: process.env.TEST_TEMPORAL_ADDRESS!,
    namespace: "default",
    taskQueue: h.queues.bookingWorkflows,
    activities,
    logger: silentLogger(),
    bundle: bookingBundle,
  });
  await bookingWorker.ready;
}

async function stopBookingWorker(): Promise<void> {
  const w = bookingWorker;
  bookingWorker = undefined;
  await w?.close();
}

async function stopWorkflowWorker(): Promise<void> {
  const w = workflowWorker;
  workflowWorker = undefined;
  if (!w) return;
  w.worker.shutdown();
  await workflowRun;
  await w.connection.close();
}

afterAll(async () => {
  await stopBookingWorker();
  await stopWorkflowWorker();
  await activityWorker?.close();
  await catalog?.close();
  await h?.close();
});

const state = (bookingId: string) => h.temporal.workflow.getHandle(bookingWorkflowId(bookingId)).query<BookingState>("state");

/** The event types of a booking workflow's history, and the activity types it scheduled on task queues. */
async function historyOf(bookingId: string) {
  const { events } = await h.temporal.workflow.getHandle(bookingWorkflowId(bookingId)).fetchHistory();
  const E = temporal.api.enums.v1.EventType;
  return {
    markers: events!.filter((e) => e.eventType === E.EVENT_TYPE_MARKER_RECORDED).length,
    scheduled: events!.filter((e) => e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name),
    workflowTasks: events!.filter((e) => e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length,
  };
}

describe("booking lifecycle through the workflow", () => {
  it("the service starts a hold's workflow eagerly on its own worker, whose booking steps are local activities", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const { booking } = await holdDirect(h.repo, { showtimeId, seatIds: ["R4S7", "R4S8"], userId: randomUUID() });
    expect(await h.server.workflows.start(workflowInputOf(booking))).toEqual({ eagerlyStarted: true });
    await h.client.confirmBooking({ bookingId: booking.id, paymentStatus: "paid", paymentIntentId: "pi_local" }, h.service);
    await waitFor("the BookingStatus search attribute", async () => {
      const d = await h.temporal.workflow.getHandle(bookingWorkflowId(booking.id)).describe();
      return d.typedSearchAttributes.get(SA_BOOKING_STATUS) === "confirmed";
    });
    const history = await historyOf(booking.id);
    // confirmBookingSeats ran in the workflow task that got the payment (a marker), not as a task
    // of its own; only the tickets' issuance goes to another service's queue (the confirmation
    // email follows it, and no tickets worker runs here)
    expect(history.scheduled).toEqual(["issueTickets"]);
    expect(history.markers).toBeGreaterThanOrEqual(1);
    // the start's task and the payment's (no tickets worker runs here to complete the third)
    expect(history.workflowTasks).toBe(2);
    expect((await seatRows(h.db, showtimeId)).get("R4S7")).toMatchObject({ status: "booked", booking_id: booking.id });
  });

  it("held → ConfirmBooking (the payment signal) → confirmed: seats booked, the call waits for it; repeating changes nothing", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const owner = await h.user();
    const res = await h.client.reserveSeats({ showtimeId, seatIds: ["R1S1", "R1S2"] }, owner);
    const { booking } = await h.client.confirmBooking({ bookingId: res.bookingId, paymentStatus: "paid", paymentIntentId: "pi_test_1" }, h.service);
    expect(booking).toMatchObject({ status: "confirmed", paymentStatus: "paid" });
    expect(booking!.timestamp).toBeDefined();
    const seats = await seatRows(h.db, showtimeId);
    expect(seats.get("R1S1")).toMatchObject({ status: "booked", booking_id: res.bookingId, holder_id: owner.userId });
    expect((await bookingRow(h.db, res.bookingId)).payment_intent_id).toBe("pi_test_1");
    const again = await h.client.confirmBooking({ bookingId: res.bookingId, paymentStatus: "paid" }, h.service);
    expect(again.booking).toEqual(booking);
    // the workflow records the new status once the activity's result is in
    await waitFor("the BookingStatus search attribute", async () => {
      const d = await h.temporal.workflow.getHandle(bookingWorkflowId(res.bookingId)).describe();
      return d.typedSearchAttributes.get(SA_BOOKING_STATUS) === "confirmed";
    });
  });

  it("held → CancelBooking (the cancel update) → cancelled, seats available, who and why recorded", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const owner = await h.user();
    const res = await h.client.reserveSeats({ showtimeId, seatIds: ["R2S1", "R2S2"] }, owner);
    const { booking } = await h.client.cancelBooking({ bookingId: res.bookingId, reason: "wrong day" }, owner);
    expect(booking).toMatchObject({ status: "cancelled", paymentStatus: "pending" });
    expect((await seatRows(h.db, showtimeId)).get("R2S1")!.status).toBe("available");
    expect(await bookingRow(h.db, res.bookingId)).toMatchObject({ cancelled_by: `user:${owner.userId}`, cancel_reason: "wrong day" });
    expect(await state(res.bookingId)).toMatchObject({ status: "cancelled" });
    // settled: cancelling or confirming again returns it unchanged
    expect((await h.client.cancelBooking({ bookingId: res.bookingId }, owner)).booking!.status).toBe("cancelled");
    expect((await h.client.confirmBooking({ bookingId: res.bookingId, paymentStatus: "paid" }, h.service)).booking!.status).toBe("cancelled");
  });

  it("confirmed → CancelBooking by an admin → cancelled and the seats released (the refund waits for the payments worker)", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const owner = await h.user();
    const res = await h.client.reserveSeats({ showtimeId, seatIds: ["R3S1"] }, owner);
    await h.client.confirmBooking({ bookingId: res.bookingId, paymentStatus: "paid" }, h.service);
    const { booking } = await h.client.cancelBooking({ bookingId: res.bookingId }, h.admin);
    expect(booking).toMatchObject({ status: "cancelled", paymentStatus: "paid" });
    expect((await seatRows(h.db, showtimeId)).get("R3S1")!.status).toBe("available");
    expect((await bookingRow(h.db, res.bookingId)).cancelled_by).toBe(`admin:${h.admin.userId}`);
  });

  it("the workflow's timer releases a hold at heldUntil: booking expired, seats available", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const userId = randomUUID();
    // a 2-second hold (the API's minimum is 60 s), started the way ReserveSeats starts it
    const { booking } = await holdDirect(h.repo, { showtimeId, seatIds: ["R4S1", "R4S2"], userId, holdSeconds: 2 });
    await h.server.workflows.start(workflowInputOf(booking));
    await waitFor("the hold to expire", async () => (await bookingRow(h.db, booking.id)).status === "expired", 15_000);
    const seats = await seatRows(h.db, showtimeId);
    expect(seats.get("R4S1")).toMatchObject({ status: "available", booking_id: null });
  });
});

describe("worker restarted mid-hold", () => {
  afterEach(async () => {
    if (!bookingWorker) await startBookingWorker();
  });

  /** A booking held for `holdSeconds` and its workflow started, as ReserveSeats does. */
  async function held(seatIds: string[], holdSeconds: number) {
    const { showtimeId } = await seedInventory(h.repo);
    const userId = randomUUID();
    const { booking } = await holdDirect(h.repo, { showtimeId, seatIds, userId, holdSeconds });
    await h.server.workflows.start(workflowInputOf(booking));
    await waitFor("the workflow to run", async () => (await state(booking.id).catch(() => undefined))?.status === "held");
    return { bookingId: booking.id, showtimeId };
  }

  it("the payment arrives while no workflow worker runs: the next worker picks the booking up and confirms it", async () => {
    const b = await held(["R1S5", "R1S6"], 120);
    await stopBookingWorker();
    expect(await h.server.workflows.signal(b.bookingId, "paymentSucceeded", { paymentIntentId: "pi_restart" })).toBe("delivered");
    await new Promise((r) => setTimeout(r, 500));
    expect((await bookingRow(h.db, b.bookingId)).status).toBe("held"); // nobody ran it
    await startBookingWorker(); // a new worker: nothing cached, it replays the history
    await waitFor("the booking to be confirmed", async () => (await bookingRow(h.db, b.bookingId)).status === "confirmed", 30_000);
    expect((await seatRows(h.db, b.showtimeId)).get("R1S5")).toMatchObject({ status: "booked", booking_id: b.bookingId });
  });

  it("the hold's timer runs out while no workflow worker runs: the next worker releases the seats", async () => {
    const b = await held(["R2S5"], 3);
    await stopBookingWorker();
    await new Promise((r) => setTimeout(r, 4_000)); // heldUntil passes with nobody to act on it
    expect((await bookingRow(h.db, b.bookingId)).status).toBe("held");
    await startBookingWorker();
    await waitFor("the booking to expire", async () => (await bookingRow(h.db, b.bookingId)).status === "expired", 30_000);
    expect((await seatRows(h.db, b.showtimeId)).get("R2S5")).toMatchObject({ status: "available", booking_id: null });
  });
});

describe("inventory initialisation", () => {
  async function catalogShowtime(startsInHours = 24) {
    const venueId = (await catalog.client.createVenue({ name: `V ${randomUUID()}`, address: { city: "Hyderabad" } }, catalog.admin)).venue!.venueId;
    const hallId = (await catalog.client.createHall({ venueId, hallName: "H", seatLayout: SEEDS_LAYOUT }, catalog.admin)).hall!.hallId;
    const eventId = (await catalog.client.createEvent({ name: "E", durationMinutes: 90 }, catalog.admin)).event!.eventId;
    const startsAt = new Date(Date.now() + startsInHours * 3_600_000);
    const { showtime } = await catalog.client.createShowtime(
      {
        eventId,
        venueId,
        hallId,
        timestamp: timestampFromDate(startsAt),
        currency: "USD",
        prices: [
          { seatType: "premium", amount: 45 },
          { seatType: "standard", amount: 12.5 },
        ],
      },
      catalog.admin,
    );
    return { showtimeId: showtime!.showtimeId, eventId, venueId, hallId, startsAt };
  }

  it("ShowtimeCreated → the catalog's outbox → workflow → initializeInventory: the seat map is there within 5 s", async () => {
    const s = await catalogShowtime();
    const t0 = Date.now();
    const inv = await waitFor(
      "the inventory",
      async () => (await codeOf(h.client.getInventory({ showtimeId: s.showtimeId }))) === "ok" && h.client.getInventory({ showtimeId: s.showtimeId }),
      10_000,
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(inv.seatMap!.seats.map((x) => [x.seatId, x.status])).toEqual([
      ["A1", "available"],
      ["A2", "available"],
      ["B1", "available"],
      ["B2", "available"],
      ["C1", "available"],
      ["C2", "available"],
    ]);
    expect(await h.db("showtime_inventory").where({ showtime_id: s.showtimeId }).first()).toMatchObject({
      event_id: s.eventId,
      venue_id: s.venueId,
      hall_id: s.hallId,
      currency: "USD",
      prices: { premium: 4500, standard: 1250 },
      total_seats: 6,
    });
    // the prices the hold uses
    const res = await h.client.reserveSeats({ showtimeId: s.showtimeId, seatIds: ["A1", "C1"] }, await h.user());
    expect(res.finalAmount).toBe(57.5);
  });

  it("exactly once, even when retried concurrently", async () => {
    const s = await catalogShowtime();
    await waitFor("the outbox's own run", async () => (await h.db("showtime_inventory").where({ showtime_id: s.showtimeId }).first()) !== undefined);
    const results = await Promise.all(Array.from({ length: 4 }, () => activities.initializeInventory({ showtimeId: s.showtimeId })));
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ created: false, seats: 6 })));
    expect(Number((await h.db("inventory_seats").where({ showtime_id: s.showtimeId }).count())[0].count)).toBe(6);
  });

  it("an unknown showtime is a non-retryable failure", async () => {
    const err = await activities.initializeInventory({ showtimeId: randomUUID() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });
});

describe("the hold reaper", () => {
  it("releases lapsed holds whose workflow is gone, leaves those whose workflow runs, reconciles seats", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const orphan = await holdDirect(h.repo, { showtimeId, seatIds: ["R1S5"], holdSeconds: 1 });
    const watched = await holdDirect(h.repo, { showtimeId, seatIds: ["R1S6"], holdSeconds: 1 });
    // its workflow runs on a queue no worker polls: it stays RUNNING, so the reaper must leave it
    await bookingWorkflows(h.temporal, { taskQueue: `${h.queues.workflows}-idle` }).start(workflowInputOf(watched.booking));
    const confirmed = await holdDirect(h.repo, { showtimeId, seatIds: ["R1S7"] });
    await h.repo.holds.confirm(confirmed.booking.id);
    await h.db("inventory_seats").where({ showtime_id: showtimeId, seat_id: "R1S7" }).update({ status: "available", holder_id: null, booking_id: null });
    await new Promise((r) => setTimeout(r, 1_100));

    const result = await activities.reapExpiredHolds({ limit: 100 });
    expect(result.released).toBeGreaterThanOrEqual(1);
    expect(result.reconciled).toBeGreaterThanOrEqual(1);
    expect((await bookingRow(h.db, orphan.booking.id)).status).toBe("expired");
    expect((await bookingRow(h.db, watched.booking.id)).status).toBe("held");
    const seats = await seatRows(h.db, showtimeId);
    expect(seats.get("R1S5")!.status).toBe("available");
    expect(seats.get("R1S7")).toMatchObject({ status: "booked", booking_id: confirmed.booking.id });
    await h.temporal.workflow.getHandle(bookingWorkflowId(watched.booking.id)).terminate("test done");
  });

  it("the schedule runs holdReaperWorkflow, which calls reapExpiredHolds; creating it twice is fine", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const orphan = await holdDirect(h.repo, { showtimeId, seatIds: ["R2S9"], holdSeconds: 1 });
    const scheduleId = `booking-hold-reaper-test-${randomUUID().slice(0, 8)}`;
    const opts = { logger: silentLogger(), scheduleId, taskQueue: h.queues.workflows, every: "2 seconds" };
    const first = ensureReaperSchedule(h.temporal, opts);
    await first.ready;
    const second = ensureReaperSchedule(h.temporal, opts);
    await second.ready;
    try {
      const d = await h.temporal.schedule.getHandle(scheduleId).describe();
      expect(d.action).toMatchObject({ type: "startWorkflow", workflowType: "holdReaperWorkflow", taskQueue: h.queues.workflows });
      await waitFor("the scheduled reaper", async () => (await bookingRow(h.db, orphan.booking.id)).status === "expired", 20_000);
    } finally {
      await first.close();
      await second.close();
      await h.temporal.schedule.getHandle(scheduleId).delete();
    }
  });
});
