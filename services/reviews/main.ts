import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { serviceCredential } from "../../lib/auth.js";
import { createServiceClient } from "../../lib/clients.js";
import { openDatabase } from "../../lib/db.js";
import { createLogger } from "../../lib/logger.js";
import { runMain } from "../../lib/server.js";
import { createServiceVerifier } from "../../lib/sessions.js";
import { readReviewsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";

const config = readReviewsConfig();
const logger = createLogger("reviews", config.logLevel);

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  try {
    const credential = serviceCredential(config.serviceAuthSecret, "reviews");
    const verifier = createServiceVerifier({
      service: "reviews",
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      jwksUrl: config.jwksUrl,
      serviceAuthSecret: config.serviceAuthSecret,
      usersUrl: config.usersUrl,
    });
    // starts the rating pusher too; close() stops listening first, then the pusher
    const server = await build({
      db,
      verifier,
      catalog: createServiceClient(CatalogService, config.catalogUrl, credential),
      booking: createServiceClient(BookingService, config.bookingUrl, credential),
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
