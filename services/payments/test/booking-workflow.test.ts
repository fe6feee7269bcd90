import { randomUUID } from "node:crypto";
import { createLogger, silentLogger } from "../../../lib/logger.js";
import { freePort } from "../../../test/support/ports.js";
import { BOOKING_WORKFLOW, bookingWorkflowId, UPDATES, type BookingActivities, type BookingState, type BookingWorkflowInput } from "../../../workflows/booking-types.js";
import { TASK_QUEUES } from "../../../workflows/task-queues.js";
import { createPaymentActivities } from "../activities.js";
import { paymentsTaskQueue, startPaymentsWorker, type RunningPaymentsWorker } from "../worker.js";
import {
  liveSignals,
  paymentIntentObject,
  quietTemporalRuntime,
  sign,
  stripeEvent,
  startPayments,
  startTestWorkflowWorker,
  startWebhookEndpoint,
  testTemporal,
  waitFor,
  type PaymentsHarness,
} from "./harness.js";

/**
 * The payments activities inside the real booking workflow (workflows/booking.ts, bundled alone
 * by this suite's worker on its own suffixed booking-workflows queue, as the booking service runs
 * it): the payments worker of this service (worker.ts) serves `cancelPaymentIntent` and
 * `refundBooking` on the matching suffixed payments queue; the booking service's activities, local
 * to the workflow's worker, are stubs that record their calls (the booking service is not part of
 * this suite; `paymentAttempted` says yes for the bookings whose payment this suite prepared, as
 * the booking service's PreparePayment records it; other activities the workflow may call, e.g.
 * notifications and tickets, are not served here, so the tests read the workflow's state rather
 * than wait for its end; a confirmed booking's tickets, which nobody issues here, never hold up
 * its cancel or its refund).
 * The development provider's webhooks go to an endpoint that
 * either passes them on to HandleWebhook (like the gateway) or holds them, to make a payment
 * arrive late.
 */

const SUFFIX = `pay-${randomUUID().slice(0, 8)}`;
const QUEUE = `${TASK_QUEUES.bookingWorkflows}-${SUFFIX}`;
let temporal: Awaited<ReturnType<typeof testTemporal>>;
let workflows: { close(): Promise<void> };
let paymentsWorker: RunningPaymentsWorker;
let endpoint: Awaited<ReturnType<typeof startWebhookEndpoint>>;
let hold = false;
let h: PaymentsHarness;
const calls: Array<{ name: string; input: unknown }> = [];
/** Bookings whose payment was prepared (the booking service records this before it calls PreparePayment). */
const attempted = new Set<string>();

const stubs: BookingActivities = {
  async confirmBookingSeats(input) {
    calls.push({ name: "confirmBookingSeats", input });
    return { outcome: "confirmed" };
  },
  async releaseBookingHold(input) {
    calls.push({ name: "releaseBookingHold", input });
  },
  async releaseConfirmedBooking(input) {
    calls.push({ name: "releaseConfirmedBooking", input });
  },
  async setPaymentStatus(input) {
    calls.push({ name: "setPaymentStatus", input });
  },
  async paymentAttempted({ bookingId }) {
    return { attempted: attempted.has(bookingId) };
  },
  async initializeInventory() {
    return { created: false, seats: 0 };
  },
  async reapExpiredHolds() {
    return { released: 0, reconciled: 0 };
  },
};

beforeAll(async () => {
  quietTemporalRuntime();
  temporal = await testTemporal();
  endpoint = await startWebhookEndpoint({ forwardTo: () => (hold ? undefined : h?.internal) });
  h = await startPayments({ signals: liveSignals(temporal.client), webhookUrl: endpoint.url });
  workflows = await startTestWorkflowWorker(QUEUE, require.resolve("./workflows/booking-only"), stubs);
  paymentsWorker = startPaymentsWorker({
    address: process.env.TEST_TEMPORAL_ADDRESS!,
    namespace: "default",
    taskQueue: paymentsTaskQueue(SUFFIX),
    activities: createPaymentActivities(h.server.payments),
    logger: process.env.DEBUG_PAYMENTS ? createLogger("payments-test", "debug") : silentLogger(),
  });
  await paymentsWorker.running;
}, 180_000);

afterAll(async () => {
  await paymentsWorker?.close();
  await workflows?.close();
  await h?.close();
  await endpoint?.close();
  await temporal?.close();
});

async function startBooking(holdSeconds: number) {
  const bookingId = randomUUID();
  const userId = randomUUID();
  const input: BookingWorkflowInput = {
    bookingId,
    showtimeId: randomUUID(),
    userId,
    seatIds: ["A1", "A2"],
    heldUntil: new Date(Date.now() + holdSeconds * 1000).toISOString(),
    showStartsAt: new Date(Date.now() + 3 * 3_600_000).toISOString(),
    amountMinor: 4500,
    currency: "USD",
    activitiesLocal: true, // as the booking service starts it on its own queue
  };
  const handle = await temporal.client.workflow.start(BOOKING_WORKFLOW, { taskQueue: QUEUE, workflowId: bookingWorkflowId(bookingId), args: [input] });
  attempted.add(bookingId);
  const prepared = await h.internal.preparePayment({ bookingId, userId, amountMinor: 4500n, currency: "USD" });
  const state = () => handle.query<BookingState>("state");
  return { bookingId, userId, handle, intentId: prepared.paymentIntentId, state };
}

const callsFor = (bookingId: string) => calls.filter((c) => (c.input as { bookingId?: string }).bookingId === bookingId).map((c) => c.name);

describe("payments activities in the booking workflow", () => {
  it("hold expires with an open intent: the workflow cancels it through cancelPaymentIntent", async () => {
    hold = false;
    const b = await startBooking(3);
    await waitFor("expiry", async () => (await b.state()).status === "expired");
    expect((await h.db("devgw_payment_intents").where({ id: b.intentId }).first()).status).toBe("canceled");
    expect((await h.db("payment_intents").where({ id: b.intentId }).first()).status).toBe("canceled");
    expect(callsFor(b.bookingId)).toEqual(["releaseBookingHold"]);
    await b.handle.terminate("test done");
  });

  it("a payment that succeeds after the hold expired is refunded once through refundBooking", async () => {
    hold = true; // the success webhook is late
    const b = await startBooking(3);
    await h.provider.simulate!(b.intentId, "succeeded");
    const late = await waitFor("the held success event", async () =>
      endpoint.received.find((r) => r.body.includes(b.intentId) && r.body.includes("payment_intent.succeeded")),
    );
    await waitFor("expiry", async () => (await b.state()).status === "expired");
    // expiry tried to cancel: the provider said it was paid, so it stays succeeded
    expect((await h.db("payment_intents").where({ id: b.intentId }).first()).status).toBe("succeeded");

    hold = false;
    await h.internal.handleWebhook({ payload: new Uint8Array(late.body), signature: late.signature });
    await waitFor("the refund", async () => {
      const s = await b.state();
      return s.status === "expired" && s.paymentStatus === "refunded";
    });
    expect(callsFor(b.bookingId)).toEqual(["releaseBookingHold", "setPaymentStatus"]);
    expect(calls.find((c) => c.name === "setPaymentStatus" && (c.input as { bookingId: string }).bookingId === b.bookingId)?.input).toEqual({
      bookingId: b.bookingId,
      paymentStatus: "refunded",
    });
    const refunds = await h.db("refunds").where({ booking_id: b.bookingId });
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ booking_refund: true, amount_minor: "4500", reason: "paid after the hold was released" });
    expect(await h.db("devgw_refunds").where({ payment_intent_id: b.intentId })).toHaveLength(1);
    await b.handle.terminate("test done");
  });

  it("paid in time, then cancelled by the customer: confirmed, then refunded once", async () => {
    hold = false;
    const b = await startBooking(60);
    await h.internal.confirmPaymentWithMethod({ paymentIntentId: b.intentId, paymentMethodId: "pm_card_visa" });
    await waitFor("confirmation", async () => (await b.state()).status === "confirmed");
    const after = await b.handle.executeUpdate<BookingState, [{ by: string }]>(UPDATES.cancel, { args: [{ by: `user:${b.userId}` }] });
    expect(after).toMatchObject({ status: "cancelled" });
    await waitFor("the refund", async () => (await b.state()).paymentStatus === "refunded");
    expect(callsFor(b.bookingId)).toEqual(["confirmBookingSeats", "releaseConfirmedBooking", "setPaymentStatus"]);
    expect(await h.db("refunds").where({ booking_id: b.bookingId })).toHaveLength(1);
    const status = await waitFor("charge.refunded", async () => {
      const s = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: b.bookingId } });
      return s.history.some((x) => x.event === "charge_refunded") ? s : undefined;
    });
    expect(status.paymentStatus).toBe("refunded");
    await b.handle.terminate("test done");
  });

  it("payment_intent.payment_failed delivered after payment_intent.succeeded leaves the booking confirmed and paid", async () => {
    hold = false;
    const b = await startBooking(60);
    await h.provider.simulate!(b.intentId, "succeeded"); // its signed succeeded event reaches the webhook
    await waitFor("confirmation", async () => (await b.state()).status === "confirmed");

    // an older attempt's failure, delivered late (Stripe does not promise any order)
    const late = stripeEvent(
      "payment_intent.payment_failed",
      paymentIntentObject({
        id: b.intentId,
        bookingId: b.bookingId,
        userId: b.userId,
        amount: 4500,
        status: "requires_payment_method",
        lastPaymentError: { type: "card_error", code: "card_declined", message: "Your card was declined." },
      }),
    );
    const out = await h.internal.handleWebhook({ payload: new Uint8Array(late), signature: sign(late) });
    expect(out).toMatchObject({ duplicate: false, eventType: "payment_intent.payment_failed" });
    // the workflow got the signal (and has run since: queries see every event before them)
    await waitFor("the paymentFailed signal in the history", async () =>
      (await b.handle.fetchHistory()).events!.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === "paymentFailed"),
    );
    expect(await b.state()).toEqual({ bookingId: b.bookingId, status: "confirmed", paymentStatus: "paid" });
    expect(callsFor(b.bookingId)).toEqual(["confirmBookingSeats"]);
    expect((await h.db("payment_intents").where({ id: b.intentId }).first()).status).toBe("succeeded");
    const status = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: b.bookingId } });
    expect(status.paymentStatus).toBe("paid");
    expect(await h.db("refunds").where({ booking_id: b.bookingId })).toHaveLength(0);
    await b.handle.terminate("test done");
  });

  it("the payments worker waits for an unreachable Temporal and still shuts down at once", async () => {
    const w = startPaymentsWorker({
      address: `127.0.0.1:${await freePort()}`,
      namespace: "default",
      taskQueue: paymentsTaskQueue(`${SUFFIX}-dead`),
      activities: createPaymentActivities(h.server.payments),
      logger: silentLogger(),
      retryMs: 100,
    });
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await w.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
