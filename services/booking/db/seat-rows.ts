import type { SeatRowIn } from "../domain/best-seats.js";
import type { Db } from "./bookings-repo.js";

/**
 * Reads of whole rows of seats (domain/hall-geometry.ts), for best-available seating and the
 * orphan-seat rule, through the index on (showtime_id, row_rank, pos): a read costs the rows it
 * returns, whatever the hall's size. Nothing is locked: the hold locks the seats it takes and
 * re-checks them.
 */

interface RowSeatRow {
  seat_id: string;
  row_rank: number;
  pos: number;
  score: number;
  x: number;
  y: number;
  seat_type: string;
  empty: boolean;
}

const COLUMNS = `seat_id, row_rank, pos, score, x, y, seat_type,
  (status = 'available' OR (status = 'held' AND held_until <= now())) AS empty`;

function group(rows: RowSeatRow[], wanted?: ReadonlySet<string>): SeatRowIn[] {
  const out: SeatRowIn[] = [];
  for (const r of rows) {
    let row = out[out.length - 1];
    if (!row || row.rank !== r.row_rank) out.push((row = { rank: r.row_rank, seats: [] }));
    row.seats.push({
      seatId: r.seat_id,
      pos: r.pos,
      score: r.score,
      x: r.x,
      y: r.y,
      empty: r.empty,
      eligible: r.empty && (!wanted || wanted.size === 0 || wanted.has(r.seat_type)),
    });
  }
  return out;
}

export interface RowFilter {
  /** Only rows of this section (its id, or its name when it has no id). */
  section?: string;
  /** Eligible seats are of these types; empty = any. */
  seatTypes?: readonly string[];
}

/** Rows with ranks in [fromRank, toRank), best first, each whole, in place order. */
export async function readRows(q: Db, showtimeId: string, fromRank: number, toRank: number, filter: RowFilter = {}): Promise<SeatRowIn[]> {
  const { rows } = await q.raw(
    `SELECT ${COLUMNS} FROM inventory_seats
     WHERE showtime_id = ? AND row_rank >= ? AND row_rank < ? ${filter.section ? "AND section = ?" : ""}
     ORDER BY row_rank, pos`,
    filter.section ? [showtimeId, fromRank, toRank, filter.section] : [showtimeId, fromRank, toRank],
  );
  return group(rows, new Set(filter.seatTypes ?? []));
}

/** Every row that has one of `seatIds`, whole; seats without geometry are left out. */
export async function rowsOfSeats(q: Db, showtimeId: string, seatIds: readonly string[]): Promise<SeatRowIn[]> {
  const { rows } = await q.raw(
    `SELECT ${COLUMNS} FROM inventory_seats
     WHERE showtime_id = ? AND row_rank IN (
       SELECT row_rank FROM inventory_seats WHERE showtime_id = ? AND seat_id = ANY(?::text[]) AND row_rank IS NOT NULL)
     ORDER BY row_rank, pos`,
    [showtimeId, showtimeId, [...seatIds]],
  );
  return group(rows);
}

/**
 * Locks those of `seatIds` that no other transaction has locked (FOR UPDATE SKIP LOCKED, never
 * waits, so never deadlocks) and returns the ids it could not lock: seats another hold is
 * taking right now.
 */
export async function lockUnlocked(q: Db, showtimeId: string, seatIds: readonly string[]): Promise<string[]> {
  const { rows } = await q.raw(
    `SELECT seat_id FROM inventory_seats WHERE showtime_id = ? AND seat_id = ANY(?::text[]) ORDER BY seat_id FOR UPDATE SKIP LOCKED`,
    [showtimeId, [...seatIds]],
  );
  const locked = new Set(rows.map((r: { seat_id: string }) => r.seat_id));
  return seatIds.filter((id) => !locked.has(id));
}
