import type { Knex } from "../../../lib/db.js";
import type { BookingStatus, PaymentStatus } from "../../../workflows/booking-types.js";

/** A query runner: the pool or a transaction. */
export type Db = Knex | Knex.Transaction;

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
 * Locks a booking and then its seats (in seat_id order): the lock order of every transaction
 * that changes an existing booking (holds-repo.ts, reconciliation-repo.ts).
 */
export async function lockBooking(trx: Knex.Transaction, bookingId: string): Promise<BookingRecord | undefined> {
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

/** Reads of bookings (the API's GetBooking, ListMyBookings, the attendance check) and the payment-attempt mark. */
export class BookingsRepo {
  constructor(private readonly db: Knex) {}

  async getBooking(id: string, q: Db = this.db): Promise<BookingRecord | undefined> {
    const { rows } = await q.raw(
      `SELECT ${BOOKING_COLUMNS} FROM bookings b JOIN showtime_inventory h ON h.showtime_id = b.showtime_id WHERE b.id = ?`,
      [id],
    );
    return rows[0] ? toBooking(rows[0]) : undefined;
  }

  /** Records that a payment is being prepared for a held booking (once: the first attempt's time stays). */
  async markPaymentAttempted(id: string): Promise<void> {
    await this.db.raw(`UPDATE bookings SET payment_attempted_at = now() WHERE id = ? AND payment_attempted_at IS NULL`, [id]);
  }

  /** Whether a payment was ever prepared for the booking (so an intent may be open). */
  async paymentAttempted(id: string): Promise<boolean> {
    const { rows } = await this.db.raw(`SELECT payment_attempted_at IS NOT NULL AS attempted FROM bookings WHERE id = ?`, [id]);
    return rows[0]?.attempted === true;
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
}
