import type { Migration } from "../../../lib/db.js";
import { idempotencyMigration } from "../../../lib/idempotency.js";
import { outboxMigration } from "../../../lib/outbox.js";

export const SCHEMA = "catalog";

/** The exclusion constraint that keeps two showtimes of one hall from overlapping. */
export const NO_OVERLAP_CONSTRAINT = "showtimes_hall_no_overlap";
/** Unique (lower(name), lower(city)) of venues. */
export const VENUE_NAME_CITY_INDEX = "venues_name_city_unique";

export const migrations: Migration[] = [
  idempotencyMigration(SCHEMA),
  outboxMigration(SCHEMA),
  {
    name: "0001_venues_halls_events_showtimes",
    async up(knex) {
      // btree_gist lets one GiST exclusion constraint combine `hall_id =` with `range &&`. It is a
      // trusted extension (any role with CREATE on the database may add it) and ships with
      // Postgres' contrib, embedded Postgres included. Installed in `public`, which every
      // service has on its search path, so a second user of the extension finds it there.
      await knex.raw(`CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public`);

      await knex.schema.withSchema(SCHEMA).createTable("venues", (t) => {
        t.uuid("id").primary();
        t.text("name").notNullable();
        // the address, one column per field: `city` is what uniqueness and search filter on
        t.text("street").notNullable().defaultTo("");
        t.text("city").notNullable();
        t.text("district").notNullable().defaultTo("");
        t.text("state").notNullable().defaultTo("");
        t.text("zip").notNullable().defaultTo("");
        t.text("country").notNullable().defaultTo("");
        // WGS 84 degrees, 6 decimals (~0.1 m); both null when the venue has no location
        t.decimal("lat", 9, 6);
        t.decimal("lon", 9, 6);
        t.specificType("image_urls", "text[]").notNullable().defaultTo("{}");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.check("(lat IS NULL) = (lon IS NULL)", [], "venues_location_complete");
        t.check("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", [], "venues_location_range");
      });
      await knex.raw(`CREATE UNIQUE INDEX ?? ON ??.venues (lower(name), lower(city))`, [VENUE_NAME_CITY_INDEX, SCHEMA]);

      await knex.schema.withSchema(SCHEMA).createTable("halls", (t) => {
        t.uuid("id").primary();
        t.uuid("venue_id").notNullable().references("id").inTable(`${SCHEMA}.venues`);
        t.text("hall_name").notNullable();
        // the seeds' seatLayout, normalised (every seatType filled in)
        t.jsonb("seat_layout").notNullable();
        // derived from the layout when the hall is created (halls are immutable after that)
        t.integer("capacity").notNullable();
        // the distinct seat types of the layout, sorted: each showtime must price all of them
        t.specificType("seat_types", "text[]").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.unique(["id", "venue_id"]); // target of showtimes' (hall_id, venue_id) foreign key
        t.index(["venue_id"]);
        t.check("capacity > 0", [], "halls_capacity_positive");
      });

      await knex.schema.withSchema(SCHEMA).createTable("events", (t) => {
        t.uuid("id").primary();
        t.text("name").notNullable();
        t.text("category").notNullable().defaultTo("");
        t.text("description").notNullable().defaultTo("");
        t.text("image_url").notNullable().defaultTo("");
        t.specificType("keywords", "text[]").notNullable().defaultTo("{}");
        t.integer("duration_minutes").notNullable().defaultTo(0);
        t.jsonb("metadata").notNullable().defaultTo("{}");
        // the reviews service's aggregate (UpdateEventRating); the newest computed_at wins
        t.double("average_rating").notNullable().defaultTo(0);
        t.integer("review_count").notNullable().defaultTo(0);
        t.timestamp("rating_computed_at", { useTz: true });
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.check("duration_minutes BETWEEN 0 AND 10080", [], "events_duration_range");
      });

      await knex.schema.withSchema(SCHEMA).createTable("showtimes", (t) => {
        t.uuid("id").primary();
        t.uuid("event_id").notNullable().references("id").inTable(`${SCHEMA}.events`);
        t.uuid("venue_id").notNullable().references("id").inTable(`${SCHEMA}.venues`);
        t.uuid("hall_id").notNullable();
        t.timestamp("starts_at", { useTz: true }).notNullable();
        // starts_at + the event's running time when scheduled (or the default when unknown)
        t.timestamp("ends_at", { useTz: true }).notNullable();
        t.specificType("currency", "char(3)").notNullable();
        // [{seatType, amountMinor}] in integer minor units of `currency`, one per seat type of the hall
        t.jsonb("prices").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        // the hall belongs to that venue, enforced by the database too
        t.foreign(["hall_id", "venue_id"]).references(["id", "venue_id"]).inTable(`${SCHEMA}.halls`);
        t.index(["event_id", "starts_at"]);
        t.index(["venue_id"]);
        t.check("ends_at > starts_at", [], "showtimes_ends_after_start");
      });
      // No two showtimes of a hall overlap, race-free: concurrent inserts serialise on the index.
      await knex.raw(
        `ALTER TABLE ??.showtimes ADD CONSTRAINT ?? EXCLUDE USING gist (hall_id WITH =, tstzrange(starts_at, ends_at) WITH &&)`,
        [SCHEMA, NO_OVERLAP_CONSTRAINT],
      );
    },
    async down(knex) {
      await knex.schema.withSchema(SCHEMA).dropTable("showtimes");
      await knex.schema.withSchema(SCHEMA).dropTable("events");
      await knex.schema.withSchema(SCHEMA).dropTable("halls");
      await knex.schema.withSchema(SCHEMA).dropTable("venues");
    },
  },
  {
    // ListVenues and ListEvents read in (name, id) order a page at a time; events also filter on
    // lower(category). The text filter (ILIKE '%...%') scans; catalogs are small.
    name: "0002_list_indexes",
    async up(knex) {
      await knex.raw(`CREATE INDEX IF NOT EXISTS venues_name_id ON ??.venues (name, id)`, [SCHEMA]);
      await knex.raw(`CREATE INDEX IF NOT EXISTS events_name_id ON ??.events (name, id)`, [SCHEMA]);
      await knex.raw(`CREATE INDEX IF NOT EXISTS events_category_name_id ON ??.events (lower(category), name, id)`, [SCHEMA]);
    },
    async down(knex) {
      await knex.raw(`DROP INDEX IF EXISTS ??.events_category_name_id, ??.events_name_id, ??.venues_name_id`, [SCHEMA, SCHEMA, SCHEMA]);
    },
  },
];
