import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { freePort } from "../../../test/support/ports.js";
import { SIGNALS } from "../../../workflows/booking-types.js";
import { bookingWorkflows } from "../../../workflows/booking-client.js";
import {
  deadTemporal,
  errorOf,
  liveSignals,
  paymentIntentObject,
  rowCounts,
  sign,
  startPayments,
  startRecorder,
  startTestWorkflowWorker,
  startWebhookEndpoint,
  stripeEvent,
  testTemporal,
  waitFor,
  type PaymentsHarness,
} from "./harness.js";

/**
 * HandleWebhook against the real Temporal dev server. Booking workflows are stood in for by a
 * throwaway recorder workflow (test/workflows/recorder.ts, on this suite's own task queue) that
 * keeps every payment signal it receives, so the tests can count them.
 */

const QUEUE = `payments-webhook-${randomUUID().slice(0, 8)}`;
let temporal: Awaited<ReturnType<typeof testTemporal>>;
let worker: { close(): Promise<void> };
let endpoint: Awaited<ReturnType<typeof startWebhookEndpoint>>;
let h: PaymentsHarness;

beforeAll(async () => {
  temporal = await testTemporal();
  worker = await startTestWorkflowWorker(QUEUE, require.resolve("./workflows/recorder"));
  endpoint = await startWebhookEndpoint(); // the development provider's own events land here (200)
  h = await startPayments({ signals: liveSignals(temporal.client), webhookUrl: endpoint.url });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await endpoint?.close();
  await worker?.close();
  await temporal?.close();
});

/** A booking with a prepared intent (development provider) and a recorder as its workflow. */
async function booking(opts: { workflow?: boolean } = {}) {
  const bookingId = randomUUID();
  const userId = randomUUID();
  const recorder = opts.workflow === false ? undefined : await startRecorder(temporal.client, QUEUE, bookingId);
  const prepared = await h.internal.preparePayment({ bookingId, userId, amountMinor: 4500n, currency: "USD" });
  const pi = (status: string, extra: Partial<Parameters<typeof paymentIntentObject>[0]> = {}) =>
    paymentIntentObject({ id: prepared.paymentIntentId, bookingId, userId, amount: 4500, status, ...extra });
  return { bookingId, userId, recorder, intentId: prepared.paymentIntentId, pi };
}

const deliver = (payload: Buffer, signature = sign(payload)) => h.internal.handleWebhook({ payload: new Uint8Array(payload), signature });
const signalsNamed = async (r: { recorded(): Promise<Array<{ name: string }>> }, name: string) =>
  (await r.recorded()).filter((s) => s.name === name);

describe("HandleWebhook: verification before anything is written", () => {
  it("a bad signature is InvalidArgument with zero rows written", async () => {
    const b = await booking({ workflow: false });
    const payload = stripeEvent("payment_intent.succeeded", b.pi("succeeded"));
    const before = await rowCounts(h.db);
    const err = await errorOf(deliver(payload, sign(payload, undefined, "whsec_wrong")));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/Stripe-Signature/);
    // tampered body with the right secret's signature of the original
    const tampered = Buffer.from(payload.toString("utf8").replace("4500", "1"));
    expect((await errorOf(deliver(tampered, sign(payload)))).code).toBe(Code.InvalidArgument);
    expect(await rowCounts(h.db)).toEqual(before);
  });

  it("a 301-second-old signature is InvalidArgument with zero rows written; 299 s is accepted", async () => {
    const b = await booking({ workflow: false });
    const payload = stripeEvent("customer.created", { id: "cus_1", object: "customer" });
    const before = await rowCounts(h.db);
    const err = await errorOf(deliver(payload, sign(payload, Math.floor(Date.now() / 1000) - 301)));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/tolerance/);
    expect(await rowCounts(h.db)).toEqual(before);
    expect(b.intentId).toMatch(/^pi_/);
    const ok = await deliver(payload, sign(payload, Math.floor(Date.now() / 1000) - 299));
    expect(ok.ignored).toBe(true);
  });

  it("a correctly signed body that is not a Stripe event is InvalidArgument with nothing written", async () => {
    const before = await rowCounts(h.db);
    for (const body of ["not json", JSON.stringify({ id: "evt_x", type: "x" }), JSON.stringify({ type: "x", data: { object: {} } })]) {
      const payload = Buffer.from(body);
      expect((await errorOf(deliver(payload))).code).toBe(Code.InvalidArgument);
    }
    expect(await rowCounts(h.db)).toEqual(before);
  });

  it("a correctly signed event with a NUL character in a string is InvalidArgument naming the field, with nothing written", async () => {
    const b = await booking();
    const before = await rowCounts(h.db);
    const refused = async (payload: Buffer) => {
      const err = await errorOf(deliver(payload));
      return { code: err.code, message: err.rawMessage };
    };
    expect(await refused(stripeEvent("payment_intent.succeeded", b.pi("succeeded"), "evt_\u0000nul"))).toEqual({
      code: Code.InvalidArgument,
      message: "payload.id: must not contain a NUL character",
    });
    expect(await refused(stripeEvent("payment_intent.succeeded\u0000", b.pi("succeeded")))).toEqual({
      code: Code.InvalidArgument,
      message: "payload.type: must not contain a NUL character",
    });
    const declined = b.pi("requires_payment_method", { lastPaymentError: { code: "card_declined", message: "declined\u0000" } });
    expect(await refused(stripeEvent("payment_intent.payment_failed", declined))).toEqual({
      code: Code.InvalidArgument,
      message: "payload.data.object.last_payment_error.message: must not contain a NUL character",
    });
    expect(await rowCounts(h.db)).toEqual(before);
    expect(await signalsNamed(b.recorder!, SIGNALS.paymentSucceeded)).toEqual([]);
    expect(await signalsNamed(b.recorder!, SIGNALS.paymentFailed)).toEqual([]);
    await b.recorder!.finish();
  });
});

describe("HandleWebhook: processing", () => {
  it("the same event delivered 5 times concurrently changes state once and signals once", async () => {
    const b = await booking();
    const payload = stripeEvent("payment_intent.succeeded", b.pi("succeeded"));
    const eventId = JSON.parse(payload.toString("utf8")).id as string;
    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(payload)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(results.filter((r) => r.duplicate)).toHaveLength(4);
    for (const r of results) expect(r).toMatchObject({ eventId, eventType: "payment_intent.succeeded", ignored: false });

    const succeeded = await signalsNamed(b.recorder!, SIGNALS.paymentSucceeded);
    expect(succeeded).toEqual([{ name: SIGNALS.paymentSucceeded, event: { paymentIntentId: b.intentId, eventId } }]);
    expect(await h.db("webhook_events").where({ event_id: eventId })).toHaveLength(1);
    expect(await h.db("payment_history").where({ payment_intent_id: b.intentId, event: "succeeded" })).toHaveLength(1);
    expect((await h.db("payment_intents").where({ id: b.intentId }).first()).status).toBe("succeeded");
    // and a sixth, later: still nothing
    expect((await deliver(payload)).duplicate).toBe(true);
    expect(await signalsNamed(b.recorder!, SIGNALS.paymentSucceeded)).toHaveLength(1);
    await b.recorder!.finish();
  });

  it("an unknown event type is acknowledged and ignored", async () => {
    const payload = stripeEvent("customer.subscription.created", { id: "sub_1", object: "subscription" });
    const out = await deliver(payload);
    expect(out).toMatchObject({ eventType: "customer.subscription.created", ignored: true, duplicate: false });
    expect((await h.db("webhook_events").where({ event_id: out.eventId }).first()).outcome).toBe("ignored");
  });

  it("payment_intent.payment_failed marks the attempt failed and signals paymentFailed", async () => {
    const b = await booking();
    const payload = stripeEvent(
      "payment_intent.payment_failed",
      b.pi("requires_payment_method", {
        lastPaymentError: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." },
      }),
    );
    const out = await deliver(payload);
    expect(out.duplicate).toBe(false);
    const failed = await signalsNamed(b.recorder!, SIGNALS.paymentFailed);
    expect(failed).toEqual([
      { name: SIGNALS.paymentFailed, event: { paymentIntentId: b.intentId, eventId: out.eventId, reason: "Your card has insufficient funds." } },
    ]);
    const status = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: b.bookingId } });
    expect(status).toMatchObject({ paymentStatus: "failed", failureCode: "insufficient_funds", status: "requires_payment_method" });
    await b.recorder!.finish();
  });

  it("Temporal unreachable: Unavailable and nothing recorded; the redelivery (Temporal back) signals", async () => {
    const b = await booking();
    const dead = deadTemporal(await freePort());
    const outage = await h.extraServer(bookingWorkflows(dead.client, { callTimeoutMs: 1_500 }));
    try {
      const payload = stripeEvent("payment_intent.succeeded", b.pi("succeeded"));
      const before = await rowCounts(h.db);
      const err = await errorOf(outage.internal.handleWebhook({ payload: new Uint8Array(payload), signature: sign(payload) }));
      expect(err.code).toBe(Code.Unavailable); // the gateway answers 503: Stripe retries
      expect(await rowCounts(h.db)).toEqual(before);
      expect((await h.db("payment_intents").where({ id: b.intentId }).first()).status).toBe("requires_payment_method");

      const redelivered = await deliver(payload, sign(payload)); // Stripe signs each delivery anew
      expect(redelivered.duplicate).toBe(false);
      expect(await signalsNamed(b.recorder!, SIGNALS.paymentSucceeded)).toEqual([
        { name: SIGNALS.paymentSucceeded, event: { paymentIntentId: b.intentId, eventId: redelivered.eventId } },
      ]);
    } finally {
      await outage.close();
      await dead.close();
      await b.recorder!.finish();
    }
  });

  it("a success for a booking whose workflow does not exist is refunded exactly once", async () => {
    const b = await booking({ workflow: false });
    // the customer pays client-side; Stripe sends the event
    await h.provider.simulate!(b.intentId, "succeeded");
    const payload = stripeEvent("payment_intent.succeeded", b.pi("succeeded"));
    const out = await deliver(payload);
    expect(out.duplicate).toBe(false);
    expect((await h.db("webhook_events").where({ event_id: out.eventId }).first()).outcome).toBe("refunded");
    // again, concurrently, and as another event for the same payment, and from the activity
    await Promise.all([deliver(payload), deliver(payload)]);
    await deliver(stripeEvent("payment_intent.succeeded", b.pi("succeeded")));
    await h.server.payments.refundBooking(b.bookingId, "again");

    const refunds = await h.db("refunds").where({ booking_id: b.bookingId });
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ idempotency_key: `refund-${b.bookingId}`, booking_refund: true, status: "succeeded", amount_minor: "4500" });
    expect(refunds[0].refund_id).toMatch(/^re_/);
    expect(await h.db("devgw_refunds").where({ payment_intent_id: b.intentId })).toHaveLength(1);
    const status = await h.internal.getPaymentStatus({ lookup: { case: "paymentIntentId", value: b.intentId } });
    expect(status).toMatchObject({ paymentStatus: "refunded", amountRefundedMinor: 4500n });
  });

  it("a success for a booking whose workflow has completed is refunded too", async () => {
    const b = await booking();
    await b.recorder!.finish(); // the booking ended long ago
    await h.provider.simulate!(b.intentId, "succeeded");
    const out = await deliver(stripeEvent("payment_intent.succeeded", b.pi("succeeded")));
    expect((await h.db("webhook_events").where({ event_id: out.eventId }).first()).outcome).toBe("refunded");
    expect(await h.db("refunds").where({ booking_id: b.bookingId })).toHaveLength(1);
  });

  it("charge.refunded reconciles the refund and the amount refunded", async () => {
    const b = await booking({ workflow: false });
    await h.provider.simulate!(b.intentId, "succeeded");
    // the webhook was lost; the activity refunds (asking the provider whether it was paid)
    expect(await h.server.payments.refundBooking(b.bookingId, "cancelled by customer")).toEqual({ refunded: true });
    const [refund] = await h.db("refunds").where({ booking_id: b.bookingId });
    await h.db("refunds").where({ id: refund.id }).update({ status: "pending" }); // as a bank transfer refund would be
    const out = await deliver(
      stripeEvent("charge.refunded", {
        id: "ch_test",
        object: "charge",
        amount: 4500,
        amount_refunded: 4500,
        payment_intent: b.intentId,
        refunded: true,
        refunds: { object: "list", data: [{ id: refund.refund_id, object: "refund", status: "succeeded" }] },
      }),
    );
    expect(out.ignored).toBe(false);
    expect((await h.db("refunds").where({ id: refund.id }).first()).status).toBe("succeeded");
    const status = await h.internal.getPaymentStatus({ lookup: { case: "bookingId", value: b.bookingId } });
    expect(status.amountRefundedMinor).toBe(4500n);
    expect(status.history.map((x) => `${x.event}/${x.source}`)).toEqual(["created/api", "succeeded/api", "charge_refunded/webhook"]);
  });

  it("the development provider's own events reach the endpoint signed", async () => {
    await waitFor("a delivered event", async () => endpoint.received.length > 0);
    expect(endpoint.received[0].signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });
});
