import type { Migration } from "../../../lib/db.js";

export const SCHEMA = "admission";

/** Channel of the serving-number moves (NOTIFY in the transaction that moves it). */
export const ROOM_CHANNEL = "admission_rooms";

/** One place per user and showtime: concurrent joins of one user serialise on this index. */
export const ONE_PLACE_PER_USER = "entries_pkey";

/**
 * The waiting rooms (docs/adr/0007-waiting-room.md):
 *
 * - `rooms`: one row per showtime that ever had a room: its settings, its state
 *   (scheduled → open → closed), how far it has served (`serving_number`) and the back of the
 *   queue (`last_position`). Each join after the on-sale time takes the next position on this
 *   row (a short row lock: the one hot row of an on-sale).
 * - `entries`: one row per buyer and showtime. `position` is NULL in the pre-queue; at the
 *   on-sale time one transaction numbers the pre-queue 1..N by `shuffle_key` (random, set at
 *   join). `admitted_at` is set by the step that served the position; the admission window runs
 *   from there.
 */
export const migrations: Migration[] = [
  {
    name: "0001_rooms_and_entries",
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.rooms (
          showtime_id          uuid PRIMARY KEY,
          enabled              boolean NOT NULL,
          on_sale_at           timestamptz NOT NULL,
          showtime_starts_at   timestamptz NOT NULL,
          rate_per_minute      integer NOT NULL CHECK (rate_per_minute >= 0),
          max_active_buyers    integer NOT NULL CHECK (max_active_buyers >= 0),
          window_seconds       integer NOT NULL CHECK (window_seconds > 0),
          state                text NOT NULL CHECK (state IN ('scheduled', 'open', 'closed')),
          serving_number       bigint NOT NULL DEFAULT 0,
          last_position        bigint NOT NULL DEFAULT 0,
          generation           bigint NOT NULL DEFAULT 1,
          opened_at            timestamptz,
          -- when the serving number last moved (what watchers compute admission windows from)
          advanced_at          timestamptz,
          updated_at           timestamptz NOT NULL DEFAULT now(),
          CHECK (serving_number <= last_position)
        )`);
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.entries (
          showtime_id   uuid NOT NULL REFERENCES ${SCHEMA}.rooms (showtime_id),
          user_id       uuid NOT NULL,
          joined_at     timestamptz NOT NULL DEFAULT now(),
          shuffle_key   bigint NOT NULL,
          position      bigint,
          admitted_at   timestamptz,
          PRIMARY KEY (showtime_id, user_id)
        )`);
      // a room's places in order (the admission step marks a range of them)
      await knex.raw(`CREATE UNIQUE INDEX entries_position ON ${SCHEMA}.entries (showtime_id, position) WHERE position IS NOT NULL`);
      // the pre-queue, in shuffled order (the opening numbers it)
      await knex.raw(`CREATE INDEX entries_prequeue ON ${SCHEMA}.entries (showtime_id, shuffle_key) WHERE position IS NULL`);
      // the cap mode's count of open admission windows
      await knex.raw(`CREATE INDEX entries_admitted ON ${SCHEMA}.entries (showtime_id, admitted_at) WHERE admitted_at IS NOT NULL`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${SCHEMA}.entries`);
      await knex.raw(`DROP TABLE ${SCHEMA}.rooms`);
    },
  },
];
