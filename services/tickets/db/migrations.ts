import type { Migration } from "../../../lib/db.js";

export const SCHEMA = "tickets";

/**
 * Tickets and check-in (docs/adr/0009-tickets.md):
 *
 * - `signing_keys`: the Ed25519 keys tickets are signed with. `key_id` is the first 4 bytes of
 *   the SHA-256 of the raw public key (what a payload names); exactly one key is `active` (the
 *   partial unique index), the one new tickets are signed with. The private key is kept in PKCS#8
 *   PEM, unencrypted (a trade-off the ADR records).
 * - `tickets`: one per booked seat, unique per (booking, seat) so that issuing is idempotent.
 *   `payload` is the signed QR payload as issued; `status` is valid or voided (used is read
 *   from `checkins`).
 * - `checkins`: a ticket's admission, at most one (the primary key is what admits a ticket once
 *   when two gates scan it together). An offline scan made earlier replaces it (reconciliation).
 * - `duplicate_entries`: other scans of an admitted ticket that let someone in: offline scans
 *   later than the admission, and admissions an earlier offline scan superseded.
 */
export const migrations: Migration[] = [
  {
    name: "0001_keys_tickets_checkins",
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.signing_keys (
          key_id       text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{8}$'),
          public_key   bytea NOT NULL CHECK (length(public_key) = 32),
          private_key  text NOT NULL,
          active       boolean NOT NULL,
          created_at   timestamptz NOT NULL DEFAULT now()
        )`);
      // one active key: concurrent first starts and rotations serialise on it
      await knex.raw(`CREATE UNIQUE INDEX signing_keys_one_active ON ${SCHEMA}.signing_keys (active) WHERE active`);
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.tickets (
          id           uuid PRIMARY KEY,
          booking_id   uuid NOT NULL,
          showtime_id  uuid NOT NULL,
          user_id      uuid NOT NULL,
          seat_id      text NOT NULL,
          -- the seat's place in the booking, so tickets list in the order the seats were booked
          seat_index   integer NOT NULL,
          holder       text NOT NULL,
          payload      text NOT NULL,
          key_id       text NOT NULL REFERENCES ${SCHEMA}.signing_keys (key_id),
          status       text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'voided')),
          issued_at    timestamptz NOT NULL DEFAULT now(),
          voided_at    timestamptz,
          UNIQUE (booking_id, seat_id)
        )`);
      await knex.raw(`CREATE INDEX tickets_booking ON ${SCHEMA}.tickets (booking_id)`);
      await knex.raw(`CREATE INDEX tickets_showtime ON ${SCHEMA}.tickets (showtime_id)`);
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.checkins (
          ticket_id    uuid PRIMARY KEY REFERENCES ${SCHEMA}.tickets (id),
          showtime_id  uuid NOT NULL,
          scanned_at   timestamptz NOT NULL,
          gate         text NOT NULL,
          recorded_at  timestamptz NOT NULL DEFAULT now(),
          source       text NOT NULL CHECK (source IN ('online', 'offline')),
          scanned_by   uuid
        )`);
      await knex.raw(`CREATE INDEX checkins_showtime ON ${SCHEMA}.checkins (showtime_id)`);
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.duplicate_entries (
          ticket_id    uuid NOT NULL REFERENCES ${SCHEMA}.tickets (id),
          showtime_id  uuid NOT NULL,
          scanned_at   timestamptz NOT NULL,
          gate         text NOT NULL,
          source       text NOT NULL CHECK (source IN ('online', 'offline')),
          recorded_at  timestamptz NOT NULL DEFAULT now(),
          UNIQUE (ticket_id, scanned_at, gate)
        )`);
      await knex.raw(`CREATE INDEX duplicate_entries_showtime ON ${SCHEMA}.duplicate_entries (showtime_id)`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${SCHEMA}.duplicate_entries`);
      await knex.raw(`DROP TABLE ${SCHEMA}.checkins`);
      await knex.raw(`DROP TABLE ${SCHEMA}.tickets`);
      await knex.raw(`DROP TABLE ${SCHEMA}.signing_keys`);
    },
  },
];
