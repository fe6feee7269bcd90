import { Code } from "@connectrpc/connect";
import { AppError, type DomainErrorMapper } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { SearchUnavailableError } from "./engine.js";
import { CatalogRefusedError } from "./indexer.js";

/** The search service's domain errors as API errors (given to startServer as `mapError`). */
export function searchErrorMapper(logger: Logger): DomainErrorMapper {
  return (err) => {
    if (err instanceof SearchUnavailableError) {
      logger.warn({ err: err.message }, "search engine unavailable");
      return new AppError(Code.Unavailable, "search is temporarily unavailable (the search index does not answer); try again shortly");
    }
    if (err instanceof CatalogRefusedError) return new AppError(Code.FailedPrecondition, err.message);
    return undefined;
  };
}
