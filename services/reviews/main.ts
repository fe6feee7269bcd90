import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { openDatabase } from "../../lib/db.js";
import { bootService } from "../../lib/bootstrap.js";
import { runMain } from "../../lib/server.js";
import { readReviewsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";

const config = readReviewsConfig();
const { logger, verifier, client } = bootService("reviews", config);

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    // starts the rating pusher too; close() stops listening first, then the pusher
    const server = await build({
      db,
      verifier,
      catalog: client(CatalogService, config.catalogUrl),
      booking: client(BookingService, config.bookingUrl),
      logger,
      host: config.host,
      port: config.port,
    });
    return {
      async close() {
        await server.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
});
