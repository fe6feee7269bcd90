import { ConfigError } from "../../../lib/config.js";
import { readSearchConfig } from "../config.js";

/** The problems readSearchConfig reports for these variables, or the engine it chooses. */
function engineOf(env: Record<string, string>): string | string[] {
  try {
    return readSearchConfig(env).searchEngine;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("search config: SEARCH_ENGINE", () => {
  const url = "http://127.0.0.1:9200";

  it("defaults to Postgres, or to Elasticsearch when ELASTICSEARCH_URL is set", () => {
    expect(engineOf({})).toBe("postgres");
    expect(engineOf({ ELASTICSEARCH_URL: url })).toBe("elasticsearch");
  });

  it("chooses any of the three engines", () => {
    expect(engineOf({ SEARCH_ENGINE: "postgres", ELASTICSEARCH_URL: url })).toBe("postgres");
    expect(engineOf({ SEARCH_ENGINE: "elasticsearch", ELASTICSEARCH_URL: url })).toBe("elasticsearch");
    expect(engineOf({ SEARCH_ENGINE: "opensearch", ELASTICSEARCH_URL: url })).toBe("opensearch");
  });

  it("refuses an unknown engine, an engine without its URL, and SEARCH_BACKEND (its old name)", () => {
    expect(engineOf({ SEARCH_ENGINE: "solr" })).toEqual(['SEARCH_ENGINE must be one of postgres, elasticsearch, opensearch, got "solr"']);
    expect(engineOf({ SEARCH_ENGINE: "opensearch" })).toEqual(["SEARCH_ENGINE=opensearch needs ELASTICSEARCH_URL (the cluster's base URL)"]);
    expect(engineOf({ SEARCH_BACKEND: "postgres" })).toEqual([
      "SEARCH_BACKEND is now SEARCH_ENGINE (postgres, elasticsearch, opensearch): set SEARCH_ENGINE=postgres instead",
    ]);
  });
});
