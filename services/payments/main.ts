import { openDatabase } from "../../lib/db.js";
import { bootService } from "../../lib/bootstrap.js";
import { runMain } from "../../lib/server.js";
import { connectTemporal } from "../../lib/temporal.js";
import { createPaymentActivities } from "./activities.js";
import { DEV_WEBHOOK_SECRET, readPaymentsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { createProvider } from "./providers/index.js";
import { build } from "./server.js";
import { bookingWorkflows } from "../../workflows/booking-client.js";
import { paymentsTaskQueue, startPaymentsWorker } from "./worker.js";

const config = readPaymentsConfig();
const { logger, verifier } = bootService("payments", config, { temporalWorker: true });

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    const provider = createProvider(config, { db, logger });
    if (provider.name === "development") {
      logger.warn(
        { webhookUrl: config.webhookUrl, devWebhookSecret: config.stripeWebhookSecret === DEV_WEBHOOK_SECRET },
        config.nodeEnv === "production"
          ? "DEVELOPMENT payment provider in production: no real money moves and customers can simulate payments; set STRIPE_SECRET_KEY"
          : "development payment provider (no STRIPE_SECRET_KEY): POST /api/v1/payments/simulate completes payments",
      );
    } else if (config.stripeWebhookSecret === DEV_WEBHOOK_SECRET) {
      logger.warn("STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is the development default: Stripe's webhooks will be refused (400)");
    }
    // Lazy: the service starts and answers while Temporal is down; webhooks then get 503 and
    // are redelivered, and the activity worker connects once Temporal is there.
    const temporal = connectTemporal({ address: config.temporalAddress, namespace: config.temporalNamespace });
    provider.start?.();
    const server = await build({
      db,
      verifier,
      logger,
      host: config.host,
      port: config.port,
      provider,
      signals: bookingWorkflows(temporal.client),
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
        await provider.close(); // the webhook sender stops
        await temporal.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
});
