import { randomUUID } from "node:crypto";
import { silentLogger } from "../../../lib/logger.js";
import { bookingWorkflowId, type BookingWorkflowInput } from "../../../workflows/booking-types.js";
import { createBookingActivities } from "../activities.js";
import { REAP_AFTER_FAILED_STARTS } from "../db/reconciliation-repo.js";
import { bookingWorkflows, type BookingWorkflows } from "../../../workflows/booking-client.js";
import { workflowInputOf, WorkflowStarter } from "../workflow-starts.js";
import { bookingRow, holdDirect, seedInventory, startBooking, startedWorkflow, waitFor, type BookingHarness } from "./harness.js";

/**
 * The starter of booking workflows (workflow-starts.ts) on real Postgres and the real Temporal
 * dev server: holds answer before their workflow starts, so the starter must start each one
 * exactly once, across replicas, through crashes and outages. No worker runs this suite's
 * workflows: they stay RUNNING and are terminated at the end.
 */

/** Counts every start call per booking, on the way to the real Temporal client. */
function counting(inner: () => BookingWorkflows) {
  const starts = new Map<string, number>();
  let failNext = 0;
  let delayMs = 0;
  let gate: Promise<void> | undefined;
  const startWaiters: Array<() => void> = [];
  const workflows: BookingWorkflows = {
    async start(input) {
      starts.set(input.bookingId, (starts.get(input.bookingId) ?? 0) + 1);
      startWaiters.splice(0).forEach((wake) => wake());
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (gate) await gate;
      if (failNext > 0) {
        failNext--;
        throw new Error("injected: Temporal did not answer");
      }
      return inner().start(input);
    },
    signal: (id, name, e) => inner().signal(id, name, e),
    cancel: (id, r) => inner().cancel(id, r),
    isRunning: (id) => inner().isRunning(id),
  };
  /** Starts wait until the returned function is called. */
  const holdStarts = (): (() => void) => {
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    return () => {
      gate = undefined;
      release();
    };
  };
  /** Resolves once `done()` holds, looked at after every start call (an event, not a poll). */
  const untilStarts = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise<void>((wake) => startWaiters.push(wake));
  };
  return {
    workflows,
    starts,
    failNextStarts: (n: number) => (failNext = n),
    delayStarts: (ms: number) => (delayMs = ms),
    holdStarts,
    untilStarts,
  };
}

let h: BookingHarness;
let real: BookingWorkflows;
const calls = counting(() => real);

beforeAll(async () => {
  h = await startBooking("starts", { workflows: calls.workflows });
  // The service's own starter claims from the same table through the same counting client, and
  // wakes by itself (its poll, and whenever a lease it saw runs out). Left running, it could claim
  // a test's rows in the middle of it, so it is stopped: the starters a test makes do the work,
  // and the one test about the service's starter starts it for itself.
  await h.server.starter.stop();
  real = bookingWorkflows(h.temporal, { taskQueue: h.queues.bookingWorkflows });
});
afterAll(async () => {
  await h?.close();
});

const started: string[] = [];
afterAll(async () => {
  await Promise.all(started.map((id) => h.temporal.workflow.getHandle(bookingWorkflowId(id)).terminate("test done").catch(() => undefined)));
});

/** A hold as ReserveSeats writes it: seats, booking and its pending workflow start, in one transaction. */
async function queuedHold(showtimeId: string, seatIds: string[]): Promise<BookingWorkflowInput> {
  return h.db.transaction(async (trx) => {
    const { booking } = await h.repo.holds.hold(trx, { bookingId: randomUUID(), showtimeId, userId: randomUUID(), seatIds, holdSeconds: 600, maxHeldPerUser: 10 });
    const input = workflowInputOf(booking);
    await h.repo.starts.enqueue(trx, booking.id, input);
    started.push(booking.id);
    return input;
  });
}

const pendingRows = (ids: string[]) => h.db("workflow_starts").whereIn("booking_id", ids).select("booking_id", "attempts", "claimed_until", "last_error");

describe("the workflow starter", () => {
  it("three replicas draining one table side by side start each of 120 queued workflows exactly once", async () => {
    const { showtimeId, seatIds } = await seedInventory(h.repo, { rows: 12, perRow: 10 });
    const inputs = await Promise.all(seatIds.map((seat) => queuedHold(showtimeId, [seat])));
    const ids = inputs.map((i) => i.bookingId);
    const replicas = [1, 2].map(() => new WorkflowStarter({ queue: h.repo.starts, workflows: calls.workflows, logger: silentLogger(), concurrency: 8 }));
    await Promise.all([...replicas.map((r) => r.drain()), h.server.starter.drain()]);

    expect(await pendingRows(ids)).toHaveLength(0);
    expect(ids.map((id) => calls.starts.get(id))).toEqual(ids.map(() => 1));
    for (const id of [ids[0], ids[59], ids[119]]) {
      const d = await startedWorkflow(h.temporal, id, 5_000);
      expect(d.status.name).toBe("RUNNING");
    }
  });

  it("a start repeated after a crash (workflow started, row not yet deleted) finds the workflow and only clears the row", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const input = await queuedHold(showtimeId, ["R1S1"]);
    await real.start(input); // the crash: started, but the row stayed
    const before = await startedWorkflow(h.temporal, input.bookingId, 5_000);
    await new WorkflowStarter({ queue: h.repo.starts, workflows: real, logger: silentLogger() }).drain();
    expect(await pendingRows([input.bookingId])).toHaveLength(0);
    const after = await startedWorkflow(h.temporal, input.bookingId, 5_000);
    expect(after.runId).toBe(before.runId);
  });

  it("a failed start keeps its row, leased for the backoff (no replica retries it early), and the next try starts it", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const input = await queuedHold(showtimeId, ["R1S2"]);
    calls.failNextStarts(1);
    const starter = new WorkflowStarter({ queue: h.repo.starts, workflows: calls.workflows, logger: silentLogger() });
    await starter.drain();
    const [row] = await pendingRows([input.bookingId]);
    expect(row).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/injected/) });
    expect(new Date(row.claimed_until).getTime()).toBeGreaterThan(Date.now());
    await starter.drain(); // still leased: nothing happens
    expect(calls.starts.get(input.bookingId)).toBe(1);
    await waitFor("the retry after the backoff", async () => {
      await starter.drain();
      return (await pendingRows([input.bookingId])).length === 0;
    });
    expect(calls.starts.get(input.bookingId)).toBe(2);
    expect((await startedWorkflow(h.temporal, input.bookingId, 5_000)).status.name).toBe("RUNNING");
  });

  it("ensureStarted starts a pending workflow inline; for one already started (or a booking without a pending start) it does nothing", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const input = await queuedHold(showtimeId, ["R1S3"]);
    await h.server.starter.ensureStarted(input.bookingId);
    expect(await pendingRows([input.bookingId])).toHaveLength(0);
    expect((await startedWorkflow(h.temporal, input.bookingId, 5_000)).status.name).toBe("RUNNING");
    const count = calls.starts.get(input.bookingId);
    await h.server.starter.ensureStarted(input.bookingId);
    await h.server.starter.ensureStarted(randomUUID());
    expect(calls.starts.get(input.bookingId)).toBe(count);
  });

  it("ensureStarted waits for this process's start in flight instead of starting the workflow a second time", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    calls.delayStarts(500);
    h.server.starter.start();
    try {
      const input = await queuedHold(showtimeId, ["R1S6"]);
      h.server.starter.kick();
      await waitFor("the starter to claim it", async () => (await pendingRows([input.bookingId]))[0]?.attempts === 1, 5_000, 10);
      await h.server.starter.ensureStarted(input.bookingId);
      expect(calls.starts.get(input.bookingId)).toBe(1);
      expect(await pendingRows([input.bookingId])).toHaveLength(0);
      expect((await startedWorkflow(h.temporal, input.bookingId, 5_000)).status.name).toBe("RUNNING");
    } finally {
      calls.delayStarts(0);
      await h.server.starter.stop();
    }
  });

  it("the reaper leaves a lapsed hold whose workflow is still to be started to that workflow", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const pending = await queuedHold(showtimeId, ["R1S4"]);
    // leased far ahead, so no starter takes it during the test
    await h.db("workflow_starts").where({ booking_id: pending.bookingId }).update({ claimed_until: new Date(Date.now() + 3_600_000) });
    const orphan = await holdDirect(h.repo, { showtimeId, seatIds: ["R1S5"], holdSeconds: 1 });
    await h.db("bookings").whereIn("id", [pending.bookingId]).update({ held_until: new Date(Date.now() - 60_000) });
    await new Promise((r) => setTimeout(r, 1_100));
    const activities = createBookingActivities({
      repo: h.repo,
      catalog: undefined as never, // not used by the reaper
      workflows: real,
      logger: silentLogger(),
      reaperGraceSeconds: 0,
    });
    await activities.reapExpiredHolds({ limit: 100 });
    expect((await bookingRow(h.db, orphan.booking.id)).status).toBe("expired");
    expect((await bookingRow(h.db, pending.bookingId)).status).toBe("held");

    // a start Temporal keeps refusing (not unreachable: the reaper runs on Temporal) is given up
    await h.db("workflow_starts").where({ booking_id: pending.bookingId }).update({ attempts: REAP_AFTER_FAILED_STARTS });
    await activities.reapExpiredHolds({ limit: 100 });
    expect((await bookingRow(h.db, pending.bookingId)).status).toBe("expired");
    expect(await pendingRows([pending.bookingId])).toHaveLength(0);
  });

  it("stop() lets the starts in flight finish and leaves the rest queued for the next start", async () => {
    const { showtimeId, seatIds } = await seedInventory(h.repo, { rows: 1, perRow: 10 });
    const ids = (await Promise.all(seatIds.map((seat) => queuedHold(showtimeId, [seat])))).map((i) => i.bookingId);
    // the starts hang until released: exactly `concurrency` of them are in flight when stop() is called
    const release = calls.holdStarts();
    const starter = new WorkflowStarter({ queue: h.repo.starts, workflows: calls.workflows, logger: silentLogger(), concurrency: 2 });
    try {
      starter.start();
      const inFlight = () => ids.filter((id) => calls.starts.has(id)).length;
      await calls.untilStarts(() => inFlight() >= 2);
      const stopped = starter.stop();
      release();
      await stopped;
      expect(inFlight()).toBe(2); // it claimed nothing after stop()
      const left = await pendingRows(ids);
      expect(left).toHaveLength(8); // the two in flight finished, the rest wait for the next start
      expect(left.filter((r) => r.attempts > 0)).toHaveLength(0); // nothing claimed and abandoned
    } finally {
      release();
      await starter.stop(); // already stopped unless an expectation failed
    }
    await new WorkflowStarter({ queue: h.repo.starts, workflows: calls.workflows, logger: silentLogger() }).drain();
    expect(await pendingRows(ids)).toHaveLength(0);
  });

  it("a replica that stops while another claims the rest finishes only its own starts in flight, and every workflow starts once", async () => {
    // The interleaving that made the test above fail on a loaded machine, forced by hand: another
    // starter on the same table (there, the service's own one, waking when a lease ran out)
    // claims the queued rows while this one is stopping with its starts in flight.
    const { showtimeId, seatIds } = await seedInventory(h.repo, { rows: 1, perRow: 10 });
    const ids = (await Promise.all(seatIds.map((seat) => queuedHold(showtimeId, [seat])))).map((i) => i.bookingId);
    const stopping = counting(() => real);
    const other = counting(() => real);
    const release = stopping.holdStarts();
    const starter = new WorkflowStarter({ queue: h.repo.starts, workflows: stopping.workflows, logger: silentLogger(), concurrency: 2 });
    try {
      starter.start();
      await stopping.untilStarts(() => stopping.starts.size >= 2);
      const stopped = starter.stop();
      // the other replica takes everything else while this one's two starts still hang
      await new WorkflowStarter({ queue: h.repo.starts, workflows: other.workflows, logger: silentLogger() }).drain();
      const mine = [...stopping.starts.keys()];
      expect(mine).toHaveLength(2);
      expect((await pendingRows(ids)).map((r) => r.booking_id).sort()).toEqual([...mine].sort()); // leased to the stopping one
      expect([...other.starts.keys()].sort()).toEqual(ids.filter((id) => !mine.includes(id)).sort());
      release();
      await stopped;
      expect(stopping.starts.size).toBe(2); // it claimed nothing after stop()
      expect(await pendingRows(ids)).toHaveLength(0); // its two finished, the other replica's eight too
      expect(ids.map((id) => (stopping.starts.get(id) ?? 0) + (other.starts.get(id) ?? 0))).toEqual(ids.map(() => 1));
    } finally {
      release();
      await starter.stop();
    }
  });
});
