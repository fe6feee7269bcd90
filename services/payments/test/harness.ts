import { randomUUID } from "node:crypto";
import http from "node:http";
import type net from "node:net";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Client as TemporalClient, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from "@temporalio/client";
import { DefaultLogger, Runtime, Worker, NativeConnection } from "@temporalio/worker";
import { PaymentsService } from "../../../gen/ticketing/payments/v1/payments_pb.js";
import { createServiceClient } from "../../../lib/clients.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { httpStatusFor } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { testAuth, TEST_SERVICE_SECRET } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { serviceCredential } from "../../../lib/auth.js";
import { bookingWorkflowId } from "../../../workflows/booking-types.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { signatureHeader } from "../domain/webhook-signature.js";
import { DevelopmentProvider } from "../providers/development.js";
import type { PaymentProvider } from "../providers/provider.js";
import { build, type PaymentsServer } from "../server.js";
import { bookingWorkflows, type BookingSignals } from "../../../workflows/booking-client.js";
import type { RecordedSignal } from "./workflows/recorder.js";

export const WEBHOOK_SECRET = "whsec_test_payments_suite";
/** Where nothing listens: the development provider's deliveries just fail and are retried. */
export const NOWHERE = "http://127.0.0.1:9/api/v1/payments/webhook";

export type Auth = Awaited<ReturnType<typeof testAuth>>;

export interface PaymentsHarness {
  db: Knex;
  url: string;
  server: PaymentsServer;
  provider: PaymentProvider;
  auth: Auth;
  /** gRPC client with a service credential: how the booking service and the gateway call. */
  internal: Client<typeof PaymentsService>;
  /** Connect (HTTP/1.1) client without credentials; pass `auth.bearer(token)`. */
  client: Client<typeof PaymentsService>;
  /** Another server on the same database and provider, e.g. with a dead Temporal. */
  extraServer(signals: BookingSignals): Promise<{ url: string; internal: Client<typeof PaymentsService>; close(): Promise<void> }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  signals: BookingSignals;
  /** Defaults to the development provider delivering to `webhookUrl`. */
  provider?: (db: Knex) => PaymentProvider;
  webhookUrl?: string;
}

export async function startPayments(opts: HarnessOptions): Promise<PaymentsHarness> {
  const database = await createTestDatabase("payments");
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 30 });
  const auth = await testAuth();
  const logger = silentLogger();
  const provider =
    opts.provider?.(db) ??
    new DevelopmentProvider({ db, logger, webhook: { url: opts.webhookUrl ?? NOWHERE, secret: WEBHOOK_SECRET, pollMs: 200, initialBackoffMs: 200, maxBackoffMs: 2_000 } });
  provider.start?.();
  const start = (signals: BookingSignals) =>
    build({ db, verifier: auth.verifier, logger, host: "127.0.0.1", port: 0, provider, signals, webhookSecret: WEBHOOK_SECRET });
  const clientsFor = (port: number) => {
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      internal: createServiceClient(PaymentsService, url, serviceCredential(TEST_SERVICE_SECRET, "booking")),
      client: createClient(PaymentsService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    };
  };
  const server = await start(opts.signals);
  const extras: Array<{ close(): Promise<void> }> = [];
  return {
    db,
    server,
    provider,
    auth,
    ...clientsFor(server.port),
    async extraServer(signals) {
      const s = await start(signals);
      extras.push(s);
      const c = clientsFor(s.port);
      return { url: c.url, internal: c.internal, close: () => s.close() };
    },
    async close() {
      for (const e of extras) await e.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await provider.close();
      await db.destroy();
      await database.drop();
    },
  };
}

// ─── Temporal ───

export async function testTemporal(): Promise<{ client: TemporalClient; close(): Promise<void> }> {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error("TEST_TEMPORAL_ADDRESS is not set: run the tests with jest (global setup)");
  const connection = await Connection.connect({ address });
  return { client: new TemporalClient({ connection, namespace: "default" }), close: () => connection.close() };
}

/** A Temporal client of an address where nothing listens (an outage), failing fast. */
export function deadTemporal(port: number): { client: TemporalClient; close(): Promise<void> } {
  const connection = Connection.lazy({
    address: `127.0.0.1:${port}`,
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    connectTimeout: 1_000,
  });
  return { client: new TemporalClient({ connection, namespace: "default" }), close: () => connection.close() };
}

export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") });
  } catch {
    // already installed in this process by another suite
  }
}

/**
 * A worker running test workflows (e.g. the signal recorder) on its own task queue, with
 * `activities` for the workflows that call them locally.
 */
export async function startTestWorkflowWorker(taskQueue: string, workflowsPath: string, activities?: object): Promise<{ close(): Promise<void> }> {
  quietTemporalRuntime();
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const worker = await Worker.create({ connection, namespace: "default", taskQueue, workflowsPath, activities });
  const running = worker.run();
  return {
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** Starts the signal recorder as the booking workflow of `bookingId`. */
export async function startRecorder(client: TemporalClient, taskQueue: string, bookingId: string) {
  const handle = await client.workflow.start("paymentSignalRecorder", { taskQueue, workflowId: bookingWorkflowId(bookingId), args: [] });
  return {
    handle,
    recorded: () => handle.query<RecordedSignal[]>("recorded"),
    finish: async () => {
      await handle.signal("finish");
      await handle.result();
    },
  };
}

/** The signals through the suite's real Temporal. */
export const liveSignals = (client: TemporalClient) => bookingWorkflows(client);

// ─── webhooks ───

export interface ReceivedWebhook {
  body: Buffer;
  signature: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

/**
 * An HTTP endpoint standing in for the platform's webhook URL: it records every delivery and
 * answers with `respond` (200 by default). `forwardTo` makes it behave like the gateway's raw
 * pass-through: body and Stripe-Signature go to HandleWebhook and its status comes back.
 */
export async function startWebhookEndpoint(opts: {
  respond?: (n: number) => number;
  /** Answers a delivery only once this resolves (a slow endpoint). */
  answerAfter?: (hook: ReceivedWebhook) => Promise<void> | undefined;
  forwardTo?: () => Client<typeof PaymentsService> | undefined;
} = {}): Promise<{ url: string; received: ReceivedWebhook[]; close(): Promise<void> }> {
  const received: ReceivedWebhook[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const hook = { body: Buffer.concat(chunks), signature: String(req.headers["stripe-signature"] ?? ""), headers: req.headers, at: Date.now() };
      received.push(hook);
      const target = opts.forwardTo?.();
      if (target) {
        target.handleWebhook({ payload: new Uint8Array(hook.body), signature: hook.signature }).then(
          (out) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify(out));
          },
          (err) => {
            const e = ConnectError.from(err);
            res.writeHead(httpStatusFor(e.code), { "content-type": "application/json" });
            res.end(JSON.stringify({ code: Code[e.code], message: e.rawMessage }));
          },
        );
        return;
      }
      const n = received.length;
      const answer = () => {
        res.writeHead(opts.respond?.(n) ?? 200);
        res.end("{}");
      };
      const wait = opts.answerAfter?.(hook);
      if (wait) void wait.then(answer);
      else answer();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/payments/webhook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A Stripe-format event (what Stripe POSTs), as exact bytes. */
export function stripeEvent(type: string, object: Record<string, unknown>, id = `evt_test_${randomUUID().replace(/-/g, "")}`): Buffer {
  return Buffer.from(
    JSON.stringify({
      id,
      object: "event",
      api_version: "2026-10-28.endive",
      created: Math.floor(Date.now() / 1000),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    }),
  );
}

/** A payment_intent object as Stripe sends it in events. */
export function paymentIntentObject(p: {
  id: string;
  bookingId: string;
  userId: string;
  amount: number;
  currency?: string;
  status: string;
  attempt?: number;
  lastPaymentError?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    id: p.id,
    object: "payment_intent",
    amount: p.amount,
    currency: (p.currency ?? "usd").toLowerCase(),
    status: p.status,
    client_secret: `${p.id}_secret_test`,
    metadata: { bookingId: p.bookingId, userId: p.userId, attempt: String(p.attempt ?? 0) },
    last_payment_error: p.lastPaymentError ?? null,
    livemode: false,
  };
}

export const sign = (payload: Buffer, timestamp?: number, secret = WEBHOOK_SECRET) => signatureHeader(payload, secret, timestamp);

// ─── assertions ───

/** Rows of every table the webhook may write (the development provider's included). */
export async function rowCounts(db: Knex): Promise<Record<string, number>> {
  const tables = ["payment_intents", "payment_history", "refunds", "webhook_events", "devgw_payment_intents", "devgw_refunds", "devgw_events", "devgw_idempotency_keys"];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = Number((await db(t).count<{ count: string }>({ count: "*" }).first())?.count ?? 0);
  return out;
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

export { errorOf, waitFor } from "../../../test/support/waiting.js";
