import type { Migration } from "../../../lib/db.js";
import { idempotencyMigration } from "../../../lib/idempotency.js";
import { rateLimitMigration } from "../../../lib/rate-limit.js";

export const SCHEMA = "booking";

/** Channel of the seat-change notifications (NOTIFY in the transaction that changes seats). */
export const INVENTORY_CHANNEL = "booking_inventory";

/**
 * The booking service's tables (docs/adr/0001-seat-inventory-storage.md explains the shape):
 *
 * - `showtime_inventory`: the header, one row per showtime: what the hold needs to know about the
 *   showtime (start, currency, prices per seat type, event for attendance checks). Written once,
 *   at initialisation; never on the hot path, so it is no lock hot-spot.
 * - `inventory_seats`: one row per seat of the showtime, keyed (showtime_id, seat_id). A hold
 *   locks and rewrites only its own few rows, so its cost does not grow with the hall.
 * - `bookings`: one row per hold, which becomes the booking.
 * - `workflow_starts`: holds whose booking workflow has not been started yet.
 *
 * The seeds' `seatMap` JSON document is what GetInventory *serves*, built from these rows.
 */
export const migrations: Migration[] = [
  idempotencyMigration(SCHEMA),
  {
    name: "0001_inventory_and_bookings",
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.showtime_inventory (
          showtime_id  uuid PRIMARY KEY,
          event_id     uuid NOT NULL,
          venue_id     uuid NOT NULL,
          hall_id      uuid NOT NULL,
          starts_at    timestamptz NOT NULL,
          currency     char(3) NOT NULL,
          -- {"<seatType>": <integer minor units of currency>}, from the catalog's showtime prices
          prices       jsonb NOT NULL,
          total_seats  integer NOT NULL CHECK (total_seats > 0),
          created_at   timestamptz NOT NULL DEFAULT now()
        )`);
      await knex.raw(`CREATE INDEX showtime_inventory_event ON ${SCHEMA}.showtime_inventory (event_id, starts_at)`);

      // A seat is available, held by a booking until held_until, or booked by a booking; the
      // CHECK keeps the columns consistent with the status. A hold past held_until is read as
      // available (and can be taken over) before anyone writes to the row.
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.inventory_seats (
          showtime_id  uuid NOT NULL REFERENCES ${SCHEMA}.showtime_inventory ON DELETE CASCADE,
          seat_id      text NOT NULL,
          -- position in the hall's layout (sections, rows, seats), the order the seat map is served in
          ordinal      integer NOT NULL,
          seat_type    text NOT NULL,
          status       text NOT NULL DEFAULT 'available',
          holder_id    uuid,
          booking_id   uuid,
          held_until   timestamptz,
          changed_at   timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (showtime_id, seat_id),
          CONSTRAINT inventory_seats_state CHECK (
               (status = 'available' AND holder_id IS NULL AND booking_id IS NULL AND held_until IS NULL)
            OR (status = 'held' AND holder_id IS NOT NULL AND booking_id IS NOT NULL AND held_until IS NOT NULL)
            OR (status = 'booked' AND holder_id IS NOT NULL AND booking_id IS NOT NULL AND held_until IS NULL)
          )
        ) WITH (fillfactor = 90)`);
      await knex.raw(`CREATE UNIQUE INDEX inventory_seats_order ON ${SCHEMA}.inventory_seats (showtime_id, ordinal)`);
      // the taken seats only: availability counts, holds to expire, the reaper
      await knex.raw(
        `CREATE INDEX inventory_seats_taken ON ${SCHEMA}.inventory_seats (showtime_id, status, held_until) WHERE status <> 'available'`,
      );

      await knex.raw(`
        CREATE TABLE ${SCHEMA}.bookings (
          id                 uuid PRIMARY KEY,
          showtime_id        uuid NOT NULL REFERENCES ${SCHEMA}.showtime_inventory,
          user_id            uuid NOT NULL,
          seat_ids           text[] NOT NULL CHECK (cardinality(seat_ids) > 0),
          amount_minor       bigint NOT NULL CHECK (amount_minor >= 0),
          currency           char(3) NOT NULL,
          status             text NOT NULL DEFAULT 'held'
                             CHECK (status IN ('held', 'confirmed', 'expired', 'cancelled', 'payment_failed')),
          payment_status     text NOT NULL DEFAULT 'pending'
                             CHECK (payment_status IN ('pending', 'paid', 'failed', 'refunded')),
          held_until         timestamptz NOT NULL,
          confirmed_at       timestamptz,
          payment_intent_id  text,
          cancelled_by       text,
          cancel_reason      text,
          created_at         timestamptz NOT NULL DEFAULT now(),
          updated_at         timestamptz NOT NULL DEFAULT now()
        )`);
      await knex.raw(`CREATE INDEX bookings_user ON ${SCHEMA}.bookings (user_id, created_at DESC, id DESC)`);
      // the per-user cap counts a user's live holds of one showtime; the reaper finds expired ones
      await knex.raw(`CREATE INDEX bookings_held ON ${SCHEMA}.bookings (showtime_id, user_id) WHERE status = 'held'`);
      await knex.raw(`CREATE INDEX bookings_held_until ON ${SCHEMA}.bookings (held_until) WHERE status = 'held'`);
      // the reaper's reconciliation looks at recently settled bookings
      await knex.raw(`CREATE INDEX bookings_recent ON ${SCHEMA}.bookings (updated_at) WHERE status <> 'held'`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${SCHEMA}.bookings`);
      await knex.raw(`DROP TABLE ${SCHEMA}.inventory_seats`);
      await knex.raw(`DROP TABLE ${SCHEMA}.showtime_inventory`);
    },
  },
  {
    /**
     * Booking workflows waiting to be started (docs/adr/0002-hold-before-workflow-start.md): the
     * hold writes its row in its own transaction, the service's starter starts the workflow and
     * deletes the row. `claimed_until` leases a row to one starter at a time (across replicas);
     * a start that failed is retried once its lease (the backoff) has passed.
     */
    name: "0002_workflow_starts",
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.workflow_starts (
          booking_id     uuid PRIMARY KEY REFERENCES ${SCHEMA}.bookings (id) ON DELETE CASCADE,
          -- the workflow's input (workflows/booking-types.ts BookingWorkflowInput)
          input          jsonb NOT NULL,
          created_at     timestamptz NOT NULL DEFAULT now(),
          claimed_until  timestamptz,
          attempts       integer NOT NULL DEFAULT 0,
          last_error     text
        )`);
      await knex.raw(`CREATE INDEX workflow_starts_due ON ${SCHEMA}.workflow_starts (created_at)`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${SCHEMA}.workflow_starts`);
    },
  },
  {
    // the claim looks for rows whose lease is over (or never began), oldest first: while Temporal
    // is down every row is leased, and an index on created_at alone had the claim walk them all
    name: "0003_workflow_starts_due",
    async up(knex) {
      await knex.raw(`DROP INDEX ${SCHEMA}.workflow_starts_due`);
      await knex.raw(`CREATE INDEX workflow_starts_due ON ${SCHEMA}.workflow_starts ((coalesce(claimed_until, '-infinity')), created_at)`);
    },
    async down(knex) {
      await knex.raw(`DROP INDEX ${SCHEMA}.workflow_starts_due`);
      await knex.raw(`CREATE INDEX workflow_starts_due ON ${SCHEMA}.workflow_starts (created_at)`);
    },
  },
  {
    // PreparePayment records here that a payment intent may exist, before it asks payments for
    // one; an expiring hold's workflow reads it (a local activity) to cancel that intent, instead
    // of a signal from payments per booking (docs/adr/0005-booking-workflow-in-the-booking-service.md)
    name: "0004_bookings_payment_attempted",
    async up(knex) {
      await knex.raw(`ALTER TABLE ${SCHEMA}.bookings ADD COLUMN payment_attempted_at timestamptz`);
    },
    async down(knex) {
      await knex.raw(`ALTER TABLE ${SCHEMA}.bookings DROP COLUMN payment_attempted_at`);
    },
  },
  {
    // Which showtimes' holds need an admission token: set by the admission service's gate
    // workflow (SetAdmissionRequired) when a waiting room is switched on and when it closes. A
    // table of its own rather than a column of showtime_inventory: a room may be switched on
    // before the inventory exists, and the hot path reads it by primary key.
    name: "0005_admission_gates",
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${SCHEMA}.admission_gates (
          showtime_id  uuid PRIMARY KEY,
          required     boolean NOT NULL,
          generation   bigint NOT NULL,
          updated_at   timestamptz NOT NULL DEFAULT now()
        )`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${SCHEMA}.admission_gates`);
    },
  },
  // hold requests per user and per showtime (services/booking/hold-limits.ts)
  rateLimitMigration(SCHEMA, "0006_rate_limit_counters"),
  {
    // Best-available seating and the orphan-seat rule (docs/adr/0008-best-available-seating.md):
    // each seat's section, row (its rank: 0 = the row nearest the focal point), place in the row
    // and distance to the focal point, computed once from the hall's layout at initialisation
    // (domain/hall-geometry.ts). Inventories initialised before this migration keep NULLs
    // (`row_count` NULL) until their first best-available request computes them from the
    // catalog's layout (InventoryRepo.setGeometry); until then the orphan rule skips them.
    // `avoid_single_seats` is the per-showtime switch of the orphan rule (UpdateSeatingPolicy).
    name: "0007_seat_geometry",
    async up(knex) {
      await knex.raw(`
        ALTER TABLE ${SCHEMA}.inventory_seats
          ADD COLUMN section text,
          ADD COLUMN row_rank integer,
          ADD COLUMN pos integer,
          ADD COLUMN score float8,
          ADD COLUMN x float8,
          ADD COLUMN y float8`);
      // the orphan rule reads the rows of the seats it holds; best-available reads runs of rows
      await knex.raw(`CREATE INDEX inventory_seats_rows ON ${SCHEMA}.inventory_seats (showtime_id, row_rank, pos) WHERE row_rank IS NOT NULL`);
      // best-available reads the best-scored seats first
      await knex.raw(`CREATE INDEX inventory_seats_score ON ${SCHEMA}.inventory_seats (showtime_id, score) WHERE score IS NOT NULL`);
      await knex.raw(`
        ALTER TABLE ${SCHEMA}.showtime_inventory
          ADD COLUMN avoid_single_seats boolean NOT NULL DEFAULT true,
          ADD COLUMN row_count integer,
          -- the longest distance between neighbours in a row (domain/hall-geometry.ts maxNeighbourGap)
          ADD COLUMN max_gap float8`);
    },
    async down(knex) {
      await knex.raw(`ALTER TABLE ${SCHEMA}.showtime_inventory DROP COLUMN avoid_single_seats, DROP COLUMN row_count, DROP COLUMN max_gap`);
      await knex.raw(`DROP INDEX ${SCHEMA}.inventory_seats_rows`);
      await knex.raw(`DROP INDEX ${SCHEMA}.inventory_seats_score`);
      await knex.raw(`
        ALTER TABLE ${SCHEMA}.inventory_seats
          DROP COLUMN section, DROP COLUMN row_rank, DROP COLUMN pos, DROP COLUMN score, DROP COLUMN x, DROP COLUMN y`);
    },
  },
];
