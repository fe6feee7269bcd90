import { randomUUID } from "node:crypto";
import { PaymentsService } from "../../../gen/ticketing/payments/v1/payments_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { freePort } from "../../../test/support/ports.js";
import { SIGNALS } from "../../../workflows/booking-types.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { bookingWorkflows } from "../../../workflows/booking-client.js";
import {
  deadTemporal,
  liveSignals,
  rowCounts,
  sign,
  startPayments,
  startRecorder,
  startTestWorkflowWorker,
  stripeEvent,
  testTemporal,
  waitFor,
  type PaymentsHarness,
} from "./harness.js";

/**
 * The whole webhook path as in production, on one machine: the development provider delivers its
 * signed event over HTTP to the real public gateway's `POST /api/v1/payments/webhook`, which
 * passes the raw bytes and the Stripe-Signature to HandleWebhook; the booking workflow (a
 * recorder here) gets the signal. `POST /api/v1/payments/simulate` goes through the gateway's
 * REST transcoding with the owner's token.
 */

const QUEUE = `payments-gw-${randomUUID().slice(0, 8)}`;
let temporal: Awaited<ReturnType<typeof testTemporal>>;
let worker: { close(): Promise<void> };
let h: PaymentsHarness;
let gateway: RunningGateway;
let base: string;

beforeAll(async () => {
  temporal = await testTemporal();
  worker = await startTestWorkflowWorker(QUEUE, require.resolve("./workflows/recorder"));
  const gatewayPort = await freePort();
  base = `http://127.0.0.1:${gatewayPort}`;
  h = await startPayments({ signals: liveSignals(temporal.client), webhookUrl: `${base}/api/v1/payments/webhook` });
  gateway = await buildGateway({
    host: "127.0.0.1",
    port: gatewayPort,
    logger: silentLogger(),
    upstreams: [{ service: PaymentsService, backend: "payments" }],
    urls: { payments: h.url },
    corsOrigins: [],
    maxBodyBytes: 64 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: () => h.auth.serviceToken("gateway"),
    healthTimeoutMs: 1_000,
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await h?.close();
  await worker?.close();
  await temporal?.close();
});

describe("webhook path through the public gateway", () => {
  it("simulate (REST, owner) → signed webhook → gateway → HandleWebhook → workflow signal", async () => {
    const bookingId = randomUUID();
    const userId = randomUUID();
    const recorder = await startRecorder(temporal.client, QUEUE, bookingId);
    const { paymentIntentId } = await h.internal.preparePayment({ bookingId, userId, amountMinor: 2500n, currency: "EUR" });

    const res = await fetch(`${base}/api/v1/payments/simulate`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await h.auth.userToken(userId)}` },
      body: JSON.stringify({ paymentIntentId, outcome: "succeeded" }),
    });
    expect(res.status).toBe(202);

    const signals = await waitFor("paymentSucceeded", async () => {
      const s = (await recorder.recorded()).filter((x) => x.name === SIGNALS.paymentSucceeded);
      return s.length ? s : undefined;
    });
    expect(signals[0].event).toMatchObject({ paymentIntentId, eventId: expect.stringMatching(/^evt_/) });
    const delivered = await h.db("devgw_events").where({ type: "payment_intent.succeeded" }).whereNotNull("delivered_at");
    expect(delivered).toHaveLength(1);
    expect(await h.db("webhook_events").where({ event_id: delivered[0].id, outcome: "signalled" })).toHaveLength(1);
    await recorder.finish();

    // another user: 404, existence not leaked
    const other = await fetch(`${base}/api/v1/payments/simulate`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await h.auth.userToken()}` },
      body: JSON.stringify({ paymentIntentId, outcome: "failed" }),
    });
    expect(other.status).toBe(404);
  });

  it("a bad or 301-second-old signature through the gateway is 400 with nothing written", async () => {
    const payload = stripeEvent("payment_intent.succeeded", { id: "pi_x", object: "payment_intent", metadata: {} });
    const before = await rowCounts(h.db);
    for (const signature of [sign(payload, undefined, "whsec_wrong"), sign(payload, Math.floor(Date.now() / 1000) - 301)]) {
      const res = await fetch(`${base}/api/v1/payments/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_argument" });
    }
    expect(await rowCounts(h.db)).toEqual(before);
    const ok = await fetch(`${base}/api/v1/payments/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": sign(payload) },
      body: payload,
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ eventType: "payment_intent.succeeded", ignored: true, duplicate: false });
  });

  it("Temporal unreachable: the gateway answers 503 (so Stripe retries) and nothing is recorded", async () => {
    const bookingId = randomUUID();
    const userId = randomUUID();
    const { paymentIntentId } = await h.internal.preparePayment({ bookingId, userId, amountMinor: 2500n, currency: "EUR" });
    const dead = deadTemporal(await freePort());
    const outage = await h.extraServer(bookingWorkflows(dead.client, { callTimeoutMs: 1_500 }));
    const outageGateway = await buildGateway({
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger(),
      upstreams: [{ service: PaymentsService, backend: "payments" }],
      urls: { payments: outage.url },
      corsOrigins: [],
      maxBodyBytes: 64 * 1024,
      upstreamTimeoutMs: 10_000,
      serviceCredential: () => h.auth.serviceToken("gateway"),
      healthTimeoutMs: 1_000,
    });
    try {
      const payload = stripeEvent("payment_intent.succeeded", {
        id: paymentIntentId,
        object: "payment_intent",
        amount: 2500,
        currency: "eur",
        status: "succeeded",
        metadata: { bookingId, userId, attempt: "0" },
      });
      const before = await rowCounts(h.db);
      const res = await fetch(`http://127.0.0.1:${outageGateway.port}/api/v1/payments/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": sign(payload) },
        body: payload,
      });
      expect(res.status).toBe(503);
      expect(await rowCounts(h.db)).toEqual(before);
    } finally {
      await outageGateway.close();
      await outage.close();
      await dead.close();
    }
  });
});
