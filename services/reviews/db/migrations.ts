import type { Migration } from "../../../lib/db.js";
import { idempotencyMigration } from "../../../lib/idempotency.js";

export const SCHEMA = "reviews";

/** One review per user per event, race-free: concurrent inserts serialise on this index. */
export const ONE_PER_USER = "reviews_one_per_user_per_event";

export const migrations: Migration[] = [
  idempotencyMigration(SCHEMA),
  {
    name: "0001_reviews_and_ratings",
    async up(knex) {
      await knex.schema.withSchema(SCHEMA).createTable("reviews", (t) => {
        t.uuid("id").primary();
        t.uuid("event_id").notNullable();
        t.uuid("user_id").notNullable();
        t.smallint("rating").notNullable();
        t.text("text").notNullable();
        // the confirmed booking the booking service named when the review was allowed (audit)
        t.uuid("booking_id");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.unique(["event_id", "user_id"], { indexName: ONE_PER_USER });
        t.check("rating BETWEEN 1 AND 5", [], "reviews_rating_range");
        t.check("char_length(text) BETWEEN 1 AND 2000", [], "reviews_text_length");
      });
      // an event's reviews, newest first
      await knex.raw(`CREATE INDEX reviews_event_created ON ??.reviews (event_id, created_at DESC, id DESC)`, [SCHEMA]);

      /*
       * Each event's rating aggregate, recomputed in the transaction of every new review (under
       * this row's lock, so concurrent reviews of one event take turns), and the outbox of the
       * catalog's copy: computed_at strictly increases per event, and the row is pending until
       * the catalog has accepted that computed_at (pushed_computed_at). A newer aggregate simply
       * replaces an unsent one: only the latest value matters to the catalog.
       */
      await knex.schema.withSchema(SCHEMA).createTable("event_ratings", (t) => {
        t.uuid("event_id").primary();
        t.integer("review_count").notNullable();
        t.double("average_rating").notNullable();
        t.timestamp("computed_at", { useTz: true }).notNullable();
        t.timestamp("pushed_computed_at", { useTz: true });
        t.integer("push_attempts").notNullable().defaultTo(0);
        t.timestamp("next_push_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.text("last_push_error");
      });
      await knex.raw(
        `CREATE INDEX event_ratings_unpushed ON ??.event_ratings (next_push_at)
          WHERE pushed_computed_at IS NULL OR pushed_computed_at < computed_at`,
        [SCHEMA],
      );
    },
    async down(knex) {
      await knex.schema.withSchema(SCHEMA).dropTable("event_ratings");
      await knex.schema.withSchema(SCHEMA).dropTable("reviews");
    },
  },
];
