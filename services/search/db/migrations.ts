import type { Knex, Migration } from "../../../lib/db.js";

/** The search service's own schema (Postgres backend only). */
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
 * names of the table it replaces.
 *
 * Columns: the document (jsonb, returned as is) plus what queries filter, rank and sort on.
 * `tsv` weighs event name A, keywords B, venue name/city/category C ('simple' configuration: no
 * stemming, the same for every language, as the engines' standard analyser).
 */
export async function createShowtimesTable(knex: Knex, table: string, suffix: string, ext: ExtensionSchemas): Promise<void> {
  const t = `${q(SCHEMA)}.${q(table)}`;
  const earth = q(ext.earthdistance);
  const trgm = q(ext.pg_trgm);
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
      ) STORED,
      CONSTRAINT ${q(`showtimes_pk_${suffix}`)} PRIMARY KEY (showtime_id),
      CONSTRAINT ${q(`showtimes_location_${suffix}`)} CHECK ((lat IS NULL) = (lon IS NULL))
    )`);
  const index = (name: string, def: string) => knex.raw(`CREATE INDEX ${q(`showtimes_${name}_${suffix}`)} ON ${t} ${def}`);
  await index("geo", `USING gist (${earth}.ll_to_earth(lat, lon)) WHERE lat IS NOT NULL`);
  await index("starts", `(starts_at, showtime_id)`);
  await index("tsv", `USING gin (tsv)`);
  await index("name_trgm", `USING gin (event_name ${trgm}.gin_trgm_ops)`);
  await index("keywords_trgm", `USING gin (keywords ${trgm}.gin_trgm_ops)`);
  await index("event", `(event_id)`);
  await index("venue", `(venue_id)`);
  await index("city", `(lower(city))`);
  await index("category", `(lower(category))`);
}

/**
 * The words of event names and keywords, for typo tolerance: a query word is expanded to the
 * dictionary words similar to it (pg_trgm, GIN trigram index on this small table), and the
 * showtimes are then found through their tsvector's GIN index. Never shrinks (a word no longer
 * used costs a row, nothing else).
 */
export const WORDS_TABLE = "words";

export const migrations: Migration[] = [
  {
    name: "0001_showtimes",
    async up(knex) {
      await createExtensions(knex);
      await createShowtimesTable(knex, LIVE_TABLE, "v1", await extensionSchemas(knex));
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
];
