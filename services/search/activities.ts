import { ApplicationFailure } from "@temporalio/common";
import type { Logger } from "../../lib/logger.js";
import type { SearchActivities } from "../../workflows/search-types.js";
import { CatalogRefusedError, type Indexer } from "./indexer.js";

/**
 * The search service's activities (task queue `search-activities`): thin wrappers over the
 * Indexer that turn the catalog's permanent refusals into non-retryable failures. Everything
 * else (the catalog, booking or the search engine down) is thrown as is and retried by Temporal,
 * so indexing catches up once the engine is back.
 */
export function createSearchActivities(indexer: Indexer, logger: Logger): SearchActivities {
  const run = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CatalogRefusedError) {
        throw ApplicationFailure.nonRetryable(err.message, "CatalogRefused");
      }
      logger.warn({ err: (err as Error).message, activity: what }, "search activity failed; Temporal retries it");
      throw err;
    }
  };
  return {
    indexShowtime: ({ showtimeId }) => run("indexShowtime", () => indexer.indexShowtime(showtimeId)),
    reindexEvent: ({ catalogEventId }) => run("reindexEvent", () => indexer.reindexEvent(catalogEventId)),
    reindexVenue: ({ venueId }) => run("reindexVenue", () => indexer.reindexVenue(venueId)),
  };
}
