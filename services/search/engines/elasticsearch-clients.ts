import { Client as ElasticClient } from "@elastic/elasticsearch";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";

/**
 * The few index operations ElasticsearchEngine needs, over either official client: the
 * Elasticsearch client (8.x: speaks to Elasticsearch 8 and, through REST compatibility, 9) and
 * the OpenSearch client (3.x: OpenSearch 1-3). They differ in request shape (top-level
 * parameters vs `body`) and response shape (the body vs `{body, statusCode}`); the queries and
 * mappings themselves are the same JSON, which elasticsearch.ts builds once.
 */
export interface ElasticsearchClient {
  readonly engine: "elasticsearch" | "opensearch";
  createIndex(index: string, body: { settings: object; mappings: object; aliases?: object }): Promise<void>;
  /** Adds fields to an index's mapping (`PUT <index>/_mapping`). */
  putMapping(index: string, mappings: object): Promise<void>;
  /** Concrete indices behind an alias; [] when the alias does not exist. */
  aliasTargets(alias: string): Promise<string[]>;
  updateAliases(actions: object[]): Promise<void>;
  deleteIndex(index: string): Promise<void>;
  /** A `_bulk` request; returns its items (one per action). */
  bulk(operations: object[], opts?: { refresh?: boolean }): Promise<BulkItem[]>;
  search(index: string, body: Record<string, unknown>, opts?: RequestOptions): Promise<SearchResponse>;
  /** The `_source` of the documents that exist, by id (fields restricted to `fields`). */
  mget(index: string, ids: string[], fields: string[]): Promise<Map<string, Record<string, unknown>>>;
  refresh(index: string): Promise<void>;
  ping(opts?: RequestOptions): Promise<void>;
  close(): Promise<void>;
}

export interface RequestOptions {
  requestTimeout?: number;
  maxRetries?: number;
}

export type BulkItem = Record<string, { _id?: string; status: number; error?: { type?: string; reason?: string } }>;

export interface SearchHit {
  _id: string;
  _version?: number;
  _score?: number | null;
  _source?: Record<string, unknown>;
  sort?: unknown[];
}

export interface SearchResponse {
  hits: { total?: number | { value: number }; hits: SearchHit[] };
}

export interface ElasticsearchClientOptions {
  engine: "elasticsearch" | "opensearch";
  url: string;
  /** Per-request timeout of indexing calls, ms. */
  requestTimeoutMs?: number;
}

type Call = (params: object, options?: object) => Promise<unknown>;

/** Not-found answers (an alias or an index that is not there). */
function statusOf(err: unknown): number | undefined {
  const e = err as { meta?: { statusCode?: number }; statusCode?: number };
  return e?.meta?.statusCode ?? e?.statusCode;
}

export function createElasticsearchClient(opts: ElasticsearchClientOptions): ElasticsearchClient {
  return opts.engine === "elasticsearch" ? elasticClient(opts) : openSearchClient(opts);
}

function elasticClient(opts: ElasticsearchClientOptions): ElasticsearchClient {
  const client = new ElasticClient({ node: opts.url, requestTimeout: opts.requestTimeoutMs ?? 10_000, maxRetries: 1 });
  const call = (fn: unknown, that: unknown) => (fn as Call).bind(that);
  return {
    engine: "elasticsearch",
    async createIndex(index, body) {
      await call(client.indices.create, client.indices)({ index, ...body });
    },
    async putMapping(index, mappings) {
      await call(client.indices.putMapping, client.indices)({ index, ...mappings });
    },
    async aliasTargets(alias) {
      try {
        const res = (await call(client.indices.getAlias, client.indices)({ name: alias })) as Record<string, unknown>;
        return Object.keys(res);
      } catch (err) {
        if (statusOf(err) === 404) return [];
        throw err;
      }
    },
    async updateAliases(actions) {
      await call(client.indices.updateAliases, client.indices)({ actions });
    },
    async deleteIndex(index) {
      try {
        await call(client.indices.delete, client.indices)({ index });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
    async bulk(operations, o) {
      const res = (await call(client.bulk, client)({ operations, refresh: o?.refresh ? "true" : undefined })) as { items: BulkItem[] };
      return res.items;
    },
    async search(index, body, o) {
      return (await call(client.search, client)({ index, ...body }, o)) as SearchResponse;
    },
    async mget(index, ids, fields) {
      const res = (await call(client.mget, client)({ index, ids, ...(fields.length ? { _source_includes: fields } : {}) })) as {
        docs: Array<{ _id: string; found?: boolean; _source?: Record<string, unknown> }>;
      };
      return new Map(res.docs.filter((d) => d.found && d._source).map((d) => [d._id, d._source!]));
    },
    async refresh(index) {
      await call(client.indices.refresh, client.indices)({ index });
    },
    async ping(o) {
      await call(client.ping, client)({}, o);
    },
    close: () => client.close(),
  };
}

function openSearchClient(opts: ElasticsearchClientOptions): ElasticsearchClient {
  const client = new OpenSearchClient({ node: opts.url, requestTimeout: opts.requestTimeoutMs ?? 10_000, maxRetries: 1 });
  const call = (fn: unknown, that: unknown) => async (params: object, options?: object) =>
    ((await (fn as Call).call(that, params, options)) as { body: unknown }).body;
  return {
    engine: "opensearch",
    async createIndex(index, body) {
      await call(client.indices.create, client.indices)({ index, body });
    },
    async putMapping(index, mappings) {
      await call(client.indices.putMapping, client.indices)({ index, body: mappings });
    },
    async aliasTargets(alias) {
      try {
        const res = (await call(client.indices.getAlias, client.indices)({ name: alias })) as Record<string, unknown>;
        return Object.keys(res);
      } catch (err) {
        if (statusOf(err) === 404) return [];
        throw err;
      }
    },
    async updateAliases(actions) {
      await call(client.indices.updateAliases, client.indices)({ body: { actions } });
    },
    async deleteIndex(index) {
      try {
        await call(client.indices.delete, client.indices)({ index });
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
    async bulk(operations, o) {
      const res = (await call(client.bulk, client)({ body: operations, refresh: o?.refresh ? "true" : undefined })) as { items: BulkItem[] };
      return res.items;
    },
    async search(index, body, o) {
      return (await call(client.search, client)({ index, body }, o)) as SearchResponse;
    },
    async mget(index, ids, fields) {
      const res = (await call(client.mget, client)({ index, body: { ids }, ...(fields.length ? { _source_includes: fields } : {}) })) as {
        docs: Array<{ _id: string; found?: boolean; _source?: Record<string, unknown> }>;
      };
      return new Map(res.docs.filter((d) => d.found && d._source).map((d) => [d._id, d._source!]));
    },
    async refresh(index) {
      await call(client.indices.refresh, client.indices)({ index });
    },
    async ping(o) {
      await call(client.ping, client)({}, o);
    },
    close: () => client.close(),
  };
}

export { statusOf };
