import type { ServiceImpl } from "@connectrpc/connect";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { CatalogRepo } from "./db/repo.js";
import { containsPattern, pageWindow } from "./domain/listing.js";
import { eventOut, venueOut } from "./resources.js";

/**
 * The public browse lists a web app starts from: venues and events, filtered by a text query
 * (and a category for events), ordered by name then id, a page at a time with the total count.
 * The contract bounds every input (query ≤ 100 characters, page ≤ 10000, pageSize ≤ 100).
 */
export function listHandlers(deps: { repo: CatalogRepo }): Pick<ServiceImpl<typeof CatalogService>, "listVenues" | "listEvents"> {
  const { repo } = deps;
  return {
    async listVenues(req) {
      const { rows, total } = await repo.listVenues({ contains: containsPattern(req.query), ...pageWindow(req.page, req.pageSize) });
      return { venues: rows.map(venueOut), total };
    },

    async listEvents(req) {
      const category = req.category.trim();
      const { rows, total } = await repo.listEvents({
        contains: containsPattern(req.query),
        category: category === "" ? undefined : category,
        ...pageWindow(req.page, req.pageSize),
      });
      return { events: rows.map(eventOut), total };
    },
  };
}
