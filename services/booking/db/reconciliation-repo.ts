import type { Knex } from "../../../lib/db.js";
import { lockBooking } from "./bookings-repo.js";
import { notifySeatChange } from "./seat-changes.js";

/** Failed starts after which the reaper releases a lapsed hold whose workflow never started. */
export const REAP_AFTER_FAILED_STARTS = 5;

/**
 * The reaper's queries (the safety net behind the workflows' timers, activities.ts
 * reapExpiredHolds): holds that lapsed without their workflow releasing them, and settled
 * bookings whose seats disagree with them.
 */
export class ReconciliationRepo {
  constructor(private readonly db: Knex) {}

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
      const b = await lockBooking(trx, bookingId);
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
        if (fixed.length) await notifySeatChange(trx, b.showtimeId, fixed);
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
      if (fixed.length) await notifySeatChange(trx, b.showtimeId, fixed);
      const check = await trx.raw(
        `SELECT seat_id FROM inventory_seats
         WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND (status <> 'booked' OR booking_id <> ?)`,
        [b.showtimeId, b.seatIds, b.id],
      );
      return { fixed, conflicts: check.rows.map((r: { seat_id: string }) => r.seat_id) };
    });
  }
}
