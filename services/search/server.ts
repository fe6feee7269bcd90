import type { Client } from "@connectrpc/connect";
import type { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { SearchService } from "../../gen/ticketing/search/v1/search_pb.js";
import type { TokenVerifier } from "../../lib/auth.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { createSearchActivities } from "./activities.js";
import type { SearchEngine } from "./engine.js";
import { searchErrorMapper } from "./errors.js";
import { searchHandlers } from "./handlers.js";
import { Indexer } from "./indexer.js";
import { AvailabilityRefresher } from "./refresher.js";
import { startSearchWorker, type SearchWorker } from "./worker.js";

export interface SearchServerDeps {
  /** The index, initialised (`init()` done). */
  engine: SearchEngine;
  catalog: Client<typeof CatalogService>;
  /** Booking, for seat counts; null runs without (documents show the hall's capacity). */
  booking: Client<typeof BookingService> | null;
  verifier: TokenVerifier;
  logger: Logger;
  host: string;
  port: number;
  /** The clock ("past showtimes are excluded"); tests may pin it. */
  now?: () => Date;
  /** Ask booking for the page's seat counts at query time, waiting at most this long; 0 = off. Default 300. */
  liveAvailabilityMs?: number;
  /** The periodic seat-count refresher; null/undefined = off. */
  refresher?: { intervalMs: number; perRound?: number } | null;
  /** The Temporal worker for the indexer's activities; null/undefined = none in this process. */
  worker?: { address: string; namespace: string; taskQueue?: string } | null;
}

export interface SearchServer extends RunningServer {
  indexer: Indexer;
  refresher?: AvailabilityRefresher;
  worker?: SearchWorker;
}

/**
 * Builds the search service: SearchService (REST via the gateway's transcoder), the health probe
 * (the index), and, when asked, the activity worker and the seat-count refresher. Nothing here
 * reads the environment; main.ts passes everything in.
 */
export async function build(deps: SearchServerDeps): Promise<SearchServer> {
  const now = deps.now ?? (() => new Date());
  const indexer = new Indexer({ engine: deps.engine, catalog: deps.catalog, booking: deps.booking, logger: deps.logger, now });
  const server = await startServer({
    name: "search",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) =>
      router.service(
        SearchService,
        searchHandlers({ engine: deps.engine, indexer, now, liveAvailabilityMs: deps.liveAvailabilityMs ?? 300 }),
      ),
    healthChecks: { [deps.engine.name]: () => deps.engine.ping() },
    mapError: searchErrorMapper(deps.logger),
  });
  const refresher =
    deps.refresher && deps.booking
      ? new AvailabilityRefresher({ engine: deps.engine, indexer, logger: deps.logger, now, ...deps.refresher })
      : undefined;
  refresher?.start();
  const worker = deps.worker
    ? startSearchWorker({ ...deps.worker, activities: createSearchActivities(indexer, deps.logger), logger: deps.logger })
    : undefined;
  return {
    port: server.port,
    indexer,
    refresher,
    worker,
    async close() {
      await server.close();
      await worker?.close();
      await refresher?.stop();
    },
  };
}
