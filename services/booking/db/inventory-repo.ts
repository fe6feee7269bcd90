import type { Knex } from "../../../lib/db.js";
import type { SeatStatus, SeatView } from "../domain/seats.js";
import type { Db } from "./bookings-repo.js";

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

/**
 * Seats as read, and `lastUpdatedMs`: the latest change among them, a write to a seat or a hold
 * running out (which writes nothing).
 */
export interface SeatRead {
  seats: SeatView[];
  lastUpdatedMs: number;
}

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

/**
 * A showtime's seat inventory: its header (start, currency, prices) and its seats, created once
 * and read by GetInventory, the live seat maps and search. Holds change seats (holds-repo.ts).
 */
export class InventoryRepo {
  constructor(private readonly db: Knex) {}

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
}
