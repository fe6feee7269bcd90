import type { Knex } from "../../../lib/db.js";
import type { PaymentStatus } from "../../../workflows/booking-types.js";
import { orphanViolations } from "../domain/best-seats.js";
import {
  HoldLimitError,
  InventoryMissingError,
  SeatsTakenError,
  ShowStartedError,
  SingleSeatError,
  UnknownSeatsError,
} from "../domain/errors.js";
import { holdAmountMinor } from "../domain/pricing.js";
import { lockBooking, type BookingRecord } from "./bookings-repo.js";
import { INVENTORY_CHANNEL } from "./migrations.js";
import { encodeChange, notifySeatChange } from "./seat-changes.js";
import { rowsOfSeats } from "./seat-rows.js";

export interface HoldRequest {
  bookingId: string;
  showtimeId: string;
  userId: string;
  /** Distinct ids (the caller checked duplicates and the count). */
  seatIds: string[];
  holdSeconds: number;
  /** Most seats the user may hold of this showtime at once, this hold included. */
  maxHeldPerUser: number;
  /**
   * Apply the showtime's orphan-seat rule (domain/best-seats.ts) when it is on: default true.
   * Best-available passes false: its picker already prefers seats that strand none.
   */
  orphanRule?: boolean;
}

export interface HoldResult {
  booking: BookingRecord;
}

/**
 * Holds and what becomes of them: a hold, its release (expiry, cancel, failed payment), its
 * confirmation, a confirmed booking's release, and the booking's payment status. Every seat
 * change happens in one short transaction that locks the seat rows it touches in seat_id order
 * (so overlapping transactions queue instead of deadlocking) and sends a NOTIFY that commits
 * with it (seat-changes.ts).
 */
export class HoldsRepo {
  constructor(readonly db: Knex) {}

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
   *     when the showtime's orphan-seat rule is on (and `orphanRule` is not false), the rows of
   *     the seats must not be left with a single empty seat where another choice exists
   *     (domain/best-seats.ts) → SingleSeatError;
   *  4. the amount (domain/pricing.ts);
   *  5. one statement: the seats → held, the booking row (held/pending), and the NOTIFY.
   *
   * Throws before writing anything when any check fails; the caller's rollback then undoes the
   * advisory lock and the row locks.
   */
  async hold(trx: Knex.Transaction, req: HoldRequest): Promise<HoldResult> {
    const { showtimeId, userId, seatIds, bookingId } = req;
    const head = await trx.raw(
      `SELECT starts_at, currency, prices, starts_at <= now() AS started, avoid_single_seats,
              least(now() + make_interval(secs => ?), starts_at) AS held_until,
              pg_advisory_xact_lock(hashtextextended(?, 0))
       FROM showtime_inventory WHERE showtime_id = ?`,
      [req.holdSeconds, `booking.hold:${showtimeId}:${userId}`, showtimeId],
    );
    const header = head.rows[0] as
      | { starts_at: Date; currency: string; prices: Record<string, number>; started: boolean; held_until: Date; avoid_single_seats: boolean }
      | undefined;
    if (!header) throw new InventoryMissingError(showtimeId, "showtimeId");
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
    if (unknown.length) throw new UnknownSeatsError(showtimeId, unknown);
    const taken = seatIds.filter((id) => found.get(id)!.taken);
    if (taken.length) throw new SeatsTakenError(showtimeId, taken);
    if (req.orphanRule !== false && header.avoid_single_seats) {
      // the neighbours as they are now (unlocked: a concurrent hold next door may change them)
      const stranded = orphanViolations(await rowsOfSeats(trx, showtimeId, seatIds), new Set(seatIds));
      if (stranded.length) throw new SingleSeatError(showtimeId, stranded);
    }

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
   * Releases a held booking's seats (only those still held by it: an expired hold may have been
   * taken over by another booking) and sets its final status. No-op unless the booking is held.
   */
  async releaseHold(
    bookingId: string,
    status: "expired" | "cancelled" | "payment_failed",
  ): Promise<{ changed: boolean; released: number }> {
    return this.db.transaction(async (trx) => {
      const b = await lockBooking(trx, bookingId);
      if (!b || b.status !== "held") return { changed: false, released: 0 };
      const released = await freeSeats(trx, b, "held");
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

  /**
   * held → booked for every seat of the booking and the booking → confirmed/paid, in one
   * transaction. `hold_lost` (nothing changed) unless every seat is still held by it; a booking
   * already confirmed is `confirmed` again (idempotent).
   */
  async confirm(bookingId: string, paymentIntentId?: string): Promise<"confirmed" | "hold_lost"> {
    return this.db.transaction(async (trx) => {
      const b = await lockBooking(trx, bookingId);
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
      await notifySeatChange(trx, b.showtimeId, b.seatIds);
      return "confirmed" as const;
    }).catch((err: unknown) => {
      if (err instanceof HoldLostSignal) return "hold_lost" as const;
      throw err;
    });
  }

  /** A confirmed booking's booked seats → available and the booking → cancelled. No-op otherwise. */
  async releaseConfirmed(bookingId: string): Promise<{ changed: boolean; released: number }> {
    return this.db.transaction(async (trx) => {
      const b = await lockBooking(trx, bookingId);
      if (!b || b.status !== "confirmed") return { changed: false, released: 0 };
      const released = await freeSeats(trx, b, "booked");
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
}

/** Seats of `b` in `status` and still its own → available, with the notification. */
async function freeSeats(trx: Knex.Transaction, b: BookingRecord, status: "held" | "booked"): Promise<number> {
  const { rows } = await trx.raw(
    `UPDATE inventory_seats
     SET status = 'available', holder_id = NULL, booking_id = NULL, held_until = NULL, changed_at = now()
     WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND booking_id = ? AND status = ?
     RETURNING seat_id`,
    [b.showtimeId, b.seatIds, b.id, status],
  );
  const ids = rows.map((r: { seat_id: string }) => r.seat_id);
  if (ids.length) await notifySeatChange(trx, b.showtimeId, ids);
  return ids.length;
}

/** Internal: aborts the confirm transaction when the hold is gone. */
class HoldLostSignal extends Error {}
