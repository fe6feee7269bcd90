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

/**
 * The hall's best seat score and the score of its `n`-th best seat (0-based; null when it has
 * fewer), within `section` if given, through the index on (showtime_id, score).
 */
export async function scoreThreshold(q: Db, showtimeId: string, n: number, section?: string): Promise<{ min: number | null; at: number | null }> {
  const where = `showtime_id = ? AND score IS NOT NULL ${section ? "AND section = ?" : ""}`;
  const args = section ? [showtimeId, section] : [showtimeId];
  const { rows } = await q.raw(
    `SELECT (SELECT score FROM inventory_seats WHERE ${where} ORDER BY score LIMIT 1) AS min,
            (SELECT score FROM inventory_seats WHERE ${where} ORDER BY score OFFSET ? LIMIT 1) AS at`,
    [...args, ...args, n],
  );
  return { min: rows[0].min, at: rows[0].at };
}

/**
 * Every seat scored at most `threshold` (within `filter.section`), and in each row the seats
 * between the first and the last of them, plus two seats on either side as context: those are
 * returned with `eligible` false (their state matters to the orphan check of the seats next to
 * them; their own neighbours were not read). Rows best-first, each in place order.
 */
export async function readBest(q: Db, showtimeId: string, threshold: number, filter: RowFilter = {}): Promise<SeatRowIn[]> {
  const { rows } = await q.raw(
    `WITH core AS (
       SELECT row_rank, min(pos) AS lo, max(pos) AS hi FROM inventory_seats
       WHERE showtime_id = ? AND score <= ? ${filter.section ? "AND section = ?" : ""}
       GROUP BY row_rank)
     SELECT s.seat_id, s.row_rank, s.pos, s.score, s.x, s.y, s.seat_type,
            (s.status = 'available' OR (s.status = 'held' AND s.held_until <= now())) AS empty,
            s.pos BETWEEN core.lo AND core.hi AS core
     FROM core JOIN inventory_seats s
       ON s.showtime_id = ? AND s.row_rank = core.row_rank AND s.pos BETWEEN core.lo - 2 AND core.hi + 2
     ORDER BY s.row_rank, s.pos`,
    filter.section ? [showtimeId, threshold, filter.section, showtimeId] : [showtimeId, threshold, showtimeId],
  );
  const grouped = group(rows, new Set(filter.seatTypes ?? []));
  let i = 0;
  for (const row of grouped) for (const seat of row.seats) if (!rows[i++].core) seat.eligible = false;
  return grouped;
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
