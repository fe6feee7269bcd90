import type { Knex, Migration } from "../../../lib/db.js";

/** The search service's own schema (Postgres engine only). */
export const SCHEMA = "search";
/** The live table searches read; a rebuild fills another one and renames it to this. */
export const LIVE_TABLE = "showtimes";

/**
 * cube + earthdistance (distance, GiST radius prefilter) and pg_trgm (typo tolerance), created
 * in `public` when missing. An extension lives in one schema per database: when another service
 * installed one elsewhere first, `extensionSchemas` finds it and every call is qualified with
 * that schema, so nothing depends on the search path.
 */
export async function createExtensions(knex: Knex): Promise<void> {
  for (const ext of ["cube", "earthdistance", "pg_trgm"]) {
    await knex.raw(`CREATE EXTENSION IF NOT EXISTS ${ext} WITH SCHEMA public`);
  }
}

export interface ExtensionSchemas {
  cube: string;
  earthdistance: string;
  pg_trgm: string;
}

export async function extensionSchemas(knex: Knex): Promise<ExtensionSchemas> {
  const { rows } = await knex.raw<{ rows: Array<{ extname: string; nspname: string }> }>(
    `SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname IN ('cube', 'earthdistance', 'pg_trgm')`,
  );
  const of = (name: keyof ExtensionSchemas) => {
    const row = rows.find((r) => r.extname === name);
    if (!row) throw new Error(`Postgres extension ${name} is not installed`);
    return row.nspname;
  };
  return { cube: of("cube"), earthdistance: of("earthdistance"), pg_trgm: of("pg_trgm") };
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/**
 * Creates a showtimes table with its indexes: the live one (migration) and each rebuild's. Index
 * names carry `suffix` so that a rebuilt table, renamed to `showtimes`, never clashes with the
 * names of the table it replaces. `layout` 1 is what migration 0001 created (kept as it was:
 * an applied migration does not change); a rebuild creates the current layout, the one the
 * latest migration brought the live table to (0006).
 *
 * Columns: the document (jsonb, returned as is) plus what queries filter, rank and sort on.
 * `tsv` weighs event name A, keywords B, venue name/city/category C ('simple' configuration: no
 * stemming, the same for every language, as Elasticsearch/OpenSearch's standard analyser).
 */
export async function createShowtimesTable(
  knex: Knex,
  table: string,
  suffix: string,
  ext: ExtensionSchemas,
  layout: Layout = CURRENT_LAYOUT,
): Promise<void> {
  const t = `${q(SCHEMA)}.${q(table)}`;
  await knex.raw(`
    CREATE TABLE ${t} (
      showtime_id uuid NOT NULL,
      starts_at timestamptz NOT NULL,
      event_id uuid NOT NULL,
      venue_id uuid NOT NULL,
      event_name text NOT NULL,
      keywords text NOT NULL,
      category text NOT NULL,
      venue_name text NOT NULL,
      city text NOT NULL,
      lat double precision,
      lon double precision,
      doc jsonb NOT NULL,
      available_seats integer NOT NULL,
      total_seats integer NOT NULL,
      indexed_at timestamptz NOT NULL,
      tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, event_name), 'A') ||
        setweight(to_tsvector('simple'::regconfig, keywords), 'B') ||
        setweight(to_tsvector('simple'::regconfig, venue_name || ' ' || city || ' ' || category), 'C')
      ) STORED,${layout >= 5 ? `
      ${GRID_CELL_COLUMN},` : ""}${layout >= 6 ? `
      ${PRICE_FROM_COLUMN},
      ${CURRENCY_COLUMN},` : ""}
      CONSTRAINT ${q(`showtimes_pk_${suffix}`)} PRIMARY KEY (showtime_id),
      CONSTRAINT ${q(`showtimes_location_${suffix}`)} CHECK ((lat IS NULL) = (lon IS NULL))
    )`);
  const indexes = layout === 1 ? layoutV1Indexes(ext) : layout === 3 ? layoutV3Indexes(ext) : layoutV5Indexes(ext);
  for (const [name, def] of Object.entries(indexes)) {
    await knex.raw(`CREATE INDEX ${q(`showtimes_${name}_${suffix}`)} ON ${t} ${def}`);
  }
}

/** The indexes of migration 0001 (name → definition after `ON table`). */
function layoutV1Indexes(ext: ExtensionSchemas): Record<string, string> {
  const earth = q(ext.earthdistance);
  const trgm = q(ext.pg_trgm);
  return {
    geo: `USING gist (${earth}.ll_to_earth(lat, lon)) WHERE lat IS NOT NULL`,
    starts: `(starts_at, showtime_id)`,
    tsv: `USING gin (tsv)`,
    name_trgm: `USING gin (event_name ${trgm}.gin_trgm_ops)`,
    keywords_trgm: `USING gin (keywords ${trgm}.gin_trgm_ops)`,
    event: `(event_id)`,
    venue: `(venue_id)`,
    city: `(lower(city))`,
    category: `(lower(category))`,
  };
}

/**
 * Table layouts: 1 by migration 0001, 3 by 0003, 5 by 0005, 6 by 0006 (each kept as it was
 * applied). 6 has the indexes of 5.
 */
type Layout = 1 | 3 | 5 | 6;
/** The layout a rebuild creates: the one the latest migration brought the live table to. */
export const CURRENT_LAYOUT: Layout = 6;

/**
 * The grid cell of a showtime's venue, NULL without coordinates: the formula of
 * domain/geo.ts's gridCellOf (0.1° cells), spelled out here because an applied migration never
 * changes (test/grid.test.ts checks that both agree). Layout 5's `grid` index is (cell, starts_at).
 */
const GRID_CELL_COLUMN =
  "cell integer GENERATED ALWAYS AS ((floor(lat * 10)::integer + 900) * 3601 + (floor(lon * 10)::integer + 1800)) STORED";

/**
 * Layout 6: the document's "price from" (major units) and its currency as columns, for queries
 * to come (a price filter or sort; search returns the document itself). Generated from the
 * document, so they always agree with what search returns, and no write names them: a table
 * rebuilt by an older version (a rollback, or an old replica's re-index during a rolling
 * deploy) lacks them and this version still writes, rebuilds and searches it as before. NULL
 * for documents indexed before prices, until the showtime is re-indexed.
 */
const PRICE_FROM_COLUMN = "price_from numeric GENERATED ALWAYS AS ((doc ->> 'priceFrom')::numeric) STORED";
const CURRENCY_COLUMN = "currency text GENERATED ALWAYS AS (doc ->> 'currency') STORED";

/**
 * The space-time key of a showtime: its point on earthdistance's sphere (x, y, z) plus its start
 * in epoch seconds as a 4th dimension. Queries (engines/postgres.ts) spell it with this function
 * too: the planner uses the index only for the very same expression.
 */
export function spacetimeKey(ext: ExtensionSchemas): string {
  return `${q(ext.cube)}.cube(${q(ext.earthdistance)}.ll_to_earth(lat, lon), date_part('epoch', starts_at - '1970-01-01 00:00:00+00'::timestamptz))`;
}

/**
 * Columns of the space-time index besides its key: everything a search with a location reads
 * until it has chosen its page (filters, distance, relevance, sort keys), so that those
 * searches are index-only scans that never visit the wide rows (the document is read for the
 * page's rows only).
 */
const SPACETIME_INCLUDE = "showtime_id, starts_at, lat, lon, city, category, tsv";
/** The same for a city without a location (`city` itself: the key is lower(city)). */
const CITY_INCLUDE = "city, showtime_id, category, tsv";

/** The indexes of migration 0003: layout 1 with `spacetime` and `city_starts` for what it read
 * from the table, and without the indexes no query used. */
function layoutV3Indexes(ext: ExtensionSchemas): Record<string, string> {
  const v1 = layoutV1Indexes(ext);
  return {
    // radius + dates in one R-tree: a search reads the showtimes in the box around the circle
    // *and* in its date range only (the 3-D `geo` index read every date in the box)
    spacetime: `USING gist (${spacetimeKey(ext)}) INCLUDE (${SPACETIME_INCLUDE}) WHERE lat IS NOT NULL`,
    // a city without a location (the fallback): that city's showtimes from a date on, with what
    // the text match and relevance read, without visiting the table
    city_starts: `(lower(city), starts_at) INCLUDE (${CITY_INCLUDE})`,
    starts: v1.starts,
    // no pending list: a search would read all of it (up to 4 MB after a burst of writes, until
    // the next vacuum) on top of the index
    tsv: `USING gin (tsv) WITH (fastupdate = off)`,
    event: v1.event,
    venue: v1.venue,
    category: v1.category,
  };
}

/**
 * Layout 3 plus `grid`: a radius of up to MAX_GRID_CELLS cells (engines/postgres.ts) reads the
 * showtimes of those cells in its date range by btree range scans, with what the R-tree's
 * searches read (SPACETIME_INCLUDE), index-only. The R-tree stays for wider radii.
 */
function layoutV5Indexes(ext: ExtensionSchemas): Record<string, string> {
  return {
    ...layoutV3Indexes(ext),
    grid: `(cell, starts_at) INCLUDE (${SPACETIME_INCLUDE}) WHERE lat IS NOT NULL`,
  };
}

/** The live table's suffix (index and constraint names), read from its primary key. */
async function liveSuffix(knex: Knex): Promise<string> {
  const { rows } = await knex.raw<{ rows: Array<{ conname: string }> }>(
    `SELECT conname FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'p'`,
    [`${q(SCHEMA)}.${q(LIVE_TABLE)}`],
  );
  return rows[0].conname.replace(/^showtimes_pk_/, "");
}

/**
 * Brings the live table's indexes from layout 1 to layout 3: drops those layout 3 has not (the 3-D `geo` index, superseded by `spacetime`; `city`, superseded by
 * `city_starts`; the trigram indexes on names and keywords, which no query used: typos go
 * through `search.words`) and creates the missing.
 * The live table may be a rebuilt one (another suffix): its suffix is read from its primary key.
 */
async function upgradeLiveIndexesToV3(knex: Knex, ext: ExtensionSchemas): Promise<void> {
  const suffix = await liveSuffix(knex);
  const wanted = layoutV3Indexes(ext);
  for (const name of Object.keys(layoutV1Indexes(ext))) {
    if (!(name in wanted)) await knex.raw(`DROP INDEX IF EXISTS ${q(SCHEMA)}.${q(`showtimes_${name}_${suffix}`)}`);
  }
  for (const [name, def] of Object.entries(wanted)) {
    await knex.raw(`CREATE INDEX IF NOT EXISTS ${q(`showtimes_${name}_${suffix}`)} ON ${q(SCHEMA)}.${q(LIVE_TABLE)} ${def}`);
  }
  await withoutPendingList(knex, `showtimes_tsv_${suffix}`);
}

/** Turns a GIN index's pending list off, moving what it holds into the index. */
async function withoutPendingList(knex: Knex, index: string): Promise<void> {
  await knex.raw(`ALTER INDEX ${q(SCHEMA)}.${q(index)} SET (fastupdate = off)`);
  await knex.raw(`SELECT gin_clean_pending_list(?::regclass)`, [`${q(SCHEMA)}.${q(index)}`]);
}

/**
 * The words of event names and keywords, for typo tolerance: a query word is expanded to the
 * dictionary words similar to it (pg_trgm, GIN trigram index on this small table), and the
 * showtimes are then found through their tsvector's GIN index. Never shrinks (a word no longer
 * used costs a row, nothing else).
 */
export const WORDS_TABLE = "words";

/** pg_trgm similarity from which a dictionary word counts as a typo of a query word. */
export const TRGM_THRESHOLD = 0.3;

/**
 * `search.similar_words(tokens text[], per_token int)`: for each token, the dictionary words at
 * least TRGM_THRESHOLD similar to it (pg_trgm), most similar first, then alphabetically, at most
 * `per_token`. One statement, no transaction: the function sets the threshold itself, and turns
 * sequential scans off for its query, because the planner prices a scan of the whole vocabulary
 * (pg_trgm's `%` computing trigrams of every word: milliseconds) below the trigram index (tens of
 * microseconds).
 */
export const SIMILAR_WORDS_FUNCTION = "similar_words";

async function createSimilarWordsFunction(knex: Knex, ext: ExtensionSchemas): Promise<void> {
  const trgm = q(ext.pg_trgm);
  await knex.raw(`
    CREATE OR REPLACE FUNCTION ${q(SCHEMA)}.${q(SIMILAR_WORDS_FUNCTION)}(tokens text[], per_token integer)
    RETURNS TABLE (token text, word text)
    LANGUAGE sql STABLE STRICT
    SET pg_trgm.similarity_threshold = ${Number(TRGM_THRESHOLD)}
    SET enable_seqscan = off
    AS $fn$
      SELECT t.token, s.word
        FROM unnest(tokens) AS t(token)
       CROSS JOIN LATERAL (
         SELECT w.word FROM ${q(SCHEMA)}.${q(WORDS_TABLE)} w
          WHERE w.word OPERATOR(${trgm}.%) t.token
          ORDER BY ${trgm}.similarity(w.word, t.token) DESC, w.word
          LIMIT per_token) s
    $fn$`);
}

export const migrations: Migration[] = [
  {
    name: "0001_showtimes",
    async up(knex) {
      await createExtensions(knex);
      await createShowtimesTable(knex, LIVE_TABLE, "v1", await extensionSchemas(knex), 1);
    },
  },
  {
    name: "0002_words",
    async up(knex) {
      const ext = await extensionSchemas(knex);
      await knex.raw(`CREATE TABLE ${q(SCHEMA)}.${q(WORDS_TABLE)} (word text PRIMARY KEY)`);
      await knex.raw(`CREATE INDEX words_trgm ON ${q(SCHEMA)}.${q(WORDS_TABLE)} USING gin (word ${q(ext.pg_trgm)}.gin_trgm_ops)`);
      await knex.raw(`
        INSERT INTO ${q(SCHEMA)}.${q(WORDS_TABLE)} (word)
        SELECT DISTINCT w FROM ${q(SCHEMA)}.${q(LIVE_TABLE)},
               regexp_split_to_table(lower(event_name || ' ' || keywords), '[^[:alpha:][:digit:]]+') AS w
         WHERE length(w) >= 2
        ON CONFLICT DO NOTHING`);
    },
  },
  {
    name: "0003_spacetime_index",
    async up(knex) {
      await upgradeLiveIndexesToV3(knex, await extensionSchemas(knex));
    },
  },
  {
    name: "0004_similar_words",
    async up(knex) {
      await createSimilarWordsFunction(knex, await extensionSchemas(knex));
      await withoutPendingList(knex, "words_trgm");
    },
  },
  {
    // layout 5: the grid cell column (rewrites the table once) and its index
    name: "0005_grid",
    async up(knex) {
      const suffix = await liveSuffix(knex);
      await knex.raw(`ALTER TABLE ${q(SCHEMA)}.${q(LIVE_TABLE)} ADD COLUMN IF NOT EXISTS ${GRID_CELL_COLUMN}`);
      const grid = layoutV5Indexes(await extensionSchemas(knex)).grid;
      await knex.raw(`CREATE INDEX IF NOT EXISTS ${q(`showtimes_grid_${suffix}`)} ON ${q(SCHEMA)}.${q(LIVE_TABLE)} ${grid}`);
    },
  },
  {
    // layout 6: price_from and currency, generated from the document (rewrites the table once;
    // rows indexed before prices read NULL until their showtime is re-indexed)
    name: "0006_prices",
    async up(knex) {
      await knex.raw(
        `ALTER TABLE ${q(SCHEMA)}.${q(LIVE_TABLE)} ADD COLUMN IF NOT EXISTS ${PRICE_FROM_COLUMN}, ADD COLUMN IF NOT EXISTS ${CURRENCY_COLUMN}`,
      );
    },
  },
];
