import { bool, ConfigError, int, optionalStr, readConfig, str } from "../../lib/config.js";
import {
  assertNoDevDefaultsInProduction,
  commonVars,
  databaseVars,
  portVar,
  temporalVars,
  urlVar,
} from "../../lib/common-config.js";
import type { BackendName } from "./backend.js";

export const searchVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  port: portVar("search"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  catalogUrl: urlVar("catalog"),
  bookingUrl: urlVar("booking"),
  backend: optionalStr("SEARCH_BACKEND", {
    doc: "search: `postgres`, `elasticsearch` or `opensearch`; unset = `elasticsearch` when ELASTICSEARCH_URL is set (`opensearch` with SEARCH_ENGINE=opensearch), else `postgres`",
  }),
  elasticsearchUrl: optionalStr("ELASTICSEARCH_URL", {
    doc: "search: base URL of the Elasticsearch 8/9 or OpenSearch 2.x cluster, e.g. http://elasticsearch:9200 (credentials may go in the URL)",
  }),
  engine: optionalStr("SEARCH_ENGINE", {
    doc: "search: which engine ELASTICSEARCH_URL points at, `elasticsearch` (default) or `opensearch`",
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

const BACKENDS: readonly BackendName[] = ["postgres", "elasticsearch", "opensearch"];

/** The backend the variables ask for (see SEARCH_BACKEND's doc). */
export function resolveBackend(v: { backend?: string; elasticsearchUrl?: string; engine?: string }): {
  backend: BackendName;
  problems: string[];
} {
  const problems: string[] = [];
  if (v.backend !== undefined && !BACKENDS.includes(v.backend as BackendName)) {
    problems.push(`SEARCH_BACKEND must be one of ${BACKENDS.join(", ")}, got "${v.backend}"`);
  }
  if (v.engine !== undefined && v.engine !== "elasticsearch" && v.engine !== "opensearch") {
    problems.push(`SEARCH_ENGINE must be elasticsearch or opensearch, got "${v.engine}"`);
  }
  if (v.elasticsearchUrl !== undefined) {
    try {
      new URL(v.elasticsearchUrl);
    } catch {
      problems.push(`ELASTICSEARCH_URL must be a URL, got "${v.elasticsearchUrl}"`);
    }
  }
  const backend: BackendName = BACKENDS.includes(v.backend as BackendName)
    ? (v.backend as BackendName)
    : v.elasticsearchUrl
      ? v.engine === "opensearch"
        ? "opensearch"
        : "elasticsearch"
      : "postgres";
  if (backend !== "postgres" && !v.elasticsearchUrl) {
    problems.push(`SEARCH_BACKEND=${backend} needs ELASTICSEARCH_URL (the cluster's base URL)`);
  }
  return { backend, problems };
}

export function readSearchConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = readConfig(searchVars, env);
  const { backend, problems } = resolveBackend(config);
  if (problems.length) throw new ConfigError(problems);
  assertNoDevDefaultsInProduction(config.nodeEnv, searchVars, env);
  return Object.freeze({
    ...config,
    searchBackend: backend,
    elasticsearchUrl: config.elasticsearchUrl?.replace(/\/+$/, ""),
  });
}
