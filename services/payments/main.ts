import { DefaultLogger, Runtime, type LogLevel } from "@temporalio/worker";
import { openDatabase } from "../../lib/db.js";
import { createLogger } from "../../lib/logger.js";
import { runMain } from "../../lib/server.js";
import { createServiceVerifier } from "../../lib/sessions.js";
import { connectTemporal } from "../../lib/temporal.js";
import { createPaymentActivities } from "./activities.js";
import { DEV_WEBHOOK_SECRET, readPaymentsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { createProvider } from "./providers/index.js";
import { build } from "./server.js";
import { temporalBookingSignals } from "./signals.js";
import { paymentsTaskQueue, startPaymentsWorker } from "./worker.js";

const config = readPaymentsConfig();
const logger = createLogger("payments", config.logLevel);
// the Temporal SDK's own logs (worker state) only from warnings up, unless debugging
const sdkLevel: LogLevel = config.logLevel === "debug" || config.logLevel === "trace" ? "DEBUG" : "WARN";
Runtime.install({ logger: new DefaultLogger(sdkLevel) });

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    const gateway = createProvider(config, { db, logger });
    if (gateway.name === "development") {
      logger.warn(
        { webhookUrl: config.webhookUrl, devWebhookSecret: config.stripeWebhookSecret === DEV_WEBHOOK_SECRET },
        config.nodeEnv === "production"
          ? "DEVELOPMENT payment gateway in production: no real money moves and customers can simulate payments; set STRIPE_SECRET_KEY"
          : "development payment gateway (no STRIPE_SECRET_KEY): POST /api/v1/payments/simulate completes payments",
      );
    } else if (config.stripeWebhookSecret === DEV_WEBHOOK_SECRET) {
      logger.warn("STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is the development default: Stripe's webhooks will be refused (400)");
    }
    // Lazy: the service starts and answers while Temporal is down; webhooks then get 503 and
    // are redelivered, and the activity worker connects once Temporal is there.
    const temporal = connectTemporal({ address: config.temporalAddress, namespace: config.temporalNamespace });
    const verifier = createServiceVerifier({
      service: "payments",
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      jwksUrl: config.jwksUrl,
      serviceAuthSecret: config.serviceAuthSecret,
      usersUrl: config.usersUrl,
    });
    gateway.start?.();
    const server = await build({
      db,
      verifier,
      logger,
      host: config.host,
      port: config.port,
      provider: gateway,
      signals: temporalBookingSignals(temporal.client),
      webhookSecret: config.stripeWebhookSecret,
    });
    const worker = startPaymentsWorker({
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
      taskQueue: paymentsTaskQueue(config.taskQueueSuffix),
      activities: createPaymentActivities(server.payments),
      logger,
    });
    return {
      async close() {
        await server.close(); // no new calls
        await worker.close(); // running activities finish
        await gateway.close(); // the webhook sender stops
        await temporal.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
});
