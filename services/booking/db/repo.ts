import type { Knex } from "../../../lib/db.js";
import {
  HoldLimitError,
  InventoryMissingError,
  SeatsTakenError,
  ShowStartedError,
  UnknownSeatsError,
} from "../domain/errors.js";
import { holdAmountMinor } from "../domain/pricing.js";
import type { BookingStatus, PaymentStatus, SeatStatus, SeatView } from "../domain/seats.js";
import { INVENTORY_CHANNEL } from "./migrations.js";

/** A query runner: the pool or a transaction. */
export type Db = Knex | Knex.Transaction;

export interface InventoryHeader {
  showtimeId: string;
  eventId: string;
  venueId: string;
  hallId: string;
  startsAt: Date;
  currency: string;
  /** Integer minor units of `currency` per seat type. */
  prices: Record<string, number>;
}

export interface SeatInit {
  seatId: string;
  seatType: string;
}

export interface BookingRecord {
  id: string;
  showtimeId: string;
  userId: string;
  seatIds: string[];
  amountMinor: number;
  currency: string;
  status: BookingStatus;
  paymentStatus: PaymentStatus;
  heldUntil: Date;
  confirmedAt?: Date;
  paymentIntentId?: string;
  createdAt: Date;
  /** Start of the show (from the inventory header). */
  startsAt: Date;
}

export interface HoldRequest {
  bookingId: string;
  showtimeId: string;
  userId: string;
  /** Distinct ids (the caller checked duplicates and the count). */
  seatIds: string[];
  holdSeconds: number;
  /** Most seats the user may hold of this showtime at once, this hold included. */
  maxHeldPerUser: number;
}

export interface HoldResult {
  booking: BookingRecord;
}

/** One seat change notification; at most ~8000 bytes, else only the showtime (re-read all). */
export interface SeatChange {
  showtimeId: string;
  /** Undefined: too many to list, every seat may have changed. */
  seatIds?: string[];
}

/** Postgres refuses NOTIFY payloads of 8000 bytes or more; leave room. */
const MAX_NOTIFY_BYTES = 7900;

export function encodeChange(showtimeId: string, seatIds: readonly string[]): string {
  const full = JSON.stringify({ s: showtimeId, ids: seatIds });
  return Buffer.byteLength(full) <= MAX_NOTIFY_BYTES ? full : JSON.stringify({ s: showtimeId });
}

export function decodeChange(payload: string): SeatChange | undefined {
  try {
    const v = JSON.parse(payload) as { s?: unknown; ids?: unknown };
    if (typeof v.s !== "string") return undefined;
    const ids = Array.isArray(v.ids) && v.ids.every((x) => typeof x === "string") ? (v.ids as string[]) : undefined;
    return { showtimeId: v.s, seatIds: ids };
  } catch {
    return undefined;
  }
}

interface BookingRow {
  id: string;
  showtime_id: string;
  user_id: string;
  seat_ids: string[];
  amount_minor: string;
  currency: string;
  status: BookingStatus;
  payment_status: PaymentStatus;
  held_until: Date;
  confirmed_at: Date | null;
  payment_intent_id: string | null;
  created_at: Date;
  starts_at: Date;
}

const BOOKING_COLUMNS = `b.id, b.showtime_id, b.user_id, b.seat_ids, b.amount_minor, b.currency, b.status,
  b.payment_status, b.held_until, b.confirmed_at, b.payment_intent_id, b.created_at, h.starts_at`;

const toBooking = (r: BookingRow): BookingRecord => ({
  id: r.id,
  showtimeId: r.showtime_id,
  userId: r.user_id,
  seatIds: r.seat_ids,
  amountMinor: Number(r.amount_minor),
  currency: r.currency,
  status: r.status,
  paymentStatus: r.payment_status,
  heldUntil: r.held_until,
  confirmedAt: r.confirmed_at ?? undefined,
  paymentIntentId: r.payment_intent_id ?? undefined,
  createdAt: r.created_at,
  startsAt: r.starts_at,
});

/**
 * One seat row as read: status, holder, booking, held_until in epoch ms, changed_at in epoch
 * ms, and whether it is a hold that has run out (which reads as available).
 */
type SeatRow = [string, SeatStatus, string | null, string | null, number | null, number, boolean];

const SEAT_COLUMNS = `seat_id, status, holder_id, booking_id,
  floor(extract(epoch FROM held_until) * 1000)::float8,
  floor(extract(epoch FROM changed_at) * 1000)::float8,
  (status = 'held' AND held_until <= now())`;

function seatView(r: SeatRow): SeatView {
  const [seatId, status, holderId, bookingId, heldUntilMs, , expired] = r;
  if (status === "available" || expired) return { seatId, status: "available" };
  return {
    seatId,
    status,
    holderId: holderId ?? undefined,
    bookingId: bookingId ?? undefined,
    heldUntilMs: status === "held" ? (heldUntilMs ?? undefined) : undefined,
  };
}

/**
 * Seats as read, and `lastUpdatedMs`: the latest change among them, a write to a seat or a hold
 * running out (which writes nothing).
 */
export interface SeatRead {
  seats: SeatView[];
  lastUpdatedMs: number;
}

/** One pass over the rows. */
function readSeats(rows: SeatRow[]): SeatRead {
  const seats: SeatView[] = new Array(rows.length);
  let last = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r[5] > last) last = r[5];
    if (r[6] && r[4] !== null && r[4] > last) last = r[4]; // the hold ran out then
    seats[i] = seatView(r);
  }
  return { seats, lastUpdatedMs: last };
}

/** A JSON string literal as Postgres' to_json writes it; most need no escapes at all. */
function jsonString(literal: string): string {
  return literal.includes("\\") ? (JSON.parse(literal) as string) : literal.slice(1, -1);
}

/** The notification of changed seats, as a SQL expression to run in the changing transaction. */
function notify(q: Db, showtimeId: string, seatIds: readonly string[]) {
  return q.raw(`SELECT pg_notify(?, ?)`, [INVENTORY_CHANNEL, encodeChange(showtimeId, seatIds)]);
}

/**
 * The booking service's queries. Every seat change happens in one short transaction that locks
 * the seat rows it touches in seat_id order (so overlapping transactions queue instead of
 * deadlocking) and sends a NOTIFY that commits with it.
 */
/** Failed starts after which the reaper releases a lapsed hold whose workflow never started. */
export const REAP_AFTER_FAILED_STARTS = 5;

export interface PendingWorkflowStart {
  bookingId: string;
  /** The workflow's input, as the hold wrote it. */
  input: unknown;
  /** How many times it was claimed, this time included. */
  attempts: number;
}

export class BookingRepo {
  constructor(readonly db: Knex) {}

  // ─── inventory ───

  /**
   * Creates the showtime's inventory, every seat available, exactly once: a second call (a
   * retried activity, a concurrent duplicate) finds the header and changes nothing.
   */
  async createInventory(header: InventoryHeader, seats: SeatInit[]): Promise<{ created: boolean; seats: number }> {
    return this.db.transaction(async (trx) => {
      const inserted = await trx.raw(
        `INSERT INTO showtime_inventory (showtime_id, event_id, venue_id, hall_id, starts_at, currency, prices, total_seats)
         VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?)
         ON CONFLICT (showtime_id) DO NOTHING
         RETURNING showtime_id`,
        [
          header.showtimeId,
          header.eventId,
          header.venueId,
          header.hallId,
          header.startsAt,
          header.currency,
          JSON.stringify(header.prices),
          seats.length,
        ],
      );
      if (inserted.rows.length === 0) {
        const { rows } = await trx.raw(`SELECT total_seats FROM showtime_inventory WHERE showtime_id = ?`, [header.showtimeId]);
        return { created: false, seats: rows[0].total_seats as number };
      }
      // one statement whatever the hall's size: the ids and types as two arrays
      await trx.raw(
        `INSERT INTO inventory_seats (showtime_id, seat_id, ordinal, seat_type)
         SELECT ?, t.seat_id, t.ordinal, t.seat_type
         FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS t(seat_id, seat_type, ordinal)`,
        [header.showtimeId, seats.map((s) => s.seatId), seats.map((s) => s.seatType)],
      );
      return { created: true, seats: seats.length };
    });
  }

  async inventoryHeader(showtimeId: string, q: Db = this.db): Promise<(InventoryHeader & { totalSeats: number }) | undefined> {
    const { rows } = await q.raw(
      `SELECT showtime_id, event_id, venue_id, hall_id, starts_at, currency, prices, total_seats
       FROM showtime_inventory WHERE showtime_id = ?`,
      [showtimeId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      showtimeId: r.showtime_id,
      eventId: r.event_id,
      venueId: r.venue_id,
      hallId: r.hall_id,
      startsAt: r.starts_at,
      currency: r.currency,
      prices: r.prices,
      totalSeats: r.total_seats,
    };
  }

  /**
   * The whole seat map in layout order, with expired holds already read as available, in one
   * query; undefined when the showtime has no inventory (an inventory has at least one seat).
   *
   * Fast for big halls: Postgres sends the map as ONE text value, a line per seat, and the
   * latest change as an aggregate, instead of 20,000 rows the driver would parse one by one.
   * A line is the seat id as a JSON string (so no id can contain the separators) and, unless
   * the seat is available, tab-separated status, holder, booking and (held only) the hold's
   * end in epoch ms.
   */
  async seatMap(showtimeId: string, q: Db = this.db): Promise<SeatRead | undefined> {
    const { rows } = await q.raw(
      `SELECT string_agg(
                CASE WHEN status = 'available' OR held_until <= now() THEN to_json(seat_id)::text
                     ELSE concat_ws(E'\\t', to_json(seat_id)::text, status, holder_id, booking_id,
                                    floor(extract(epoch FROM held_until) * 1000)::bigint) END,
                E'\\n' ORDER BY ordinal) AS seats,
              floor(extract(epoch FROM greatest(max(changed_at),
                 max(held_until) FILTER (WHERE status = 'held' AND held_until <= now()))) * 1000)::float8 AS last_ms
       FROM inventory_seats WHERE showtime_id = ?`,
      [showtimeId],
    );
    const packed = rows[0]?.seats as string | null;
    if (packed === null || packed === undefined) return undefined;
    const lines = packed.split("\n");
    const seats: SeatView[] = new Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const tab = line.indexOf("\t");
      if (tab < 0) {
        seats[i] = { seatId: jsonString(line), status: "available" };
        continue;
      }
      const [id, status, holderId, bookingId, until] = line.split("\t");
      seats[i] = {
        seatId: jsonString(id),
        status: status as SeatStatus,
        holderId,
        bookingId,
        heldUntilMs: until === undefined ? undefined : Number(until),
      };
    }
    return { seats, lastUpdatedMs: rows[0].last_ms as number };
  }

  /** Some seats of a showtime, in layout order, expired holds read as available. */
  async seatsWithTime(showtimeId: string, seatIds: readonly string[], q: Db = this.db): Promise<SeatRead> {
    const { rows } = (await q
      .raw(`SELECT ${SEAT_COLUMNS} FROM inventory_seats WHERE showtime_id = ? AND seat_id = ANY(?::text[]) ORDER BY ordinal`, [
        showtimeId,
        [...seatIds],
      ])
      .options({ rowMode: "array" })) as { rows: SeatRow[] };
    return readSeats(rows);
  }

  /** Seat counts for search: expired holds count as available. Unknown showtimes are left out. */
  async availability(showtimeIds: readonly string[]): Promise<Array<{ showtimeId: string; available: number; total: number }>> {
    if (showtimeIds.length === 0) return [];
    // only the taken seats are read (a partial index), not every seat of every hall
    const { rows } = await this.db.raw(
      `SELECT h.showtime_id, h.total_seats,
              (SELECT count(*) FROM inventory_seats s
               WHERE s.showtime_id = h.showtime_id AND s.status <> 'available'
                 AND (s.status = 'booked' OR s.held_until > now()))::int AS taken
       FROM showtime_inventory h WHERE h.showtime_id = ANY(?::uuid[])`,
      [[...showtimeIds]],
    );
    const byId = new Map<string, { total_seats: number; taken: number }>(
      rows.map((r: { showtime_id: string; total_seats: number; taken: number }) => [r.showtime_id, r]),
    );
    return showtimeIds.flatMap((id) => {
      const r = byId.get(id);
      return r ? [{ showtimeId: id, available: r.total_seats - r.taken, total: r.total_seats }] : [];
    });
  }

  // ─── holds ───

  /**
   * Holds every requested seat for a new booking, or none, in the caller's (short) transaction:
   *
   *  1. the showtime's header (404, already started, prices), and a transaction-scoped advisory
   *     lock on (showtime, user) that serialises one user's holds of one showtime, so the per-user
   *     cap below is counted and enforced atomically, not check-then-act;
   *  2. the user's seats already held (unexpired) of the showtime, against the cap;
   *  3. the requested seat rows, locked in seat_id order (overlapping holds queue, never
   *     deadlock); unknown ids → UnknownSeatsError, seats booked or held until later →
   *     SeatsTakenError (an expired hold can be taken over);
   *  4. one statement: the seats → held, the booking row (held/pending), and the NOTIFY.
   *
   * Throws before writing anything when any check fails; the caller's rollback then undoes the
   * advisory lock and the row locks.
   */
  async hold(trx: Knex.Transaction, req: HoldRequest): Promise<HoldResult> {
    const { showtimeId, userId, seatIds, bookingId } = req;
    const head = await trx.raw(
      `SELECT starts_at, currency, prices, starts_at <= now() AS started,
              least(now() + make_interval(secs => ?), starts_at) AS held_until,
              pg_advisory_xact_lock(hashtextextended(?, 0))
       FROM showtime_inventory WHERE showtime_id = ?`,
      [req.holdSeconds, `booking.hold:${showtimeId}:${userId}`, showtimeId],
    );
    const header = head.rows[0] as
      | { starts_at: Date; currency: string; prices: Record<string, number>; started: boolean; held_until: Date }
      | undefined;
    if (!header) throw new InventoryMissingError(showtimeId);
    if (header.started) throw new ShowStartedError(header.starts_at);

    const counted = await trx.raw(
      `SELECT coalesce(sum(cardinality(seat_ids)), 0)::int AS held FROM bookings
       WHERE showtime_id = ? AND user_id = ? AND status = 'held' AND held_until > now()`,
      [showtimeId, userId],
    );
    const alreadyHeld = counted.rows[0].held as number;
    if (alreadyHeld + seatIds.length > req.maxHeldPerUser) {
      throw new HoldLimitError(alreadyHeld, seatIds.length, req.maxHeldPerUser);
    }

    const locked = await trx.raw(
      `SELECT seat_id, seat_type,
              (status = 'booked' OR (status = 'held' AND held_until > now())) AS taken
       FROM inventory_seats
       WHERE showtime_id = ? AND seat_id = ANY(?::text[])
       ORDER BY seat_id
       FOR UPDATE`,
      [showtimeId, seatIds],
    );
    const found = new Map<string, { seat_type: string; taken: boolean }>(
      locked.rows.map((r: { seat_id: string; seat_type: string; taken: boolean }) => [r.seat_id, r]),
    );
    const unknown = seatIds.filter((id) => !found.has(id));
    if (unknown.length) throw new UnknownSeatsError(unknown);
    const taken = seatIds.filter((id) => found.get(id)!.taken);
    if (taken.length) throw new SeatsTakenError(taken);

    const amountMinor = holdAmountMinor(
      seatIds.map((id) => ({ seatId: id, seatType: found.get(id)!.seat_type })),
      header.prices,
    );

    const written = await trx.raw(
      `WITH seats AS (
         UPDATE inventory_seats
         SET status = 'held', holder_id = ?, booking_id = ?, held_until = ?, changed_at = now()
         WHERE showtime_id = ? AND seat_id = ANY(?::text[])
         RETURNING 1
       ), booking AS (
         INSERT INTO bookings (id, showtime_id, user_id, seat_ids, amount_minor, currency, status, payment_status, held_until)
         VALUES (?, ?, ?, ?::text[], ?, ?, 'held', 'pending', ?)
         RETURNING created_at
       )
       SELECT booking.created_at, (SELECT count(*) FROM seats)::int AS seats, pg_notify(?, ?)
       FROM booking`,
      [
        userId,
        bookingId,
        header.held_until,
        showtimeId,
        seatIds,
        bookingId,
        showtimeId,
        userId,
        seatIds,
        amountMinor,
        header.currency,
        header.held_until,
        INVENTORY_CHANNEL,
        encodeChange(showtimeId, seatIds),
      ],
    );
    const row = written.rows[0] as { created_at: Date; seats: number };
    if (row.seats !== seatIds.length) {
      // cannot happen: the rows are locked and were checked above
      throw new Error(`hold of ${seatIds.length} seats updated ${row.seats}`);
    }
    return {
      booking: {
        id: bookingId,
        showtimeId,
        userId,
        seatIds,
        amountMinor,
        currency: header.currency,
        status: "held",
        paymentStatus: "pending",
        heldUntil: header.held_until,
        createdAt: row.created_at,
        startsAt: header.starts_at,
      },
    };
  }

  /**
   * Locks a booking and then its seats (in seat_id order): the lock order of every transaction
   * that changes an existing booking.
   */
  private async lockBooking(trx: Knex.Transaction, bookingId: string): Promise<BookingRecord | undefined> {
    const { rows } = await trx.raw(
      `SELECT ${BOOKING_COLUMNS} FROM bookings b JOIN showtime_inventory h ON h.showtime_id = b.showtime_id
       WHERE b.id = ? FOR UPDATE OF b`,
      [bookingId],
    );
    if (!rows[0]) return undefined;
    const booking = toBooking(rows[0]);
    await trx.raw(
      `SELECT 1 FROM inventory_seats WHERE showtime_id = ? AND seat_id = ANY(?::text[]) ORDER BY seat_id FOR UPDATE`,
      [booking.showtimeId, booking.seatIds],
    );
    return booking;
  }

  // ─── booking workflows still to be started (workflow-starts.ts) ───

  /** Records, in the hold's transaction, that the booking's workflow is to be started with `input`. */
  async enqueueWorkflowStart(trx: Knex.Transaction, bookingId: string, input: object): Promise<void> {
    await trx.raw(`INSERT INTO workflow_starts (booking_id, input) VALUES (?, ?::jsonb)`, [bookingId, JSON.stringify(input)]);
  }

  /**
   * Leases up to `limit` due starts (oldest first) for `leaseSeconds`; rows another starter is
   * leasing right now are skipped, so replicas never start the same workflows side by side.
   */
  async claimWorkflowStarts(limit: number, leaseSeconds: number): Promise<PendingWorkflowStart[]> {
    const { rows } = await this.db.raw(
      `UPDATE workflow_starts w
       SET claimed_until = now() + make_interval(secs => ?), attempts = w.attempts + 1
       FROM (SELECT booking_id FROM workflow_starts
             WHERE coalesce(claimed_until, '-infinity') < now()
             ORDER BY coalesce(claimed_until, '-infinity'), created_at LIMIT ? FOR UPDATE SKIP LOCKED) due
       WHERE w.booking_id = due.booking_id
       RETURNING w.booking_id, w.input, w.attempts`,
      [leaseSeconds, limit],
    );
    return rows.map((r: { booking_id: string; input: unknown; attempts: number }) => ({ bookingId: r.booking_id, input: r.input, attempts: r.attempts }));
  }

  /** The input of a booking's workflow when it is still to be started, else undefined. */
  async pendingWorkflowStart(bookingId: string): Promise<unknown> {
    const row = await this.db("workflow_starts").where({ booking_id: bookingId }).first("input");
    return row?.input;
  }

  /** The workflows of these bookings run (or ran): nothing left to start. */
  async workflowStartsDone(bookingIds: string[]): Promise<void> {
    if (bookingIds.length) await this.db.raw(`DELETE FROM workflow_starts WHERE booking_id = ANY(?::uuid[])`, [bookingIds]);
  }

  /** A start failed: try again in `retryInSeconds` (the row stays leased until then). */
  async workflowStartFailed(bookingId: string, error: string, retryInSeconds: number): Promise<void> {
    await this.db.raw(
      `UPDATE workflow_starts SET claimed_until = now() + make_interval(secs => ?), last_error = ? WHERE booking_id = ?`,
      [retryInSeconds, error.slice(0, 1000), bookingId],
    );
  }

  /** When the next leased start falls due again (a failed start's retry), if any. */
  async nextWorkflowStartDue(): Promise<Date | undefined> {
    const { rows } = await this.db.raw(`SELECT min(coalesce(claimed_until, '-infinity')) AS due FROM workflow_starts WHERE coalesce(claimed_until, '-infinity') > now()`);
    return rows[0].due ?? undefined;
  }

  /** How many workflows wait to be started, and how long the oldest has waited (seconds). */
  async workflowStartBacklog(): Promise<{ pending: number; oldestSeconds: number }> {
    const { rows } = await this.db.raw(
      `SELECT count(*)::int AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest FROM workflow_starts`,
    );
    return { pending: rows[0].pending, oldestSeconds: rows[0].oldest };
  }

  /**
   * Releases a held booking's seats (only those still held by it: an expired hold may have been
   * taken over by another booking) and sets its final status. No-op unless the booking is held.
   */
  async releaseHold(
    bookingId: string,
    status: "expired" | "cancelled" | "payment_failed",
  ): Promise<{ changed: boolean; released: number }> {
    return this.db.transaction(async (trx) => {
      const b = await this.lockBooking(trx, bookingId);
      if (!b || b.status !== "held") return { changed: false, released: 0 };
      const released = await this.freeSeats(trx, b, "held");
      await trx.raw(
        `UPDATE bookings SET status = ?,
           payment_status = CASE WHEN ? = 'payment_failed' AND payment_status = 'pending' THEN 'failed' ELSE payment_status END,
           updated_at = now()
         WHERE id = ?`,
        [status, status, bookingId],
      );
      return { changed: true, released };
    });
  }

  /** Seats of `b` in `status` and still its own → available, with the notification. */
  private async freeSeats(trx: Knex.Transaction, b: BookingRecord, status: "held" | "booked"): Promise<number> {
    const { rows } = await trx.raw(
      `UPDATE inventory_seats
       SET status = 'available', holder_id = NULL, booking_id = NULL, held_until = NULL, changed_at = now()
       WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND booking_id = ? AND status = ?
       RETURNING seat_id`,
      [b.showtimeId, b.seatIds, b.id, status],
    );
    const ids = rows.map((r: { seat_id: string }) => r.seat_id);
    if (ids.length) await notify(trx, b.showtimeId, ids);
    return ids.length;
  }

  /**
   * held → booked for every seat of the booking and the booking → confirmed/paid, in one
   * transaction. `hold_lost` (nothing changed) unless every seat is still held by it; a booking
   * already confirmed is `confirmed` again (idempotent).
   */
  async confirm(bookingId: string, paymentIntentId?: string): Promise<"confirmed" | "hold_lost"> {
    return this.db.transaction(async (trx) => {
      const b = await this.lockBooking(trx, bookingId);
      if (!b) return "hold_lost";
      if (b.status === "confirmed") return "confirmed";
      if (b.status !== "held") return "hold_lost";
      const { rows } = await trx.raw(
        `UPDATE inventory_seats SET status = 'booked', held_until = NULL, changed_at = now()
         WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND booking_id = ? AND status = 'held'
         RETURNING seat_id`,
        [b.showtimeId, b.seatIds, b.id],
      );
      if (rows.length !== b.seatIds.length) {
        // some seat is no longer ours: undo (the transaction rolls back) and report
        throw new HoldLostSignal();
      }
      await trx.raw(
        `UPDATE bookings SET status = 'confirmed', payment_status = 'paid', confirmed_at = now(),
           payment_intent_id = coalesce(?, payment_intent_id), updated_at = now()
         WHERE id = ?`,
        [paymentIntentId ?? null, bookingId],
      );
      await notify(trx, b.showtimeId, b.seatIds);
      return "confirmed" as const;
    }).catch((err: unknown) => {
      if (err instanceof HoldLostSignal) return "hold_lost" as const;
      throw err;
    });
  }

  /** A confirmed booking's booked seats → available and the booking → cancelled. No-op otherwise. */
  async releaseConfirmed(bookingId: string): Promise<{ changed: boolean; released: number }> {
    return this.db.transaction(async (trx) => {
      const b = await this.lockBooking(trx, bookingId);
      if (!b || b.status !== "confirmed") return { changed: false, released: 0 };
      const released = await this.freeSeats(trx, b, "booked");
      await trx.raw(`UPDATE bookings SET status = 'cancelled', updated_at = now() WHERE id = ?`, [bookingId]);
      return { changed: true, released };
    });
  }

  async setPaymentStatus(bookingId: string, paymentStatus: PaymentStatus): Promise<boolean> {
    const n = await this.db.raw(`UPDATE bookings SET payment_status = ?, updated_at = now() WHERE id = ? AND payment_status <> ?`, [
      paymentStatus,
      bookingId,
      paymentStatus,
    ]);
    return (n.rowCount ?? 0) > 0;
  }

  /** Keeps who cancelled and why, once. */
  async recordCancellation(bookingId: string, by: string, reason: string): Promise<void> {
    await this.db.raw(
      `UPDATE bookings SET cancelled_by = ?, cancel_reason = nullif(?, '') WHERE id = ? AND cancelled_by IS NULL`,
      [by, reason, bookingId],
    );
  }

  // ─── bookings ───

  async getBooking(id: string, q: Db = this.db): Promise<BookingRecord | undefined> {
    const { rows } = await q.raw(
      `SELECT ${BOOKING_COLUMNS} FROM bookings b JOIN showtime_inventory h ON h.showtime_id = b.showtime_id WHERE b.id = ?`,
      [id],
    );
    return rows[0] ? toBooking(rows[0]) : undefined;
  }

  /** A user's bookings, newest first, and how many there are. */
  async listBookings(userId: string, limit: number, offset: number): Promise<{ bookings: BookingRecord[]; total: number }> {
    const [page, count] = await Promise.all([
      this.db.raw(
        `SELECT ${BOOKING_COLUMNS} FROM bookings b JOIN showtime_inventory h ON h.showtime_id = b.showtime_id
         WHERE b.user_id = ? ORDER BY b.created_at DESC, b.id DESC LIMIT ? OFFSET ?`,
        [userId, limit, offset],
      ),
      this.db.raw(`SELECT count(*)::int AS n FROM bookings WHERE user_id = ?`, [userId]),
    ]);
    return { bookings: page.rows.map(toBooking), total: count.rows[0].n };
  }

  /** A confirmed booking of `userId` for a showtime of `eventId` that has started, if any. */
  async attendedBooking(userId: string, eventId: string): Promise<string | undefined> {
    const { rows } = await this.db.raw(
      `SELECT b.id FROM bookings b JOIN showtime_inventory h ON h.showtime_id = b.showtime_id
       WHERE b.user_id = ? AND h.event_id = ? AND b.status = 'confirmed' AND h.starts_at <= now()
       ORDER BY h.starts_at DESC LIMIT 1`,
      [userId, eventId],
    );
    return rows[0]?.id;
  }

  // ─── the reaper ───

  /** Held bookings whose hold ran out more than `graceSeconds` ago, oldest first. */
  async lapsedHolds(limit: number, graceSeconds: number): Promise<Array<{ id: string; heldUntil: Date }>> {
    // a hold whose workflow is still to be started is left to that workflow (the starter retries),
    // unless its start has failed so often that Temporal must be refusing it (not unreachable:
    // the reaper itself runs on Temporal)
    const { rows } = await this.db.raw(
      `SELECT id, held_until FROM bookings b
       WHERE status = 'held' AND held_until < now() - make_interval(secs => ?)
         AND NOT EXISTS (SELECT 1 FROM workflow_starts w WHERE w.booking_id = b.id AND w.attempts < ?)
       ORDER BY held_until LIMIT ?`,
      [graceSeconds, REAP_AFTER_FAILED_STARTS, limit],
    );
    return rows.map((r: { id: string; held_until: Date }) => ({ id: r.id, heldUntil: r.held_until }));
  }

  /**
   * Bookings settled within `withinSeconds` whose seats disagree with them: a confirmed booking
   * with a seat not booked by it, or an inactive one with a seat still held/booked by it.
   */
  async inconsistentBookings(limit: number, withinSeconds: number): Promise<string[]> {
    const { rows } = await this.db.raw(
      `SELECT DISTINCT b.id FROM bookings b
       JOIN inventory_seats s ON s.showtime_id = b.showtime_id AND s.seat_id = ANY(b.seat_ids)
       WHERE b.status <> 'held' AND b.updated_at > now() - make_interval(secs => ?)
         AND CASE WHEN b.status = 'confirmed'
                  THEN s.status IS DISTINCT FROM 'booked' OR s.booking_id IS DISTINCT FROM b.id
                  ELSE s.booking_id = b.id END
       LIMIT ?`,
      [withinSeconds, limit],
    );
    return rows.map((r: { id: string }) => r.id);
  }

  /**
   * Brings one settled booking's seats in line with it. A confirmed booking gets back a seat
   * that is free (available or an expired hold); a seat someone else holds or owns cannot be
   * given back and is reported in `conflicts`. An inactive booking's seats are released.
   */
  async reconcileBooking(bookingId: string): Promise<{ fixed: string[]; conflicts: string[] }> {
    return this.db.transaction(async (trx) => {
      const b = await this.lockBooking(trx, bookingId);
      if (!b || b.status === "held") return { fixed: [], conflicts: [] };
      if (b.status !== "confirmed") {
        const { rows } = await trx.raw(
          `UPDATE inventory_seats
           SET status = 'available', holder_id = NULL, booking_id = NULL, held_until = NULL, changed_at = now()
           WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND booking_id = ?
           RETURNING seat_id`,
          [b.showtimeId, b.seatIds, b.id],
        );
        const fixed = rows.map((r: { seat_id: string }) => r.seat_id);
        if (fixed.length) await notify(trx, b.showtimeId, fixed);
        return { fixed, conflicts: [] };
      }
      const { rows } = await trx.raw(
        `UPDATE inventory_seats
         SET status = 'booked', holder_id = ?, booking_id = ?, held_until = NULL, changed_at = now()
         WHERE showtime_id = ? AND seat_id = ANY(?::text[])
           AND (status = 'available' OR (status = 'held' AND (held_until <= now() OR booking_id = ?)))
         RETURNING seat_id`,
        [b.userId, b.id, b.showtimeId, b.seatIds, b.id],
      );
      const fixed = rows.map((r: { seat_id: string }) => r.seat_id);
      if (fixed.length) await notify(trx, b.showtimeId, fixed);
      const check = await trx.raw(
        `SELECT seat_id FROM inventory_seats
         WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND (status <> 'booked' OR booking_id <> ?)`,
        [b.showtimeId, b.seatIds, b.id],
      );
      return { fixed, conflicts: check.rows.map((r: { seat_id: string }) => r.seat_id) };
    });
  }
}

/** Internal: aborts the confirm transaction when the hold is gone. */
class HoldLostSignal extends Error {}
