import type { Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import {
  SearchUnavailableError,
  type Availability,
  type DocumentSource,
  type SearchEngine,
  type SearchHits,
  type UpcomingCursor,
} from "../engine.js";
import { createShowtimesTable, extensionSchemas, LIVE_TABLE, SCHEMA, spacetimeKey, WORDS_TABLE, type ExtensionSchemas } from "../db/migrations.js";
import type { DocumentWrite, ShowDocument } from "../domain/document.js";
import { EARTH_RADIUS_M, gridCover } from "../domain/geo.js";
import type { SearchQuery } from "../domain/query.js";
import { SIMILAR_PER_WORD, SimilarWords, wordsOf } from "./postgres-words.js";
import { isConnectionFailure, withTimeout } from "./timeout.js";

export interface PostgresEngineOptions {
  /** A knex whose migrations (db/migrations.ts) have run: openDatabase({schema: "search"}). */
  db: Knex;
  logger: Logger;
  /** A search slower than this answers 503. Default 3 s. */
  queryTimeoutMs?: number;
}

export { TRGM_THRESHOLD } from "../db/migrations.js";
/** Weight of a typo match relative to an exact (prefix) match. */
const FUZZY_WEIGHT = 0.5;
/** ts_rank weights {D, C, B, A}: event name A, keywords B, venue name / city / category C. */
const RANK_WEIGHTS = "{0.1,0.3,0.6,1.0}";

/**
 * A radius whose bounding box spans up to this many grid cells (0.1°: about 100 km of radius)
 * is read through the grid index; a wider one through the space-time R-tree, whose cost does
 * not grow with the number of cells.
 */
export const MAX_GRID_CELLS = 400;

/** The space-time box's end without an end date (epoch seconds, year 33658). */
const NO_END_S = 1e12;

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** A piece of SQL and the values of its `?`s, in order. */
interface Fragment {
  sql: string;
  args: Knex.RawBinding[];
}

/**
 * Great-circle distance in metres from (lat, lon) to a row's location: haversine on Lucene's
 * Earth radius, the formula of domain/geo.ts and Elasticsearch/OpenSearch's `arc` distance. Plain float8
 * arithmetic: earthdistance's earth_distance(ll_to_earth(...)) gives the same distance (scaled)
 * but costs ~10 µs a row (ll_to_earth builds three cubes and checks the `earth` domain's
 * constraints, calling SQL functions), which made the distance the bulk of a radius search.
 */
function haversine(lat: number, lon: number): Fragment {
  return {
    sql:
      `(${2 * EARTH_RADIUS_M}::float8 * asin(least(1::float8, sqrt(` +
      `power(sin(radians(lat - ?::float8) / 2), 2) + cos(radians(?::float8)) * cos(radians(lat)) * power(sin(radians(lon - ?::float8) / 2), 2)))))`,
    args: [lat, lat, lon],
  };
}

interface Row {
  doc: ShowDocument;
  available_seats: number;
  total: string;
}

/**
 * The default engine: schema `search` in the platform's Postgres. Radius queries read a GiST
 * index of (ll_to_earth(lat, lon), start) points through a 4-D box (earth_box around the centre ×
 * the dates), index-only, then the exact haversine distance on Lucene's Earth radius (see
 * domain/geo.ts). Text uses weighted tsvectors (GIN); typos are handled by expanding each query
 * word to the similar words (pg_trgm) of `search.words`, the vocabulary of event names and
 * keywords. With a
 * location the relevance is multiplied by 1 + a Gaussian of the distance (1 at the centre, 0.5 at
 * the radius), like Elasticsearch/OpenSearch's function_score.
 */
export class PostgresEngine implements SearchEngine {
  readonly name = "postgres" as const;
  private ext?: ExtensionSchemas;
  /** earthdistance's Earth radius (earth()), metres. */
  private pgEarthRadius = 6_378_168;
  /** Each query word's similar dictionary words (typos), cached; forgotten when a word is added. */
  private readonly similar = new SimilarWords(() => this.opts.db);
  /**
   * Whether the live table has the grid column (layout 5). A table rebuilt by an older version
   * (a rollback, or an old replica's re-index during a rolling deploy) has not: radius searches
   * then take the R-tree until this version rebuilds it (ReindexAll).
   */
  private gridReady = true;
  private readonly timeoutMs: number;

  constructor(private readonly opts: PostgresEngineOptions) {
    this.timeoutMs = opts.queryTimeoutMs ?? 3_000;
  }

  private get db(): Knex {
    return this.opts.db;
  }

  private table(name = LIVE_TABLE): string {
    return `${q(SCHEMA)}.${q(name)}`;
  }

  async init(): Promise<void> {
    this.ext = await extensionSchemas(this.db);
    const { rows } = await this.db.raw<{ rows: Array<{ r: number }> }>(`SELECT ${q(this.ext.earthdistance)}.earth() AS r`);
    this.pgEarthRadius = Number(rows[0].r);
  }

  private extensions(): ExtensionSchemas {
    if (!this.ext) throw new Error("PostgresEngine.init() was not called");
    return this.ext;
  }

  async upsert(docs: DocumentWrite[]): Promise<void> {
    await this.upsertInto(this.db, LIVE_TABLE, docs);
  }

  private async upsertInto(db: Knex | Knex.Transaction, table: string, docs: DocumentWrite[]): Promise<void> {
    if (!docs.length) return;
    // sorted: concurrent writers take the words' row locks in one order (no deadlocks)
    const words = [...new Set(docs.flatMap((d) => wordsOf(`${d.event.name} ${d.event.keywords.join(" ")}`, 200)))]
      .filter((w) => w.length >= 2)
      .sort();
    if (words.length) {
      const added = await db.raw<{ rows: unknown[] }>(
        `INSERT INTO ${this.table(WORDS_TABLE)} (word) SELECT unnest(?::text[]) ON CONFLICT DO NOTHING RETURNING word`,
        [words],
      );
      if (added.rows.length) this.similar.forget();
    }
    const known = docs.filter((d) => d.availableSeats !== undefined);
    const unknown = docs.filter((d) => d.availableSeats === undefined);
    const columns = ["starts_at", "event_id", "venue_id", "event_name", "keywords", "category", "venue_name", "city", "lat", "lon", "doc", "total_seats", "indexed_at"];
    for (const [batch, keepSeats] of [[known, false], [unknown, true]] as const) {
      if (!batch.length) continue;
      await db
        .withSchema(SCHEMA)
        .table(table)
        .insert(batch.map(rowOf))
        .onConflict("showtime_id")
        .merge(keepSeats ? columns : [...columns, "available_seats"])
        .whereRaw(`${q(table)}.indexed_at <= excluded.indexed_at`);
    }
  }

  async remove(showtimeIds: string[]): Promise<void> {
    if (!showtimeIds.length) return;
    await this.db.withSchema(SCHEMA).table(LIVE_TABLE).whereIn("showtime_id", showtimeIds).delete();
  }

  async setAvailability(entries: Availability[]): Promise<void> {
    if (!entries.length) return;
    const values = entries.map(() => "(?::uuid, ?::int)").join(", ");
    await this.db.raw(
      `UPDATE ${this.table()} t SET available_seats = v.seats
         FROM (VALUES ${values}) AS v(id, seats)
        WHERE t.showtime_id = v.id AND t.available_seats IS DISTINCT FROM v.seats`,
      entries.flatMap((e) => [e.showtimeId, e.availableSeats]),
    );
  }

  async search(query: SearchQuery): Promise<SearchHits> {
    try {
      return await withTimeout(this.runSearch(query), this.timeoutMs, "Postgres search");
    } catch (err) {
      if (this.gridReady && isMissingGridColumn(err)) {
        this.gridReady = false;
        this.opts.logger.warn("search.showtimes has no grid column (rebuilt by an older version?): radius searches use the R-tree until this version re-indexes (ReindexAll)");
        return this.search(query);
      }
      if (err instanceof SearchUnavailableError) throw err;
      if (isConnectionFailure(err)) throw new SearchUnavailableError(`Postgres is unavailable: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  private async runSearch(query: SearchQuery): Promise<SearchHits> {
    const ext = this.extensions();
    const E = q(ext.earthdistance);
    const C = q(ext.cube);
    const where: Fragment[] = [{ sql: "starts_at >= ?", args: [query.from] }];
    if (query.to) where.push({ sql: "starts_at <= ?", args: [query.to] });
    if (query.category) where.push({ sql: "lower(category) = lower(?)", args: [query.category] });
    if (query.city) where.push({ sql: "lower(city) = lower(?)", args: [query.city] });
    let dist: Fragment = { sql: "NULL::float8", args: [] };
    if (query.near) {
      const { lat, lon, radiusKm } = query.near;
      const radiusM = radiusKm * 1000;
      dist = haversine(lat, lon);
      where.push({ sql: "lat IS NOT NULL", args: [] });
      const cover = this.gridReady ? gridCover(lat, lon, radiusM, MAX_GRID_CELLS) : undefined;
      if (cover) {
        // the grid index: the cells around the circle in the date range (btree ranges), then
        // the circle's bounding box (plain comparisons) before the exact distance
        where.push(
          { sql: "cell = ANY(?::integer[])", args: [cover.cells] },
          { sql: "lat BETWEEN ? AND ?", args: [cover.latMin, cover.latMax] },
          ...(cover.lon ? [{ sql: "lon BETWEEN ? AND ?", args: [cover.lon.min, cover.lon.max] }] : []),
        );
      } else {
        // the space-time index (GiST): the box around the circle (earthdistance's metres, 1 m of
        // slack) × the date range (1 s of slack), read without visiting the table
        const scale = EARTH_RADIUS_M / this.pgEarthRadius;
        const fromS = query.from.getTime() / 1000 - 1;
        const toS = query.to ? query.to.getTime() / 1000 + 1 : NO_END_S;
        where.push({
          sql: `${C}.cube(${E}.earth_box(${E}.ll_to_earth(?, ?), ?), ?::float8, ?::float8) OPERATOR(${C}.@>) ${spacetimeKey(ext)}`,
          args: [lat, lon, radiusM / scale + 1, fromS, toS],
        });
      }
    }
    let score: Fragment = { sql: "0::float8", args: [] };
    if (query.text) {
      const words = wordsOf(query.text, 8);
      const similar = await this.similar.of(words);
      // per query word: its prefix query, and the typo query of its similar words
      const perWord = words.map((w) => {
        const fuzzy = (similar.get(w) ?? []).filter((s) => !s.startsWith(w));
        const some = [...new Set(fuzzy)].slice(0, 2 * SIMILAR_PER_WORD);
        return { exact: `${w}:*`, fuzzy: some.length ? some.join(" | ") : undefined };
      });
      const all = perWord.flatMap((p) => [p.exact, ...(p.fuzzy ? [p.fuzzy] : [])]).join(" | ");
      // nothing to match with (no letters or digits in the query): no result
      where.push(all ? { sql: `tsv @@ to_tsquery('simple'::regconfig, ?)`, args: [all] } : { sql: "false", args: [] });
      if (all) {
        // a one-time check first, through the GIN index (or the first rows of the table, for a
        // frequent word): a query whose words match no showtime at all (a typo with no similar
        // word) answers at once instead of scanning every candidate of the radius or the city
        where.push({ sql: `EXISTS (SELECT 1 FROM ${this.table()} WHERE tsv @@ to_tsquery('simple'::regconfig, ?))`, args: [all] });
      }
      // relevance: the sum over the query's words of the better of its exact and its typo
      // match (typos weigh FUZZY_WEIGHT), each ranked with the A/B/C weights
      const rank = `ts_rank('${RANK_WEIGHTS}'::float4[], tsv, to_tsquery('simple'::regconfig, ?))`;
      const args: Knex.RawBinding[] = [];
      const parts = perWord.map((p) => {
        args.push(p.exact);
        if (!p.fuzzy) return rank;
        args.push(p.fuzzy);
        return `GREATEST(${rank}, ${FUZZY_WEIGHT} * ${rank})`;
      });
      score = { sql: `(${parts.join(" + ") || "0"})`, args };
      if (query.near) {
        // 1 + gauss(distance): 2 at the centre, 1.5 at the radius, like Elasticsearch/OpenSearch's function_score
        score = {
          sql: `(${score.sql} * (1 + exp(ln(0.5) * power(dist / ?, 2))))`,
          args: [...score.args, query.near.radiusKm * 1000],
        };
      }
    }
    const order = query.text
      ? ["score DESC", ...(query.near ? ["dist ASC"] : []), "starts_at ASC", "showtime_id ASC"]
      : [...(query.near ? ["dist ASC"] : []), "starts_at ASC", "showtime_id ASC"];
    const filter = where.map((w) => w.sql).join(" AND ");
    const filterArgs = where.flatMap((w) => w.args);
    // the page is chosen on narrow rows (id and sort keys, from the indexes alone where they
    // cover the query); documents are read for its rows only. The OFFSET 0s keep each level's
    // projection in its scan: the distance computed once a candidate (then filtered on), the
    // relevance once a match, and the window and the sort above handle four narrow columns
    const within: Fragment = query.near ? { sql: "WHERE dist <= ?", args: [query.near.radiusKm * 1000] } : { sql: "", args: [] };
    const sql = `
      SELECT s.doc, s.available_seats, p.total
        FROM (
          SELECT showtime_id, starts_at, dist, score, count(*) OVER () AS total
            FROM (
              SELECT starts_at, showtime_id, dist, ${score.sql} AS score
                FROM (
                  SELECT starts_at, showtime_id, tsv, ${dist.sql} AS dist
                    FROM ${this.table()}
                   WHERE ${filter}
                  OFFSET 0
                ) c
               ${within.sql}
              OFFSET 0
            ) m
           ORDER BY ${order.join(", ")}
           LIMIT ? OFFSET ?
        ) p
        JOIN ${this.table()} s ON s.showtime_id = p.showtime_id
       ORDER BY ${order.map((o) => `p.${o}`).join(", ")}`;
    const { rows } = await this.db.raw<{ rows: Row[] }>(sql, [
      ...score.args,
      ...dist.args,
      ...filterArgs,
      ...within.args,
      query.limit,
      query.offset,
    ]);
    let total = rows.length ? Number(rows[0].total) : 0;
    if (!rows.length && query.offset > 0) {
      const count = await this.db.raw<{ rows: Array<{ n: string }> }>(
        `SELECT count(*) AS n FROM (SELECT ${dist.sql} AS dist FROM ${this.table()} WHERE ${filter} OFFSET 0) c ${within.sql}`,
        [...dist.args, ...filterArgs, ...within.args],
      );
      total = Number(count.rows[0].n);
    }
    return { documents: rows.map((r) => ({ ...r.doc, availableSeats: r.available_seats })), total };
  }

  async upcoming(from: Date, cursor: UpcomingCursor | undefined, limit: number): Promise<UpcomingCursor[]> {
    const args: Knex.RawBinding[] = [from];
    let after = "";
    if (cursor) {
      after = "AND (starts_at, showtime_id) > (?::timestamptz, ?::uuid)";
      args.push(cursor.showtime, cursor.showtimeId);
    }
    const { rows } = await this.db.raw<{ rows: Array<{ showtime_id: string; starts_at: Date }> }>(
      `SELECT showtime_id, starts_at FROM ${this.table()} WHERE starts_at >= ? ${after}
        ORDER BY starts_at, showtime_id LIMIT ?`,
      [...args, limit],
    );
    return rows.map((r) => ({ showtimeId: r.showtime_id, showtime: r.starts_at.toISOString() }));
  }

  async showtimeIdsOf(filter: { eventId: string } | { venueId: string }): Promise<string[]> {
    const where = "eventId" in filter ? { event_id: filter.eventId } : { venue_id: filter.venueId };
    const rows: Array<{ showtime_id: string }> = await this.db.withSchema(SCHEMA).table(LIVE_TABLE).where(where).select("showtime_id");
    return rows.map((r) => r.showtime_id);
  }

  /**
   * Fills a new table while searches read the live one, then, in one short transaction that
   * blocks writers (not readers): copies over what activities wrote to the live table since the
   * rebuild started (newer data wins) and the live seat counts, drops the live table and renames
   * the new one. Documents of showtimes the catalog no longer lists are gone (`removed`).
   */
  async rebuild(source: DocumentSource): Promise<{ indexed: number; removed: number }> {
    const ext = this.extensions();
    const suffix = `r${Date.now().toString(36)}`;
    const build = `showtimes_build_${suffix}`;
    // leftovers of a rebuild that died half-way
    const { rows: stale } = await this.db.raw<{ rows: Array<{ tablename: string }> }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = ? AND tablename LIKE 'showtimes\\_build\\_%'`,
      [SCHEMA],
    );
    for (const s of stale) await this.db.raw(`DROP TABLE IF EXISTS ${this.table(s.tablename)}`);
    const startedAt: Date = (await this.db.raw<{ rows: Array<{ now: Date }> }>("SELECT now() AS now")).rows[0].now;
    await createShowtimesTable(this.db, build, suffix, ext);
    let indexed = 0;
    try {
      for await (const page of source) {
        await this.upsertInto(this.db, build, page);
        indexed += page.length;
      }
      // statistics for the planner and the visibility map for index-only scans, before searches
      // read the table (autovacuum would get there, a minute or so later)
      await this.db.raw(`VACUUM (ANALYZE) ${this.table(build)}`);
      const removed = await this.db.transaction(async (trx) => {
        await trx.raw(`LOCK TABLE ${this.table()} IN SHARE ROW EXCLUSIVE MODE`);
        const cols = "showtime_id, starts_at, event_id, venue_id, event_name, keywords, category, venue_name, city, lat, lon, doc, available_seats, total_seats, indexed_at";
        const updates = cols.split(", ").filter((c) => c !== "showtime_id").map((c) => `${c} = excluded.${c}`).join(", ");
        await trx.raw(
          `INSERT INTO ${this.table(build)} (${cols}) SELECT ${cols} FROM ${this.table()} WHERE indexed_at >= ?
           ON CONFLICT (showtime_id) DO UPDATE SET ${updates} WHERE ${q(build)}.indexed_at <= excluded.indexed_at`,
          [startedAt],
        );
        await trx.raw(
          `UPDATE ${this.table(build)} b SET available_seats = l.available_seats FROM ${this.table()} l
            WHERE l.showtime_id = b.showtime_id AND b.available_seats IS DISTINCT FROM l.available_seats`,
        );
        const { rows } = await trx.raw<{ rows: Array<{ n: string }> }>(
          `SELECT count(*) AS n FROM ${this.table()} l WHERE NOT EXISTS (SELECT 1 FROM ${this.table(build)} b WHERE b.showtime_id = l.showtime_id)`,
        );
        await trx.raw(`DROP TABLE ${this.table()}`);
        await trx.raw(`ALTER TABLE ${this.table(build)} RENAME TO ${q(LIVE_TABLE)}`);
        return Number(rows[0].n);
      });
      this.gridReady = true; // the current layout, grid included
      indexed = Number((await this.db.raw<{ rows: Array<{ n: string }> }>(`SELECT count(*) AS n FROM ${this.table()}`)).rows[0].n);
      return { indexed, removed };
    } catch (err) {
      await this.db.raw(`DROP TABLE IF EXISTS ${this.table(build)}`).catch(() => undefined);
      throw err;
    }
  }

  async refresh(): Promise<void> {
    // Postgres reads its own committed writes
  }

  async ping(): Promise<void> {
    await this.db.raw(`SELECT 1 FROM ${this.table()} LIMIT 1`);
  }

  async close(): Promise<void> {
    // the knex is the caller's
  }
}

/** Postgres' undefined_column for `cell`: the live table predates layout 5 (see gridReady). */
function isMissingGridColumn(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return e?.code === "42703" && /\bcell\b/.test(e.message ?? "");
}

function rowOf(d: DocumentWrite) {
  const doc: ShowDocument = { ...d, availableSeats: d.availableSeats ?? d.totalSeats };
  return {
    showtime_id: d.showtimeId,
    starts_at: d.showtime,
    event_id: d.event.eventId,
    venue_id: d.venue.venueId,
    event_name: d.event.name,
    keywords: d.event.keywords.join(" "),
    category: d.event.category,
    venue_name: d.venue.name,
    city: d.venue.city,
    lat: d.venue.location?.lat ?? null,
    lon: d.venue.location?.lon ?? null,
    doc: JSON.stringify(doc),
    available_seats: doc.availableSeats,
    total_seats: d.totalSeats,
    indexed_at: d.indexedAt,
  };
}
