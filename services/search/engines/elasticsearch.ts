import type { Logger } from "../../../lib/logger.js";
import {
  SearchUnavailableError,
  type Availability,
  type DocumentSource,
  type SearchEngine,
  type SearchHits,
  type UpcomingCursor,
} from "../engine.js";
import type { DocumentWrite, ShowDocument } from "../domain/document.js";
import type { SearchQuery } from "../domain/query.js";
import { statusOf, type BulkItem, type ElasticsearchClient, type SearchHit } from "./elasticsearch-clients.js";
import { isConnectionFailure, withTimeout } from "./timeout.js";

export interface ElasticsearchEngineOptions {
  client: ElasticsearchClient;
  /** The alias searches and writes go through; concrete indices are `<alias>-v<n>`. */
  alias: string;
  logger: Logger;
  /** A search slower than this answers 503. Default 3 s. */
  queryTimeoutMs?: number;
  /** Wait after an alias swap before copying late writes from the old index. Default 1 s. */
  swapGraceMs?: number;
}

/** Deep pages: page ≤ 1000 × pageSize ≤ 100 (the contract's bounds). */
const MAX_RESULT_WINDOW = 100_000;

/** The explicit mapping: nothing is guessed from the first document. */
export const MAPPINGS = {
  dynamic: "strict",
  properties: {
    showtimeId: { type: "keyword" },
    showtime: { type: "date" },
    event: {
      properties: {
        eventId: { type: "keyword" },
        name: { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } },
        category: { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } },
        imageUrl: { type: "keyword", index: false },
        keywords: { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } },
        averageRating: { type: "float", index: false },
        reviewCount: { type: "integer", index: false },
      },
    },
    venue: {
      properties: {
        venueId: { type: "keyword" },
        name: { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } },
        city: { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } },
        // shown, not searched
        address: { type: "object", enabled: false },
        location: { type: "geo_point" },
      },
    },
    availableSeats: { type: "integer" },
    totalSeats: { type: "integer", index: false },
    // "price from" in major units and its ISO 4217 code, indexed for a price filter or sort to
    // come; absent in documents indexed before prices (added to older indices by init(), see
    // there: no new index version needed)
    priceFrom: { type: "double" },
    currency: { type: "keyword" },
    indexedAt: { type: "date" },
  },
} as const;

export const SETTINGS = {
  number_of_shards: 1,
  // one replica wherever a second node exists, none on a single node (development, tests)
  auto_expand_replicas: "0-1",
  max_result_window: MAX_RESULT_WINDOW,
  // Set explicitly on purpose: with the default left implicit, a shard that saw no search for 30 s
  // goes "search idle" and stops refreshing, so a showtime indexed then is not findable until
  // the next search has waited for a refresh (seen: 5 s after the write under load).
  refresh_interval: "1s",
};

/** Fields of the text match, event name above keywords above the rest (the seeds' multi_match). */
export const TEXT_FIELDS = ["event.name^3", "event.keywords^2", "venue.name", "venue.city", "event.category"];

/**
 * Document versions: the catalog read time in µs-ish units (ms × 1000) with `external_gte`, so a
 * document read earlier never replaces one read later, whatever order the writes arrive in; the
 * ×1000 leaves room for the seat-count updates (each bumps the version by one) in between.
 */
export const versionOf = (indexedAt: string) => new Date(indexedAt).getTime() * 1000;

/** Builds the engine query of a SearchQuery (exported for tests and the benchmark). */
export function buildSearchBody(query: SearchQuery): Record<string, unknown> {
  const filter: object[] = [
    { range: { showtime: { gte: query.from.toISOString(), ...(query.to ? { lte: query.to.toISOString() } : {}) } } },
  ];
  if (query.category) filter.push({ term: { "event.category.keyword": { value: query.category, case_insensitive: true } } });
  if (query.city) filter.push({ term: { "venue.city.keyword": { value: query.city, case_insensitive: true } } });
  const near = query.near;
  if (near) {
    filter.push({ geo_distance: { distance: `${near.radiusKm * 1000}m`, distance_type: "arc", "venue.location": { lat: near.lat, lon: near.lon } } });
  }
  const must: object[] = query.text
    ? [{ multi_match: { query: query.text, fields: TEXT_FIELDS, type: "best_fields", fuzziness: "AUTO", tie_breaker: 0.3 } }]
    : [];
  let q: object = { bool: { filter, must } };
  if (query.text && near) {
    // relevance × (1 + gauss): 2 at the centre, 1.5 at the radius (as the Postgres engine)
    q = {
      function_score: {
        query: q,
        functions: [
          { gauss: { "venue.location": { origin: { lat: near.lat, lon: near.lon }, scale: `${near.radiusKm * 1000}m`, decay: 0.5 } } },
          { weight: 1 },
        ],
        score_mode: "sum",
        boost_mode: "multiply",
      },
    };
  }
  const geoSort = near
    ? [{ _geo_distance: { "venue.location": { lat: near.lat, lon: near.lon }, order: "asc", unit: "m", distance_type: "arc" } }]
    : [];
  const tail = [{ showtime: { order: "asc" } }, { showtimeId: { order: "asc" } }];
  const sort = query.text ? [{ _score: { order: "desc" } }, ...geoSort, ...tail] : [...geoSort, ...tail];
  return { query: q, sort, from: query.offset, size: query.limit, track_total_hits: true };
}

/**
 * Elasticsearch 8/9 and OpenSearch 2.x: one index behind an alias (`showtimes` →
 * `showtimes-v<n>`), an explicit mapping, a bool query with filters (range on the start,
 * geo_distance, category, city) and a fuzzy multi_match, distance blended into the score with a
 * gauss decay, sorted by _geo_distance then time when there is no text.
 */
export class ElasticsearchEngine implements SearchEngine {
  readonly name: "elasticsearch" | "opensearch";
  private readonly timeoutMs: number;

  constructor(private readonly opts: ElasticsearchEngineOptions) {
    this.name = opts.client.engine;
    this.timeoutMs = opts.queryTimeoutMs ?? 3_000;
  }

  private get client(): ElasticsearchClient {
    return this.opts.client;
  }

  private get alias(): string {
    return this.opts.alias;
  }

  /** Creates `<alias>-v1` behind the alias when the alias does not exist (a fixed name: two
   * starting processes cannot create two indices). */
  async init(): Promise<void> {
    const targets = await this.client.aliasTargets(this.alias);
    if (targets.length) {
      // an index made by an earlier version gets the fields added since (additions only; the
      // engine refuses any other change, which needs a new index version and a reindex)
      await this.addFields(targets);
      return;
    }
    try {
      await this.client.createIndex(`${this.alias}-v1`, { settings: SETTINGS, mappings: MAPPINGS, aliases: { [this.alias]: {} } });
    } catch (err) {
      if (!/resource_already_exists_exception/.test(String((err as Error).message))) throw err;
    }
  }

  async upsert(docs: DocumentWrite[]): Promise<void> {
    await this.upsertInto(this.alias, docs, this.alias);
  }

  /** Indexes into `index`; missing seat counts come from `seatsFrom` (or the capacity). */
  private async upsertInto(index: string, docs: DocumentWrite[], seatsFrom: string): Promise<void> {
    if (!docs.length) return;
    const missing = docs.filter((d) => d.availableSeats === undefined).map((d) => d.showtimeId);
    const existing = missing.length ? await this.client.mget(seatsFrom, missing, ["availableSeats"]) : new Map();
    const ops: object[] = [];
    for (const d of docs) {
      const seats = d.availableSeats ?? (existing.get(d.showtimeId)?.availableSeats as number | undefined) ?? d.totalSeats;
      const doc: ShowDocument = { ...d, availableSeats: seats };
      ops.push({ index: { _index: index, _id: d.showtimeId, version: versionOf(d.indexedAt), version_type: "external_gte" } }, doc);
    }
    let items = await this.client.bulk(ops);
    if (items.some(isUnmappedField)) {
      // the index's strict mapping predates a field of these documents: an index an older
      // version made after this process's init() (a rollback, or an old replica's re-index during
      // a rolling deploy). The fields are added as init() adds them, and the writes sent again
      // (those that went through are rewritten with the same version: no change)
      await this.addFields(index === this.alias ? await this.client.aliasTargets(this.alias) : [index]);
      items = await this.client.bulk(ops);
    }
    checkBulk(items, [409]);
  }

  /** Adds the fields of MAPPINGS an index lacks (`PUT <index>/_mapping`; additions only). */
  private async addFields(indices: string[]): Promise<void> {
    for (const index of indices) await this.client.putMapping(index, MAPPINGS);
  }

  async remove(showtimeIds: string[]): Promise<void> {
    if (!showtimeIds.length) return;
    const targets = await this.client.aliasTargets(this.alias);
    const ops = targets.flatMap((index) => showtimeIds.map((id) => ({ delete: { _index: index, _id: id } })));
    if (ops.length) checkBulk(await this.client.bulk(ops), [404]);
  }

  async setAvailability(entries: Availability[]): Promise<void> {
    if (!entries.length) return;
    const ops = entries.flatMap((e) => [
      { update: { _index: this.alias, _id: e.showtimeId, retry_on_conflict: 3 } },
      { doc: { availableSeats: e.availableSeats } },
    ]);
    checkBulk(await this.client.bulk(ops), [404]);
  }

  async search(query: SearchQuery): Promise<SearchHits> {
    try {
      const res = await withTimeout(
        this.client.search(this.alias, buildSearchBody(query), { requestTimeout: this.timeoutMs, maxRetries: 0 }),
        this.timeoutMs + 500,
        `${this.name} search`,
      );
      const total = res.hits.total;
      return {
        documents: res.hits.hits.map((h) => h._source as unknown as ShowDocument),
        total: typeof total === "number" ? total : (total?.value ?? 0),
      };
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): unknown {
    if (err instanceof SearchUnavailableError) return err;
    const status = statusOf(err);
    // 404: the index is not there yet (the engine was down when the service started)
    if (isConnectionFailure(err) || status === 503 || status === 429 || status === 502 || status === 404) {
      return new SearchUnavailableError(`${this.name} is unavailable: ${(err as Error).message}`, { cause: err });
    }
    return err;
  }

  async upcoming(from: Date, cursor: UpcomingCursor | undefined, limit: number): Promise<UpcomingCursor[]> {
    const res = await this.client.search(this.alias, {
      query: { range: { showtime: { gte: from.toISOString() } } },
      sort: [{ showtime: { order: "asc" } }, { showtimeId: { order: "asc" } }],
      size: limit,
      _source: ["showtime"],
      ...(cursor ? { search_after: [new Date(cursor.showtime).getTime(), cursor.showtimeId] } : {}),
    });
    return res.hits.hits.map((h) => ({ showtimeId: h._id, showtime: String(h._source?.showtime) }));
  }

  async showtimeIdsOf(filter: { eventId: string } | { venueId: string }): Promise<string[]> {
    const term = "eventId" in filter ? { "event.eventId": filter.eventId } : { "venue.venueId": filter.venueId };
    const ids: string[] = [];
    for await (const hit of this.scan(this.alias, { term }, false)) ids.push(hit._id);
    return ids;
  }

  /** Every hit of a query, by id, page by page (search_after). */
  private async *scan(index: string, query: object, source: string[] | false): AsyncGenerator<SearchHit> {
    let after: unknown[] | undefined;
    for (;;) {
      const res = await this.client.search(index, {
        query,
        sort: [{ showtimeId: { order: "asc" } }],
        size: 1000,
        _source: source,
        ...(after ? { search_after: after } : {}),
      });
      const hits = res.hits.hits;
      for (const h of hits) yield h;
      if (hits.length < 1000) return;
      after = hits[hits.length - 1].sort;
    }
  }

  /**
   * A new index `<alias>-v<ms>` is filled while searches read the old one through the alias; one
   * atomic alias update swaps them. Writes that activities made to the old index meanwhile are
   * then copied over (their versions keep the newer document), and the old index is deleted.
   */
  async rebuild(source: DocumentSource): Promise<{ indexed: number; removed: number }> {
    const startedAt = new Date();
    const old = await this.client.aliasTargets(this.alias);
    const next = `${this.alias}-v${Date.now()}`;
    await this.client.createIndex(next, { settings: SETTINGS, mappings: MAPPINGS });
    const written = new Set<string>();
    try {
      for await (const page of source) {
        await this.upsertInto(next, page, old.length ? this.alias : next);
        for (const d of page) written.add(d.showtimeId);
      }
      await this.client.refresh(next);
      await this.client.updateAliases([
        ...old.map((index) => ({ remove: { index, alias: this.alias } })),
        { add: { index: next, alias: this.alias } },
      ]);
    } catch (err) {
      await this.client.deleteIndex(next).catch(() => undefined);
      throw err;
    }
    await new Promise((r) => setTimeout(r, this.opts.swapGraceMs ?? 1_000));
    let removed = 0;
    for (const index of old) {
      await this.client.refresh(index);
      // written to the old index since the rebuild began (activities): copied, and kept where
      // newer than the rebuilt document (versions); older and not in the catalog's pages: gone
      const late: string[] = [];
      for await (const hit of this.scan(index, { match_all: {} }, ["indexedAt"])) {
        if (new Date(String(hit._source?.indexedAt)) >= startedAt) late.push(hit._id);
        else if (!written.has(hit._id)) removed++;
      }
      for (let i = 0; i < late.length; i += 500) {
        const docs = await this.client.mget(index, late.slice(i, i + 500), []);
        const ops = [...docs.entries()].flatMap(([id, doc]) => [
          { index: { _index: next, _id: id, version: versionOf(String(doc.indexedAt)), version_type: "external_gte" } },
          doc,
        ]);
        if (ops.length) checkBulk(await this.client.bulk(ops), [409]);
      }
      await this.client.deleteIndex(index);
    }
    await this.client.refresh(next);
    const count = await this.client.search(next, { size: 0, track_total_hits: true, query: { match_all: {} } });
    const total = count.hits.total;
    return { indexed: typeof total === "number" ? total : (total?.value ?? 0), removed };
  }

  async refresh(): Promise<void> {
    await this.client.refresh(this.alias);
  }

  async ping(): Promise<void> {
    try {
      // an alias lookup, not `HEAD /`: a bare Elasticsearch server (no rest-root module) has no `/`
      await this.client.aliasTargets(this.alias);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** A bulk item refused because the strict mapping lacks one of the document's fields. */
function isUnmappedField(item: BulkItem): boolean {
  const error = Object.values(item)[0]?.error;
  return error?.type === "strict_dynamic_mapping_exception" || /dynamic introduction of/.test(error?.reason ?? "");
}

/** Throws on any failed bulk item whose status is not among `tolerated`. */
function checkBulk(items: BulkItem[], tolerated: number[]): void {
  const failures = items
    .map((item) => Object.values(item)[0])
    .filter((r) => r && r.status >= 300 && !tolerated.includes(r.status));
  if (failures.length) {
    const first = failures[0];
    throw new Error(`${failures.length} bulk operation(s) failed, first: ${first.status} ${first.error?.type ?? ""} ${first.error?.reason ?? ""}`);
  }
}
