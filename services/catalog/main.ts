import { openDatabase } from "../../lib/db.js";
import { bootService } from "../../lib/bootstrap.js";
import { runMain } from "../../lib/server.js";
import { connectTemporal } from "../../lib/temporal.js";
import { readCatalogConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { loadDemoData } from "./demo/load.js";
import { build } from "./server.js";

const config = readCatalogConfig();
const { logger, verifier } = bootService("catalog", config);

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    if (config.demoData) await loadDemoData(db, { logger });
    // Lazy: the catalog starts and takes writes while Temporal is down; its events wait in the
    // outbox and the relay retries with backoff until Temporal answers.
    const temporal = connectTemporal({ address: config.temporalAddress, namespace: config.temporalNamespace });
    // starts the outbox relay too; close() stops listening first, then the relay
    const server = await build({ db, verifier, temporal: temporal.client, logger, host: config.host, port: config.port });
    return {
      async close() {
        await server.close();
        await temporal.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
});
