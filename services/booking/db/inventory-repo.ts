import type { Knex } from "../../../lib/db.js";
import { maxNeighbourGap, type SeatGeometry } from "../domain/hall-geometry.js";
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
  /**
   * Where the seat is, for best-available seating and the orphan rule (domain/hall-geometry.ts);
   * all seats of an inventory have it or none do (then it is computed later: setGeometry).
   */
  geometry?: Omit<SeatGeometry, "seatId" | "seatType">;
}

/**
 * Seats as read, and `lastUpdatedMs`: the latest change among them, a write to a seat or a hold
 * running out (which writes nothing).
 */
export interface SeatRead {
  seats: SeatView[];
  lastUpdatedMs: number;
  /** The showtime's orphan-seat rule (seatMap only, read in the same statement). */
  avoidSingleSeats?: boolean;
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
      if (seats.every((s) => s.geometry)) {
        await writeGeometry(trx, header.showtimeId, seats.map((s) => ({ seatId: s.seatId, seatType: s.seatType, ...s.geometry! })));
      }
      return { created: true, seats: seats.length };
    });
  }

  /**
   * Stores the seats' geometry of an inventory that has none yet (initialised before it was
   * computed); a no-op when it has some (concurrent callers: the first wins, the same result).
   */
  async setGeometry(showtimeId: string, seats: readonly SeatGeometry[], q: Db = this.db): Promise<void> {
    // in the caller's transaction when given (a savepoint): a request that already holds a
    // connection must not wait for a second one of the same pool
    await q.transaction(async (trx) => {
      const { rows } = await trx.raw(`SELECT row_count FROM showtime_inventory WHERE showtime_id = ? FOR UPDATE`, [showtimeId]);
      if (rows.length === 0 || rows[0].row_count !== null) return;
      await writeGeometry(trx, showtimeId, seats);
    });
  }

  /** Whether the orphan-seat rule applies to the showtime, and whether its seats have geometry. */
  async seatingPolicy(
    showtimeId: string,
    q: Db = this.db,
  ): Promise<{ avoidSingleSeats: boolean; rowCount: number | null; maxGap: number } | undefined> {
    const { rows } = await q.raw(`SELECT avoid_single_seats, row_count, max_gap FROM showtime_inventory WHERE showtime_id = ?`, [
      showtimeId,
    ]);
    const r = rows[0];
    return r ? { avoidSingleSeats: r.avoid_single_seats, rowCount: r.row_count, maxGap: r.max_gap ?? Infinity } : undefined;
  }

  /** Switches the orphan-seat rule of a showtime; false when the showtime has no inventory. */
  async setAvoidSingleSeats(showtimeId: string, on: boolean): Promise<boolean> {
    const n = await this.db.raw(`UPDATE showtime_inventory SET avoid_single_seats = ? WHERE showtime_id = ?`, [on, showtimeId]);
    return (n.rowCount ?? 0) > 0;
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
                 max(held_until) FILTER (WHERE status = 'held' AND held_until <= now()))) * 1000)::float8 AS last_ms,
              (SELECT avoid_single_seats FROM showtime_inventory WHERE showtime_id = ?) AS avoid_single_seats
       FROM inventory_seats WHERE showtime_id = ?`,
      [showtimeId, showtimeId],
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
    return { seats, lastUpdatedMs: rows[0].last_ms as number, avoidSingleSeats: rows[0].avoid_single_seats ?? true };
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

/** One statement for every seat's geometry, and the header's row count. */
async function writeGeometry(trx: Knex.Transaction, showtimeId: string, seats: readonly SeatGeometry[]): Promise<void> {
  const col = <K extends keyof SeatGeometry>(k: K) => seats.map((s) => s[k]);
  await trx.raw(
    `UPDATE inventory_seats s SET section = t.section, row_rank = t.row_rank, pos = t.pos, score = t.score, x = t.x, y = t.y
     FROM unnest(?::text[], ?::text[], ?::int[], ?::int[], ?::float8[], ?::float8[], ?::float8[])
          AS t(seat_id, section, row_rank, pos, score, x, y)
     WHERE s.showtime_id = ? AND s.seat_id = t.seat_id`,
    [col("seatId"), col("section"), col("rowRank"), col("pos"), col("score"), col("x"), col("y"), showtimeId],
  );
  const rowCount = seats.reduce((m, s) => Math.max(m, s.rowRank + 1), 0);
  await trx.raw(`UPDATE showtime_inventory SET row_count = ?, max_gap = ? WHERE showtime_id = ?`, [rowCount, maxNeighbourGap(seats), showtimeId]);
}
