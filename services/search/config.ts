import { bool, ConfigError, int, optionalStr, str } from "../../lib/config.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";
import type { EngineName } from "./engine.js";

export const searchVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  port: portVar("search"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  catalogUrl: urlVar("catalog"),
  bookingUrl: urlVar("booking"),
  elasticsearchUrl: optionalStr("ELASTICSEARCH_URL", {
    doc: "search: base URL of the Elasticsearch 8/9 or OpenSearch 2.x cluster, e.g. http://elasticsearch:9200 (credentials may go in the URL)",
  }),
  engine: optionalStr("SEARCH_ENGINE", {
    doc: "search: `postgres`, `elasticsearch` or `opensearch` (the last two at ELASTICSEARCH_URL); unset = `elasticsearch` when ELASTICSEARCH_URL is set, else `postgres`",
  }),
  index: str("SEARCH_INDEX", {
    default: "showtimes",
    doc: "search: the Elasticsearch/OpenSearch alias searched and written (concrete indices are `<alias>-v<n>`)",
  }),
  queryTimeoutMs: int("SEARCH_QUERY_TIMEOUT_MS", {
    default: "3000",
    min: 100,
    max: 60_000,
    doc: "search: a search the index has not answered after this many ms fails with 503 (unavailable)",
  }),
  refreshMs: int("SEARCH_AVAILABILITY_REFRESH_MS", {
    default: "3000",
    min: 0,
    max: 3_600_000,
    doc: "search: how often indexed upcoming showtimes' `availableSeats` are refreshed from booking (0 = never)",
  }),
  liveAvailabilityMs: int("SEARCH_LIVE_AVAILABILITY_MS", {
    default: "300",
    min: 0,
    max: 10_000,
    doc: "search: each result page asks booking for live seat counts, waiting at most this many ms (0 = use the indexed counts only)",
  }),
  worker: bool("SEARCH_WORKER", {
    default: "true",
    doc: "search: run the indexer's Temporal activities (task queue `search-activities`) in the search process",
  }),
};

export type SearchConfig = ReturnType<typeof readSearchConfig>;

const ENGINES: readonly EngineName[] = ["postgres", "elasticsearch", "opensearch"];

/**
 * The engine the variables ask for (see SEARCH_ENGINE's doc). `legacyBackend` is SEARCH_BACKEND,
 * which chose the engine before SEARCH_ENGINE did (SEARCH_ENGINE then only told Elasticsearch
 * from OpenSearch): it is refused by name rather than silently ignored.
 */
export function resolveEngine(v: { engine?: string; elasticsearchUrl?: string; legacyBackend?: string }): {
  engine: EngineName;
  problems: string[];
} {
  const problems: string[] = [];
  if (v.legacyBackend) {
    problems.push(`SEARCH_BACKEND is now SEARCH_ENGINE (${ENGINES.join(", ")}): set SEARCH_ENGINE=${v.legacyBackend} instead`);
  }
  if (v.engine !== undefined && !ENGINES.includes(v.engine as EngineName)) {
    problems.push(`SEARCH_ENGINE must be one of ${ENGINES.join(", ")}, got "${v.engine}"`);
  }
  if (v.elasticsearchUrl !== undefined) {
    try {
      new URL(v.elasticsearchUrl);
    } catch {
      problems.push(`ELASTICSEARCH_URL must be a URL, got "${v.elasticsearchUrl}"`);
    }
  }
  const engine: EngineName = ENGINES.includes(v.engine as EngineName) ? (v.engine as EngineName) : v.elasticsearchUrl ? "elasticsearch" : "postgres";
  if (engine !== "postgres" && !v.elasticsearchUrl) {
    problems.push(`SEARCH_ENGINE=${engine} needs ELASTICSEARCH_URL (the cluster's base URL)`);
  }
  return { engine, problems };
}

export function readSearchConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = readServiceConfig(searchVars, env);
  const { engine, problems } = resolveEngine({ ...config, legacyBackend: env.SEARCH_BACKEND });
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({
    ...config,
    searchEngine: engine,
    elasticsearchUrl: config.elasticsearchUrl?.replace(/\/+$/, ""),
  });
}
