import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import { bootService } from "../../lib/bootstrap.js";
import { openDatabase } from "../../lib/db.js";
import { runMain } from "../../lib/server.js";
import { createTicketActivities } from "./activities.js";
import { readTicketsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";
import { startTicketsWorker, ticketsTaskQueue } from "./worker.js";

const config = readTicketsConfig();
const { logger, verifier, client } = bootService("tickets", config, { temporalWorker: true });

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    const server = await build({
      db,
      verifier,
      users: client(UsersService, config.usersUrl),
      logger,
      host: config.host,
      port: config.port,
    });
    // connects in the background: scanners check tickets in while Temporal is down
    const worker = startTicketsWorker({
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
      taskQueue: ticketsTaskQueue(config.taskQueueSuffix),
      activities: createTicketActivities({ office: server.office }),
      logger,
    });
    return {
      async close() {
        await server.close(); // no new scans
        await worker.close(); // activities under way finish first
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
});
