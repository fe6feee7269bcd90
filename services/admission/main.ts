import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { AdmissionTokens } from "../../lib/admission-tokens.js";
import { bootService } from "../../lib/bootstrap.js";
import { openDatabase } from "../../lib/db.js";
import { runMain } from "../../lib/server.js";
import { connectTemporal } from "../../lib/temporal.js";
import { createAdmissionActivities } from "./activities.js";
import { readAdmissionConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";
import { admissionQueue, startAdmissionWorker } from "./worker.js";

const config = readAdmissionConfig();
const { logger, verifier, client } = bootService("admission", config, { temporalWorker: true });

runMain(logger, async () => {
  const taskQueue = admissionQueue(config.taskQueueSuffix);
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    // Lazy: buyers join and read their place while Temporal is down; rooms stand still until it is back
    const temporal = connectTemporal({ address: config.temporalAddress, namespace: config.temporalNamespace });
    const booking = client(BookingService, config.bookingUrl);
    const server = await build({
      db,
      databaseUrl: config.databaseUrl,
      verifier,
      tokens: new AdmissionTokens(config.admissionTokenSecret),
      catalog: client(CatalogService, config.catalogUrl),
      temporal: temporal.client,
      workflow: { taskQueue, tickMs: config.tickMs, stepsPerRun: config.stepsPerRun },
      logger,
      host: config.host,
      port: config.port,
      maxJoinsInFlight: config.maxJoinsInFlight,
      booking,
    });
    const activities = createAdmissionActivities({ repo: server.repo, booking, logger });
    const worker = startAdmissionWorker({ address: config.temporalAddress, namespace: config.temporalNamespace, taskQueue, activities, logger });
    return {
      async close() {
        await server.close(); // no new joins, streams ended
        await worker.close(); // steps under way finish first
        await temporal.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
});
