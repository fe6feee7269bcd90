import { PaymentsService } from "../../gen/ticketing/payments/v1/payments_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { AdmissionTokens } from "../../lib/admission-tokens.js";
import { openDatabase, openSidePool } from "../../lib/db.js";
import { bootService } from "../../lib/bootstrap.js";
import { runMain } from "../../lib/server.js";
import { connectTemporal } from "../../lib/temporal.js";
import { catalogGeometry, createBookingActivities } from "./activities.js";
import { holdRateSettingsOf, readBookingConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";
import { bookingQueues, ensureReaperSchedule, startActivityWorker, startBookingWorkflowWorker } from "./worker.js";

const config = readBookingConfig();
const { logger, verifier, client } = bootService("booking", config, { temporalWorker: true });

runMain(logger, async () => {
  const queues = bookingQueues(config.taskQueueSuffix);
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  // the few connections of a hold's checks: rate limits, the waiting room's gate (BookingServerDeps.limitsDb)
  const limitsDb = openSidePool({ url: config.databaseUrl, schema: SCHEMA, poolMax: 4 });
  try {
    // Lazy: the service starts, serves seat maps and takes holds while Temporal is down (their
    // workflows start when it is back; payments answer 503 until then)
    const temporal = connectTemporal({ address: config.temporalAddress, namespace: config.temporalNamespace });
    // made below, once the activities have the server's repositories
    const ownWorker: { current?: ReturnType<typeof startBookingWorkflowWorker> } = {};
    const catalog = client(CatalogService, config.catalogUrl);
    const server = await build({
      db,
      limitsDb,
      databaseUrl: config.databaseUrl,
      verifier,
      payments: client(PaymentsService, config.paymentsUrl),
      temporal: temporal.client,
      workflowTaskQueue: queues.bookingWorkflows,
      eagerClient: () => ownWorker.current?.client(),
      logger,
      host: config.host,
      port: config.port,
      limits: {
        maxSeatsPerHold: config.maxSeatsPerHold,
        maxHeldSeatsPerUser: config.maxHeldSeatsPerUser,
        defaultHoldSeconds: config.defaultHoldSeconds,
      },
      holdRates: holdRateSettingsOf(config),
      starter: { concurrency: config.workflowStartConcurrency },
      admissionTokens: new AdmissionTokens(config.admissionTokenSecret),
      geometryOf: (showtimeId) => catalogGeometry(catalog, showtimeId),
    });
    const activities = createBookingActivities({ repo: server.repo, catalog, workflows: server.workflows, logger });
    const temporalAt = { address: config.temporalAddress, namespace: config.temporalNamespace, activities, logger };
    const worker = startActivityWorker({ ...temporalAt, taskQueue: queues.activities });
    const workflowWorker = (ownWorker.current = startBookingWorkflowWorker({ ...temporalAt, taskQueue: queues.bookingWorkflows }));
    const schedule = ensureReaperSchedule(temporal.client, {
      logger,
      scheduleId: queues.reaperScheduleId,
      taskQueue: queues.workflows,
    });
    return {
      async close() {
        await server.close(); // no new holds, streams ended
        await schedule.close();
        await workflowWorker.close(); // workflow tasks under way finish first
        await worker.close(); // running activities finish first
        await temporal.close();
        await limitsDb.destroy();
        await db.destroy();
      },
    };
  } catch (err) {
    await limitsDb.destroy();
    await db.destroy();
    throw err;
  }
});
