import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import Stripe from "stripe";
import { SIGNALS } from "../../../workflows/booking-types.js";
import { createPaymentActivities } from "../activities.js";
import {
  bearer,
  errorOf,
  liveSignals,
  startPayments,
  startRecorder,
  startTestWorkflowWorker,
  startWebhookEndpoint,
  testTemporal,
  waitFor,
  WEBHOOK_SECRET,
  type PaymentsHarness,
} from "./harness.js";

/**
 * The payments service on the development provider, with the real Temporal dev server (booking
 * workflows stood in for by the recorder workflow) and a real HTTP endpoint as the webhook URL:
 * PreparePayment, ConfirmPaymentWithMethod, SimulatePayment and the webhook deliveries, refunds
 * and cancellations (the activities), GetPaymentStatus.
 */

const QUEUE = `payments-core-${randomUUID().slice(0, 8)}`;
const stripe = new Stripe("sk_test_123"); // only for its webhook verification, offline
let temporal: Awaited<ReturnType<typeof testTemporal>>;
let worker: { close(): Promise<void> };
/** The webhook URL: behaves like the gateway's pass-through unless `failNext` says otherwise. */
let endpoint: Awaited<ReturnType<typeof startWebhookEndpoint>>;
let failNext = 0;
let h: PaymentsHarness;

beforeAll(async () => {
  temporal = await testTemporal();
  worker = await startTestWorkflowWorker(QUEUE, require.resolve("./workflows/recorder"));
  endpoint = await startWebhookEndpoint({
    forwardTo: () => {
      if (failNext > 0) {
        failNext--;
        return undefined;
      }
      return h?.internal;
    },
    respond: () => 500,
  });
  h = await startPayments({ signals: liveSignals(temporal.client), webhookUrl: endpoint.url });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await endpoint?.close();
  await worker?.close();
  await temporal?.close();
});

const events = (predicate: (e: { type: string; data: { object: { id?: string; payment_intent?: string } } }) => boolean) =>
  endpoint.received.map((r) => ({ r, e: JSON.parse(r.body.toString("utf8")) })).filter(({ e }) => predicate(e));
const eventsFor = (intentId: string, type: string) => events((e) => e.type === type && (e.data.object.id === intentId || e.data.object.payment_intent === intentId));

async function prepare(bookingId = randomUUID(), userId = randomUUID(), amountMinor = 4500n) {
  const res = await h.internal.preparePayment({ bookingId, userId, amountMinor, currency: "USD", description: "2 seats" });
  return { bookingId, userId, res };
}

describe("PreparePayment", () => {
  it("creates a realistic intent once; repeating returns the same intent; the workflow is not signalled (booking records the attempt)", async () => {
    const bookingId = randomUUID();
    const recorder = await startRecorder(temporal.client, QUEUE, bookingId);
    const first = await prepare(bookingId);
    const again = await h.internal.preparePayment({ bookingId, userId: first.userId, amountMinor: 4500n, currency: "USD" });
    expect(first.res).toMatchObject({ amountMinor: 4500n, currency: "USD", gateway: "development", status: "requires_payment_method", attempt: 0 });
    expect(first.res.paymentIntentId).toMatch(/^pi_[0-9A-Za-z]{24}$/);
    expect(first.res.clientSecret).toMatch(new RegExp(`^${first.res.paymentIntentId}_secret_[0-9A-Za-z]+$`));
    expect(again).toEqual(first.res);
    expect(await h.db("payment_intents").where({ booking_id: bookingId })).toHaveLength(1);
    // an earlier version signalled paymentPrepared before answering: the recorder would have it by now
    expect((await recorder.recorded()).filter((s) => s.name === SIGNALS.paymentPrepared)).toEqual([]);
    await recorder.finish();
  });

  it("concurrent first calls make one intent", async () => {
    const bookingId = randomUUID();
    const userId = randomUUID();
    const all = await Promise.all(Array.from({ length: 5 }, () => h.internal.preparePayment({ bookingId, userId, amountMinor: 100n, currency: "EUR" })));
    expect(new Set(all.map((r) => r.paymentIntentId)).size).toBe(1);
    expect(await h.db("devgw_payment_intents").whereRaw("metadata->>'bookingId' = ?", [bookingId])).toHaveLength(1);
  });

  it("refuses amount <= 0, another currency or amount than the open intent's, another user", async () => {
    expect((await errorOf(h.internal.preparePayment({ bookingId: randomUUID(), userId: randomUUID(), amountMinor: 0n, currency: "USD" }))).code).toBe(
      Code.InvalidArgument,
    );
    const { bookingId, userId } = await prepare();
    const again = (amountMinor: bigint, currency: string, user = userId) => errorOf(h.internal.preparePayment({ bookingId, userId: user, amountMinor, currency }));
    expect((await again(4500n, "EUR")).code).toBe(Code.FailedPrecondition);
    expect((await again(4600n, "USD")).code).toBe(Code.FailedPrecondition);
    expect((await again(4500n, "USD", randomUUID())).code).toBe(Code.FailedPrecondition);
  });

  it("after a declined payment, a new attempt with a new intent; the failed one is cancelled", async () => {
    const { bookingId, userId, res } = await prepare();
    const declined = await h.internal.confirmPaymentWithMethod({ paymentIntentId: res.paymentIntentId, paymentMethodId: "pm_card_chargeDeclined" });
    expect(declined).toMatchObject({ status: "requires_payment_method", failureCode: "generic_decline", failureMessage: "Your card was declined." });
    expect((await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: bookingId } })).paymentStatus).toBe("failed");

    const second = await h.internal.preparePayment({ bookingId, userId, amountMinor: 4500n, currency: "USD" });
    expect(second.attempt).toBe(1);
    expect(second.paymentIntentId).not.toBe(res.paymentIntentId);
    expect(second.status).toBe("requires_payment_method");
    expect((await h.internal.getPaymentStatus({ lookup: { case: "paymentIntentId", value: res.paymentIntentId } })).status).toBe("canceled");
    expect((await h.db("devgw_payment_intents").where({ id: res.paymentIntentId }).first()).status).toBe("canceled");
    // and that one is what a repeat returns
    expect((await h.internal.preparePayment({ bookingId, userId, amountMinor: 4500n, currency: "USD" })).paymentIntentId).toBe(second.paymentIntentId);
    // the decline reached the webhook endpoint as payment_intent.payment_failed
    await waitFor("the payment_failed event", async () => eventsFor(res.paymentIntentId, "payment_intent.payment_failed").length > 0);

    const status = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: bookingId } });
    expect(status).toMatchObject({ paymentIntentId: second.paymentIntentId, attempt: 1, paymentStatus: "pending" });
    expect(status.history.map((x) => `${x.paymentIntentId === res.paymentIntentId ? 0 : 1}:${x.event}/${x.source}`)).toEqual(
      expect.arrayContaining(["0:created/api", "0:payment_failed/api", "0:canceled/api", "1:created/api"]),
    );
  });
});

describe("ConfirmPaymentWithMethod", () => {
  it("pm_card_visa succeeds, and a signed payment_intent.succeeded reaches the webhook and the workflow", async () => {
    const bookingId = randomUUID();
    const recorder = await startRecorder(temporal.client, QUEUE, bookingId);
    const { res } = await prepare(bookingId);
    const out = await h.internal.confirmPaymentWithMethod({ paymentIntentId: res.paymentIntentId, paymentMethodId: "pm_card_visa" });
    expect(out).toEqual(expect.objectContaining({ paymentIntentId: res.paymentIntentId, status: "succeeded", failureCode: "" }));
    // repeating is harmless
    expect((await h.internal.confirmPaymentWithMethod({ paymentIntentId: res.paymentIntentId, paymentMethodId: "pm_card_visa" })).status).toBe("succeeded");

    const [{ r, e }] = await waitFor("the succeeded event", async () => {
      const found = eventsFor(res.paymentIntentId, "payment_intent.succeeded");
      return found.length ? found : undefined;
    });
    const verified = stripe.webhooks.constructEvent(r.body, r.signature, WEBHOOK_SECRET, 300);
    expect(verified.id).toBe(e.id);
    const signals = await waitFor("paymentSucceeded", async () => {
      const s = (await recorder.recorded()).filter((x) => x.name === SIGNALS.paymentSucceeded);
      return s.length ? s : undefined;
    });
    expect(signals).toEqual([{ name: SIGNALS.paymentSucceeded, event: { paymentIntentId: res.paymentIntentId, eventId: e.id } }]);
    const status = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: bookingId } });
    expect(status.paymentStatus).toBe("paid");
    expect(status.history.map((x) => `${x.event}/${x.source}`)).toEqual(["created/api", "succeeded/api", "succeeded/webhook"]);
    await recorder.finish();
  });

  it("an unknown payment method is InvalidArgument; authentication-required is reported as such", async () => {
    const { res } = await prepare();
    // the provider's refusal, mapped by the service's one error mapper (errors.ts)
    const bogus = await errorOf(h.internal.confirmPaymentWithMethod({ paymentIntentId: res.paymentIntentId, paymentMethodId: "pm_card_bogus" }));
    expect(bogus.code).toBe(Code.InvalidArgument);
    expect(bogus.rawMessage).toBe("payment gateway: No such PaymentMethod: 'pm_card_bogus'");
    const out = await h.internal.confirmPaymentWithMethod({ paymentIntentId: res.paymentIntentId, paymentMethodId: "pm_card_authenticationRequired" });
    expect(out).toMatchObject({ status: "requires_action", failureCode: "authentication_required" });
    expect((await errorOf(h.internal.confirmPaymentWithMethod({ paymentIntentId: "pi_unknown", paymentMethodId: "pm_card_visa" }))).code).toBe(Code.NotFound);
  });
});

describe("SimulatePayment (development provider)", () => {
  it("owner only: answers at once, then a correctly signed Stripe event arrives at the webhook URL", async () => {
    const bookingId = randomUUID();
    const recorder = await startRecorder(temporal.client, QUEUE, bookingId);
    const { res, userId } = await prepare(bookingId);
    const stranger = bearer(await h.auth.userToken());
    expect((await errorOf(h.client.simulatePayment({ paymentIntentId: res.paymentIntentId, outcome: "succeeded" }, stranger))).code).toBe(Code.NotFound);
    expect((await errorOf(h.client.simulatePayment({ paymentIntentId: res.paymentIntentId, outcome: "succeeded" }))).code).toBe(Code.Unauthenticated);

    const owner = bearer(await h.auth.userToken(userId));
    expect(await h.client.simulatePayment({ paymentIntentId: res.paymentIntentId, outcome: "succeeded" }, owner)).toBeDefined();
    const [{ r, e }] = await waitFor("the signed event", async () => {
      const found = eventsFor(res.paymentIntentId, "payment_intent.succeeded");
      return found.length ? found : undefined;
    });
    expect(stripe.webhooks.constructEvent(r.body, r.signature, WEBHOOK_SECRET, 300).type).toBe("payment_intent.succeeded");
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(e).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      object: "event",
      type: "payment_intent.succeeded",
      livemode: false,
      data: {
        object: {
          id: res.paymentIntentId,
          object: "payment_intent",
          amount: 4500,
          amount_received: 4500,
          currency: "usd",
          status: "succeeded",
          latest_charge: expect.stringMatching(/^ch_/),
          metadata: { bookingId, userId, attempt: "0" },
        },
      },
    });
    await waitFor("paymentSucceeded", async () => (await recorder.recorded()).some((s) => s.name === SIGNALS.paymentSucceeded));
    // paid already: nothing to simulate
    expect((await errorOf(h.client.simulatePayment({ paymentIntentId: res.paymentIntentId, outcome: "failed" }, owner))).code).toBe(Code.FailedPrecondition);
    await recorder.finish();
  });

  it("retries with backoff until the endpoint answers 2xx, signing each delivery anew", async () => {
    const { res, userId } = await prepare();
    failNext = 2; // the endpoint answers 500 twice
    await h.client.simulatePayment({ paymentIntentId: res.paymentIntentId, outcome: "failed" }, bearer(await h.auth.userToken(userId)));
    const row = await waitFor("the delivery", async () => {
      const ev = await h.db("devgw_events").whereRaw("payload::jsonb->'data'->'object'->>'id' = ?", [res.paymentIntentId]).first();
      return ev?.delivered_at ? ev : undefined;
    });
    expect(row.attempts).toBe(3);
    const deliveries = eventsFor(res.paymentIntentId, "payment_intent.payment_failed");
    expect(deliveries).toHaveLength(3);
    for (const d of deliveries) expect(() => stripe.webhooks.constructEvent(d.r.body, d.r.signature, WEBHOOK_SECRET, 300)).not.toThrow();
    expect(deliveries[2].r.at - deliveries[0].r.at).toBeGreaterThanOrEqual(500); // backed off (200 ms, then 400 ms)
    expect((await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: (await h.db("payment_intents").where({ id: res.paymentIntentId }).first()).booking_id } })).paymentStatus).toBe("failed");
  });
});

describe("activities: refundBooking and cancelPaymentIntent", () => {
  const activities = () => createPaymentActivities(h.server.payments);

  /** A paid booking whose workflow (a recorder) has been told. */
  async function paidBooking() {
    const bookingId = randomUUID();
    const recorder = await startRecorder(temporal.client, QUEUE, bookingId);
    const p = await prepare(bookingId);
    await h.internal.confirmPaymentWithMethod({ paymentIntentId: p.res.paymentIntentId, paymentMethodId: "pm_card_visa" });
    await waitFor("paymentSucceeded", async () => (await recorder.recorded()).some((s) => s.name === SIGNALS.paymentSucceeded));
    await recorder.finish();
    return p;
  }

  it("refundBooking called twice (and concurrently) refunds once", async () => {
    const { bookingId, res } = await paidBooking();
    const results = await Promise.all([
      activities().refundBooking({ bookingId, reason: "cancelled by customer" }),
      activities().refundBooking({ bookingId, reason: "cancelled by customer" }),
    ]);
    results.push(await activities().refundBooking({ bookingId, reason: "cancelled by customer" }));
    expect(results).toEqual([{ refunded: true }, { refunded: true }, { refunded: true }]);
    expect(await h.db("refunds").where({ booking_id: bookingId })).toHaveLength(1);
    expect(await h.db("devgw_refunds").where({ payment_intent_id: res.paymentIntentId })).toHaveLength(1);
    // the charge.refunded event comes back through the webhook
    await waitFor("charge.refunded", async () => eventsFor(res.paymentIntentId, "charge.refunded").length > 0);
    const status = await waitFor("the reconciliation", async () => {
      const s = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: bookingId } });
      return s.history.some((x) => x.event === "charge_refunded") ? s : undefined;
    });
    expect(status).toMatchObject({ paymentStatus: "refunded", amountRefundedMinor: 4500n });
    expect(status.refunds).toEqual([
      expect.objectContaining({ refundId: expect.stringMatching(/^re_/), amountMinor: 4500n, currency: "USD", status: "succeeded", reason: "cancelled by customer" }),
    ]);
  });

  it("refundBooking with nothing paid is a no-op", async () => {
    const { bookingId } = await prepare();
    expect(await activities().refundBooking({ bookingId, reason: "x" })).toEqual({ refunded: false });
    expect(await activities().refundBooking({ bookingId: randomUUID(), reason: "x" })).toEqual({ refunded: false });
    expect(await h.db("refunds").where({ booking_id: bookingId })).toHaveLength(0);
  });

  it("cancelPaymentIntent cancels the open intent, idempotently; a paid one is left for the refund", async () => {
    const { bookingId, res } = await prepare();
    expect(await activities().cancelPaymentIntent({ bookingId })).toEqual({ cancelled: true });
    expect(await activities().cancelPaymentIntent({ bookingId })).toEqual({ cancelled: false });
    expect(await activities().cancelPaymentIntent({ bookingId: randomUUID() })).toEqual({ cancelled: false });
    expect((await h.db("devgw_payment_intents").where({ id: res.paymentIntentId }).first()).status).toBe("canceled");
    expect((await errorOf(h.internal.confirmPaymentWithMethod({ paymentIntentId: res.paymentIntentId, paymentMethodId: "pm_card_visa" }))).code).toBe(
      Code.FailedPrecondition,
    );

    const paid = await paidBooking();
    expect(await activities().cancelPaymentIntent({ bookingId: paid.bookingId })).toEqual({ cancelled: false });
    expect((await h.internal.cancelPaymentIntent({ paymentIntentId: paid.res.paymentIntentId })).status).toBe("succeeded");
  });

  it("RefundPayment refunds partly, never beyond the payment, once per key", async () => {
    const { res } = await paidBooking();
    const part = await h.internal.refundPayment({ paymentIntentId: res.paymentIntentId, amountMinor: 1000n, reason: "one seat", idempotencyKey: "k1" });
    expect(part).toMatchObject({ amountMinor: 1000n, status: "succeeded", alreadyRefunded: false, currency: "USD" });
    expect((await h.internal.refundPayment({ paymentIntentId: res.paymentIntentId, amountMinor: 1000n, reason: "one seat", idempotencyKey: "k1" })).refundId).toBe(part.refundId);
    expect((await errorOf(h.internal.refundPayment({ paymentIntentId: res.paymentIntentId, amountMinor: 9000n, reason: "too much", idempotencyKey: "k2" }))).code).toBe(
      Code.FailedPrecondition,
    );
    const rest = await h.internal.refundPayment({ paymentIntentId: res.paymentIntentId, amountMinor: 0n, reason: "the rest", idempotencyKey: "k3" });
    expect(rest.amountMinor).toBe(3500n);
    const none = await h.internal.refundPayment({ paymentIntentId: res.paymentIntentId, amountMinor: 0n, reason: "again", idempotencyKey: "k4" });
    expect(none).toMatchObject({ alreadyRefunded: true, refundId: "" });
  });
});
