import { randomUUID } from "node:crypto";
import { bookingRefundKey, cancelKey, confirmKey, intentKey } from "../domain/keys.js";
import { ProviderError } from "../providers/provider.js";
import { StripeProvider } from "../providers/stripe.js";
import { freePort } from "../../../test/support/ports.js";
import { liveSignals, startPayments, testTemporal, type PaymentsHarness } from "./harness.js";
import { startRecordingProxy, startStripeMock, type RunningStripeMock } from "./stripe-mock.js";

/**
 * The Stripe adapter against stripe-mock (Stripe's own API mock, started by this suite), behind
 * a recording proxy that shows what goes over the wire: the paths, the form parameters, and an
 * `Idempotency-Key` derived from booking, step and attempt on every POST. stripe-mock answers
 * with fixtures (it keeps no state), so outcomes such as declines are the development provider
 * suites' business; here the requests are what is checked.
 */

let mock: RunningStripeMock;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
const KEY = "sk_test_123";

beforeAll(async () => {
  mock = await startStripeMock();
  proxy = await startRecordingProxy(mock.url);
}, 360_000);

afterAll(async () => {
  await proxy?.close();
  await mock?.stop();
});

const posts = () => proxy.requests.filter((r) => r.method === "POST");

describe("Stripe provider (stripe-mock)", () => {
  const provider = () => new StripeProvider({ secretKey: KEY, apiBase: proxy.url, maxNetworkRetries: 0 });
  const bookingId = randomUUID();
  const userId = randomUUID();

  beforeEach(() => {
    proxy.requests.length = 0;
  });

  it("creates a PaymentIntent: POST /v1/payment_intents with amount, currency, metadata, no redirects, the attempt's key", async () => {
    const intent = await provider().createPaymentIntent({
      amountMinor: 4500,
      currency: "USD",
      description: "2 seats",
      metadata: { bookingId, userId, attempt: "0" },
      idempotencyKey: intentKey(bookingId, 0),
    });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.clientSecret).toMatch(/^pi_.+_secret_/);
    expect(intent.currency).toBe(intent.currency.toUpperCase());
    const [req] = posts();
    expect(req.path).toBe("/v1/payment_intents");
    expect(req.headers["idempotency-key"]).toBe(`booking-${bookingId}-attempt-0`);
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.form).toMatchObject({
      amount: "4500",
      currency: "usd",
      description: "2 seats",
      "metadata[bookingId]": bookingId,
      "metadata[userId]": userId,
      "metadata[attempt]": "0",
      "automatic_payment_methods[enabled]": "true",
      "automatic_payment_methods[allow_redirects]": "never",
    });
  });

  it("confirms, cancels and refunds with their own keys; retrieves with GET", async () => {
    const stripe = provider();
    const confirmed = await stripe.confirmPaymentIntent({ id: "pi_123", paymentMethodId: "pm_card_visa", idempotencyKey: confirmKey(bookingId, 0, "pm_card_visa") });
    expect(confirmed.intent.id).toMatch(/^pi_/);
    await stripe.cancelPaymentIntent({ id: "pi_123", reason: "abandoned", idempotencyKey: cancelKey(bookingId, 0) });
    const refund = await stripe.createRefund({
      paymentIntentId: "pi_123",
      amountMinor: 4500,
      metadata: { bookingId, reason: "cancelled by customer" },
      idempotencyKey: bookingRefundKey(bookingId),
    });
    expect(refund.id).toMatch(/^re_/);
    await stripe.retrievePaymentIntent("pi_123");

    expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/payment_intents/pi_123/confirm",
      "POST /v1/payment_intents/pi_123/cancel",
      "POST /v1/refunds",
      "GET /v1/payment_intents/pi_123",
    ]);
    const [confirm, cancel, refundReq] = posts();
    expect(confirm.form).toMatchObject({ payment_method: "pm_card_visa" });
    expect(confirm.headers["idempotency-key"]).toBe(`booking-${bookingId}-attempt-0-confirm-pm_card_visa`);
    expect(cancel.form).toMatchObject({ cancellation_reason: "abandoned" });
    expect(cancel.headers["idempotency-key"]).toBe(`booking-${bookingId}-attempt-0-cancel`);
    expect(refundReq.form).toMatchObject({ payment_intent: "pi_123", amount: "4500", "metadata[bookingId]": bookingId });
    expect(refundReq.headers["idempotency-key"]).toBe(`refund-${bookingId}`);
  });

  it("maps an unreachable Stripe to a retryable `unavailable`", async () => {
    const dead = new StripeProvider({ secretKey: KEY, apiBase: `http://127.0.0.1:${await freePort()}`, maxNetworkRetries: 0 });
    const err = await dead.retrievePaymentIntent("pi_123").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe("unavailable");
  });
});

describe("payments service on the Stripe provider (stripe-mock)", () => {
  let temporal: Awaited<ReturnType<typeof testTemporal>>;
  let h: PaymentsHarness;

  beforeAll(async () => {
    temporal = await testTemporal();
    h = await startPayments({
      signals: liveSignals(temporal.client),
      provider: () => new StripeProvider({ secretKey: KEY, apiBase: proxy.url, maxNetworkRetries: 0 }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await temporal?.close();
  });

  it("PreparePayment and ConfirmPaymentWithMethod send every POST with a key derived from booking, step and attempt", async () => {
    proxy.requests.length = 0;
    const bookingId = randomUUID();
    const userId = randomUUID();
    const prepared = await h.internal.preparePayment({ bookingId, userId, amountMinor: 4500n, currency: "USD" });
    expect(prepared).toMatchObject({ gateway: "stripe", attempt: 0, amountMinor: 4500n, currency: "USD" });
    expect(prepared.paymentIntentId).toMatch(/^pi_/);
    // repeated: the recorded intent, nothing sent
    const again = await h.internal.preparePayment({ bookingId, userId, amountMinor: 4500n, currency: "USD" });
    expect(again.paymentIntentId).toBe(prepared.paymentIntentId);

    await h.internal.confirmPaymentWithMethod({ paymentIntentId: prepared.paymentIntentId, paymentMethodId: "pm_card_visa" });

    const sent = posts();
    expect(sent.map((r) => r.path)).toEqual(["/v1/payment_intents", `/v1/payment_intents/${prepared.paymentIntentId}/confirm`]);
    expect(sent.map((r) => r.headers["idempotency-key"])).toEqual([intentKey(bookingId, 0), confirmKey(bookingId, 0, "pm_card_visa")]);
    expect(sent[0].form).toMatchObject({ amount: "4500", currency: "usd", "metadata[bookingId]": bookingId, "metadata[userId]": userId });
    for (const r of sent) expect(r.headers["idempotency-key"]).toBeTruthy();
  });

  it("SimulatePayment is refused on the Stripe provider", async () => {
    const bookingId = randomUUID();
    const prepared = await h.internal.preparePayment({ bookingId, userId: randomUUID(), amountMinor: 100n, currency: "USD" }).catch(() => undefined);
    // stripe-mock returns one fixture id for every intent, so only the first booking records it
    const id = prepared?.paymentIntentId ?? (await h.db("payment_intents").first("id")).id;
    const err = await h.internal.simulatePayment({ paymentIntentId: id, outcome: "succeeded" }).then(
      () => undefined,
      (e: { code?: number }) => e,
    );
    expect(err?.code).toBe(9); // FailedPrecondition
  });
});
