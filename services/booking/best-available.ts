import type { Knex } from "../../lib/db.js";
import type { HoldResult, HoldsRepo } from "./db/holds-repo.js";
import type { InventoryRepo } from "./db/inventory-repo.js";
import { lockUnlocked, readBest, readRows, scoreThreshold, type RowFilter } from "./db/seat-rows.js";
import { pickBest, thresholdBound, type BestPick, type SeatRowIn, type Spread } from "./domain/best-seats.js";
import { HoldLimitError, InventoryMissingError, NoGeometryError, NotEnoughSeatsError, SeatsContendedError, SeatsTakenError } from "./domain/errors.js";
import type { SeatGeometry } from "./domain/hall-geometry.js";

/** How many times a pick is retried after concurrent holds took some of its seats. */
export const MAX_ATTEMPTS = 32;
/** Seats read by the first batch (best-first, by score); each further batch reads four times as many. */
const FIRST_SEATS = 64;

export interface BestRequest extends RowFilter {
  bookingId: string;
  showtimeId: string;
  userId: string;
  quantity: number;
  holdSeconds: number;
  maxHeldPerUser: number;
}

export interface BestDeps {
  holds: HoldsRepo;
  inventory: InventoryRepo;
  /**
   * The geometry of a showtime's seats from its hall's layout (the catalog), for inventories
   * initialised before seats had one; absent = such showtimes answer NoGeometryError.
   */
  geometryOf?: (showtimeId: string) => Promise<SeatGeometry[]>;
}

/**
 * Best available (domain/best-seats.ts) as one hold, in the caller's transaction: read the seats
 * best-first, the 64, 256, 1,024 … best-scored ones (with their rows' runs and two seats of
 * context on either side) until the picker is satisfied, or every row once nothing less will
 * do (levels 2 and 3, or not enough seats); hold the pick
 * in a savepoint: first lock the picked seats with SKIP LOCKED (never waiting, so never a
 * deadlock); seats another request is taking right now are marked busy and the picker runs
 * again around them (concurrent requests fan out instead of queueing for the same block); with
 * every seat locked, HoldsRepo.hold (the same limits, locks and booking row as ReserveSeats)
 * re-checks them under the lock: a seat taken and committed since the read (SeatsTakenError)
 * rolls back to the savepoint, which frees the locks, and the pick runs again on fresh reads. At
 * most MAX_ATTEMPTS picks; two requests never get the same seat, because of the row locks and
 * the re-check.
 */
export async function holdBest(trx: Knex.Transaction, deps: BestDeps, req: BestRequest): Promise<HoldResult & { level: BestPick["level"] }> {
  let policy = await deps.inventory.seatingPolicy(req.showtimeId, trx);
  if (!policy) throw new InventoryMissingError(req.showtimeId, "showtimeId");
  if (policy.rowCount === null) {
    if (!deps.geometryOf) throw new NoGeometryError(req.showtimeId);
    // once per old inventory (a catalog call inside the transaction, which locks nothing yet)
    const geometry = await deps.geometryOf(req.showtimeId).catch(() => []);
    if (geometry.length === 0) throw new NoGeometryError(req.showtimeId);
    await deps.inventory.setGeometry(req.showtimeId, geometry, trx);
    policy = await deps.inventory.seatingPolicy(req.showtimeId, trx);
    if (!policy || policy.rowCount === null) throw new NoGeometryError(req.showtimeId);
  }
  const rowCount = policy.rowCount;
  // seats other requests are holding right now: the picker treats them as taken
  const busy = new Set<string>();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // after a collision, scatter over the 4, 16, 64 best blocks (concurrent requests all see the same best one)
    const spread = { spread: Math.min(64, 4 ** (attempt - 1)), random: Math.random };
    const pick = await pickFromRows(trx, req, { rowCount, maxGap: policy.maxGap }, policy.avoidSingleSeats, busy, spread);
    try {
      const held = await trx.transaction(async (savepoint) => {
        const skipped = await lockUnlocked(savepoint, req.showtimeId, pick.seatIds);
        if (skipped.length) {
          for (const id of skipped) busy.add(id);
          throw new PickBusy();
        }
        return deps.holds.hold(savepoint, {
          bookingId: req.bookingId,
          showtimeId: req.showtimeId,
          userId: req.userId,
          seatIds: pick.seatIds,
          holdSeconds: req.holdSeconds,
          maxHeldPerUser: req.maxHeldPerUser,
          orphanRule: false,
        });
      });
      return { ...held, level: pick.level };
    } catch (err) {
      // the savepoint's rollback has released the locks this attempt took
      if (err instanceof HoldLimitError) throw new HoldLimitError(err.alreadyHeld, err.requested, err.max, "quantity");
      if (!(err instanceof SeatsTakenError || err instanceof PickBusy)) throw err;
    }
  }
  throw new SeatsContendedError(MAX_ATTEMPTS);
}

/** Internal: some picked seats are locked by another hold; pick again around them. */
class PickBusy extends Error {}

async function pickFromRows(
  trx: Knex.Transaction,
  req: BestRequest,
  hall: { rowCount: number; maxGap: number },
  avoidSingles: boolean,
  busy: ReadonlySet<string>,
  spread: Spread,
): Promise<BestPick> {
  const markBusy = (rows: SeatRowIn[]) => {
    if (busy.size) for (const row of rows) for (const s of row.seats) if (busy.has(s.seatId)) s.empty = s.eligible = false;
    return rows;
  };
  for (let n = FIRST_SEATS; ; n *= 4) {
    const { min, at } = await scoreThreshold(trx, req.showtimeId, n, req.section);
    if (min === null) throw new NotEnoughSeatsError(req.showtimeId, req.quantity); // no seat in the section
    const complete = at === null;
    const rows = markBusy(complete ? await readRows(trx, req.showtimeId, 0, hall.rowCount, req) : await readBest(trx, req.showtimeId, at, req));
    const bound = complete ? Infinity : thresholdBound(at, min, req.quantity, hall.maxGap);
    const outcome = pickBest(rows, req.quantity, bound, avoidSingles, spread);
    if ("pick" in outcome) return outcome.pick;
    if ("none" in outcome) throw new NotEnoughSeatsError(req.showtimeId, req.quantity);
  }
}
