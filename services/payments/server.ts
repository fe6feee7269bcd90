import { PaymentsService } from "../../gen/ticketing/payments/v1/payments_pb.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import { idempotencyInterceptor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { mapPaymentsError } from "./errors.js";
import type { PaymentProvider } from "./providers/provider.js";
import { paymentsHandlers } from "./handlers.js";
import { Payments } from "./payments.js";
import type { BookingSignals } from "../../workflows/booking-client.js";
import { PaymentWebhooks } from "./webhooks.js";

export interface PaymentsServerDeps {
  db: Knex;
  verifier: TokenVerifier;
  logger: Logger;
  host: string;
  port: number;
  /** The payment provider (started and closed by the caller). */
  provider: PaymentProvider;
  /** How booking workflows are signalled (Temporal in production; tests may pass a dead client's). */
  signals: BookingSignals;
  /** STRIPE_WEBHOOK_SECRET. */
  webhookSecret: string;
  /** Webhook signature tolerance in seconds (default 300). */
  toleranceSeconds?: number;
}

export interface PaymentsServer extends RunningServer {
  /** The service's behaviour, for its Temporal activities (see activities.ts). */
  payments: Payments;
}

/**
 * Builds the payments service: the PaymentsService RPCs (SimulatePayment is public REST through
 * the gateway's transcoder; HandleWebhook is reached through the gateway's raw pass-through;
 * the rest are internal), Idempotency-Key support, and the health probe (Postgres only: while
 * Temporal is down the service still answers, and webhooks get 503 so that they are retried).
 * Importing this starts nothing.
 */
export async function build(deps: PaymentsServerDeps): Promise<PaymentsServer> {
  const payments = new Payments({
    db: deps.db,
    provider: deps.provider,
    signals: deps.signals,
    logger: deps.logger,
  });
  const webhooks = new PaymentWebhooks({
    db: deps.db,
    payments,
    signals: deps.signals,
    logger: deps.logger,
    secret: deps.webhookSecret,
    toleranceSeconds: deps.toleranceSeconds,
  });
  const server = await startServer({
    name: "payments",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) => router.service(PaymentsService, paymentsHandlers(payments, webhooks)),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
    mapError: mapPaymentsError,
    interceptors: [idempotencyInterceptor(deps.db)],
  });
  return { port: server.port, payments, close: () => server.close() };
}
