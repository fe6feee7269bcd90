import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { bootService } from "../../lib/bootstrap.js";
import { runMain } from "../../lib/server.js";
import { openEngine } from "./engines/create.js";
import { readSearchConfig } from "./config.js";
import { build } from "./server.js";

const config = readSearchConfig();
const { logger, verifier, client } = bootService("search", config, { temporalWorker: true });

runMain(logger, async () => {
  const engine = await openEngine(config, logger);
  try {
    const server = await build({
      engine,
      catalog: client(CatalogService, config.catalogUrl),
      booking: client(BookingService, config.bookingUrl),
      verifier,
      logger,
      host: config.host,
      port: config.port,
      liveAvailabilityMs: config.liveAvailabilityMs,
      refresher: config.refreshMs > 0 ? { intervalMs: config.refreshMs } : null,
      // connects in the background: the service answers searches while Temporal is down
      worker: config.worker ? { address: config.temporalAddress, namespace: config.temporalNamespace } : null,
    });
    logger.info({ engine: engine.name }, "search engine");
    return {
      async close() {
        await server.close();
        await engine.close();
      },
    };
  } catch (err) {
    await engine.close();
    throw err;
  }
});
