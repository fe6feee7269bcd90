/**
 * Full re-index: rebuilds the search index from the catalog with no downtime, then exits.
 *
 *   npx tsx services/search/reindex.ts            (node dist/services/search/reindex.js in images)
 *
 * Reads the search service's configuration (SEARCH_ENGINE / ELASTICSEARCH_URL / DATABASE_URL,
 * CATALOG_URL, BOOKING_URL, SERVICE_AUTH_SECRET). Postgres: a new table is filled and swapped in
 * one transaction; Elasticsearch/OpenSearch: a new versioned index is filled and the alias moved
 * in one atomic update. Searches are answered from the old index throughout, and what the
 * indexing activities write meanwhile is kept. Prints `{indexed, removed}` as JSON.
 * The same rebuild is the ReindexAll RPC of a running search service.
 */
import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { serviceCredential } from "../../lib/auth.js";
import { createServiceClient } from "../../lib/clients.js";
import { createLogger } from "../../lib/logger.js";
import { openEngine } from "./engines/create.js";
import { readSearchConfig } from "./config.js";
import { Indexer } from "./indexer.js";

async function main(): Promise<void> {
  const config = readSearchConfig();
  const logger = createLogger("search-reindex", config.logLevel);
  const engine = await openEngine(config, logger);
  try {
    await engine.ping();
    const credential = serviceCredential(config.serviceAuthSecret, "search");
    const indexer = new Indexer({
      engine,
      catalog: createServiceClient(CatalogService, config.catalogUrl, credential),
      booking: createServiceClient(BookingService, config.bookingUrl, credential),
      logger,
    });
    const started = Date.now();
    const result = await indexer.reindexAll();
    process.stdout.write(`${JSON.stringify({ engine: engine.name, ...result, seconds: (Date.now() - started) / 1000 })}\n`);
  } finally {
    await engine.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`re-index failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
