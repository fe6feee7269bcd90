import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { serviceCredential } from "../../lib/auth.js";
import { createServiceClient } from "../../lib/clients.js";
import { createLogger } from "../../lib/logger.js";
import { runMain } from "../../lib/server.js";
import { createServiceVerifier } from "../../lib/sessions.js";
import { openEngine } from "./engines/create.js";
import { readSearchConfig } from "./config.js";
import { build } from "./server.js";

const config = readSearchConfig();
const logger = createLogger("search", config.logLevel);

runMain(logger, async () => {
  const backend = await openEngine(config, logger);
  try {
    const credential = serviceCredential(config.serviceAuthSecret, "search");
    const verifier = createServiceVerifier({
      service: "search",
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      jwksUrl: config.jwksUrl,
      serviceAuthSecret: config.serviceAuthSecret,
      usersUrl: config.usersUrl,
    });
    const server = await build({
      engine: backend,
      catalog: createServiceClient(CatalogService, config.catalogUrl, credential),
      booking: createServiceClient(BookingService, config.bookingUrl, credential),
      verifier,
      logger,
      host: config.host,
      port: config.port,
      liveAvailabilityMs: config.liveAvailabilityMs,
      refresher: config.refreshMs > 0 ? { intervalMs: config.refreshMs } : null,
      // connects in the background: the service answers searches while Temporal is down
      worker: config.worker ? { address: config.temporalAddress, namespace: config.temporalNamespace } : null,
    });
    logger.info({ backend: backend.name }, "search backend");
    return {
      async close() {
        await server.close();
        await backend.close();
      },
    };
  } catch (err) {
    await backend.close();
    throw err;
  }
});
