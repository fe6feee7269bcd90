/**
 * Best-available seating and the orphan-seat rule: pure functions over the rows of a hall as
 * read (domain/hall-geometry.ts explains rows, `pos` and `score`).
 *
 * **Orphan (single) seat.** Taking a set T of empty seats in a row *strands* a seat s when s
 * is empty, not in T, next to a seat of T (pos ± 1), and after the taking neither of its own
 * neighbours (pos − 1, pos + 1) is an empty seat: each is taken, in T, or does not exist (the
 * row's edge, or an aisle). A seat that was already single before is never "stranded" by T,
 * since a neighbour of it in T was empty before.
 *
 * **Orphan rule for manual selection.** A hold is refused when, in some row, the selected seats
 * of that row (k of them) strand a seat *and* that row has another choice: a block of k
 * adjacent empty seats (consecutive `pos`, empty before the hold; the selected seats count as
 * empty) whose taking strands no seat. When no such block exists in the row, any selection in
 * it is allowed.
 *
 * **Best available** prefers, in this order:
 *  1. k adjacent eligible seats in one row that strand no seat;
 *  2. k adjacent eligible seats in one row (they strand a seat);
 *  3. the closest seats together: around each of the best-scored eligible seats (at most
 *     SEEDS), the k eligible seats nearest to it; the cluster with the smallest sum of
 *     distances to its seed wins, a cluster that strands a seat costs STRAND_PENALTY more,
 *     and the seats' scores break near-ties (weighted SCORE_WEIGHT).
 * With the showtime's orphan rule off, levels 1 and 2 are one (stranding is not looked at).
 * Within levels 1 and 2 the window with the smallest sum of scores wins (ties: better row,
 * then leftmost). "Eligible" = empty and matching the request's seat types; seats of other
 * types still count as empty neighbours.
 *
 * Under contention (a retry after the picked seats were taken by concurrent requests) the
 * caller may ask for a spread: a random window among the best few of the level, not the best.
 *
 * The caller reads the seats best-first: every seat scored at most a threshold T, plus two
 * seats on either side of each row's run of them as context (their state matters for the
 * orphan check; they are not eligible themselves). A level-1 window with score sum S is final
 * once S is at most thresholdBound: any window not wholly read has a seat scored above T, and
 * its other seats are near it. Levels 2 and 3 need every seat.
 */

export interface RowSeat {
  seatId: string;
  pos: number;
  score: number;
  x: number;
  y: number;
  /** Available, or a hold that has run out. */
  empty: boolean;
  /** Empty and of a wanted seat type. */
  eligible: boolean;
}

export interface SeatRowIn {
  rank: number;
  /** Ordered by pos. */
  seats: RowSeat[];
}

export interface BestPick {
  seatIds: string[];
  level: 1 | 2 | 3;
}

export const SEEDS = 64;
export const STRAND_PENALTY = 1e9;
export const SCORE_WEIGHT = 0.01;

type Taken = (pos: number) => boolean;

/**
 * The seats of `row` that taking `take` (positions of empty seats) strands, as positions.
 * `row` is indexed by pos through `byPos`.
 */
export function stranded(byPos: ReadonlyMap<number, RowSeat>, take: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const emptyAfter: Taken = (p) => {
    const s = byPos.get(p);
    return s !== undefined && s.empty && !take.has(p);
  };
  const seen = new Set<number>();
  for (const p of take) {
    for (const c of [p - 1, p + 1]) {
      if (seen.has(c) || !emptyAfter(c)) continue;
      seen.add(c);
      if (!emptyAfter(c - 1) && !emptyAfter(c + 1)) out.push(c);
    }
  }
  return out.sort((a, b) => a - b);
}

export function byPosOf(row: SeatRowIn): Map<number, RowSeat> {
  return new Map(row.seats.map((s) => [s.pos, s]));
}

interface Window {
  start: number; // index into row.seats
  score: number;
  strands: boolean;
  rank: number;
  pos: number;
}

/** Every window of k adjacent seats of `row` that pass `ok`, with its score and whether it strands. */
function windows(row: SeatRowIn, k: number, ok: (s: RowSeat) => boolean, byPos = byPosOf(row)): Window[] {
  const out: Window[] = [];
  const seats = row.seats;
  let runStart = 0;
  for (let i = 0; i < seats.length; i++) {
    if (!ok(seats[i]) || (i > 0 && seats[i].pos !== seats[i - 1].pos + 1)) runStart = ok(seats[i]) ? i : i + 1;
    if (i - runStart + 1 < k) continue;
    const start = i - k + 1;
    let score = 0;
    const take = new Set<number>();
    for (let j = start; j <= i; j++) {
      score += seats[j].score;
      take.add(seats[j].pos);
    }
    out.push({ start, score, strands: stranded(byPos, take).length > 0, rank: row.rank, pos: seats[start].pos });
  }
  return out;
}

/** Whether `row` has k adjacent empty seats whose taking strands no seat. */
export function hasCleanBlock(row: SeatRowIn, k: number): boolean {
  return windows(row, k, (s) => s.empty).some((w) => !w.strands);
}

/**
 * The seats that a manual selection strands in rows that had another choice (the module
 * comment's rule): empty when the selection is allowed. `rows` holds every row with a selected
 * seat, whole.
 */
export function orphanViolations(rows: readonly SeatRowIn[], selected: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const byPos = byPosOf(row);
    const take = new Set(row.seats.filter((s) => selected.has(s.seatId)).map((s) => s.pos));
    if (take.size === 0) continue;
    const lost = stranded(byPos, take);
    if (lost.length && hasCleanBlock(row, take.size)) out.push(...lost.map((p) => byPos.get(p)!.seatId));
  }
  return out;
}

const better = (a: Window, b: Window | undefined) =>
  b === undefined || a.score < b.score || (a.score === b.score && (a.rank < b.rank || (a.rank === b.rank && a.pos < b.pos)));

export type PickOutcome = { pick: BestPick } | { more: true } | { none: true };

/**
 * How a pick spreads under contention: `spread` > 1 picks at random (`random()` in [0, 1))
 * among the `spread` best windows of the chosen level instead of the very best, so requests
 * that keep colliding on the same block scatter over the next best ones.
 */
export interface Spread {
  spread: number;
  random: () => number;
}

type Found = { w: Window; row: SeatRowIn };

/** The best of `found`, or with a spread a random one of the best `spread`. */
function choose(found: Found[], spread?: Spread): Found | undefined {
  if (found.length <= 1 || !spread || spread.spread <= 1) return found.reduce<Found | undefined>((b, f) => (better(f.w, b?.w) ? f : b), undefined);
  const sorted = [...found].sort((a, b) => (better(a.w, b.w) ? -1 : better(b.w, a.w) ? 1 : 0));
  return sorted[Math.floor(spread.random() * Math.min(spread.spread, sorted.length))];
}

/**
 * The best `k` seats among `rows` (the seats read so far, grouped by row in place order).
 * `unreadBound`: a lower bound of the score sum of every window of k seats that is not wholly
 * among the eligible seats read (Infinity once everything has been read). Answers a pick,
 * `more` (read more first) or `none` (not enough eligible seats, and nothing is left unread).
 */
export function pickBest(rows: readonly SeatRowIn[], k: number, unreadBound: number, avoidSingles = true, spread?: Spread): PickOutcome {
  const complete = unreadBound === Infinity;
  const clean: Found[] = [];
  const any: Found[] = [];
  for (const row of rows) {
    for (const w of windows(row, k, (s) => s.eligible)) {
      if (!w.strands || !avoidSingles) clean.push({ w, row });
      any.push({ w, row });
    }
  }
  const seatsOf = (c: Found) => c.row.seats.slice(c.w.start, c.w.start + k).map((s) => s.seatId);
  const best = choose(clean);
  if (best && best.w.score <= unreadBound) return { pick: { seatIds: seatsOf(choose(clean, spread)!), level: 1 } };
  if (!complete) return { more: true };
  if (any.length) return { pick: { seatIds: seatsOf(choose(any, spread)!), level: 2 } };
  const cluster = closestCluster(rows, k);
  return cluster ? { pick: { seatIds: cluster, level: 3 } } : { none: true };
}

/**
 * What the reader passes as `unreadBound` after reading every seat scored at most `threshold`
 * (and their neighbours, as context): a window not wholly among them has a seat u scored above
 * `threshold`; the other k − 1 seats score at least `minScore` (the hall's best) and, j places
 * from u, at least threshold − j·`maxGap` (neighbours are at most maxGap apart, and scores are
 * distances: the triangle inequality).
 */
export function thresholdBound(threshold: number, minScore: number, k: number, maxGap: number): number {
  const near = k === 1 ? threshold : k * threshold - (maxGap * k * (k - 1)) / 2;
  return Math.max(threshold + (k - 1) * minScore, near);
}

/** Level 3: the tightest cluster of k eligible seats (see the module comment). */
function closestCluster(rows: readonly SeatRowIn[], k: number): string[] | undefined {
  const eligible: Array<RowSeat & { row: number }> = [];
  rows.forEach((r, i) => r.seats.forEach((s) => s.eligible && eligible.push({ ...s, row: i })));
  if (eligible.length < k) return undefined;
  const seeds = [...eligible].sort((a, b) => a.score - b.score).slice(0, SEEDS);
  const byPos = rows.map(byPosOf);
  let best: { cost: number; ids: string[] } | undefined;
  for (const seed of seeds) {
    const near = eligible
      .map((s) => ({ s, d: Math.hypot(s.x - seed.x, s.y - seed.y) }))
      .sort((a, b) => a.d - b.d || a.s.score - b.s.score)
      .slice(0, k);
    let cost = 0;
    const takeByRow = new Map<number, Set<number>>();
    for (const { s, d } of near) {
      cost += d + SCORE_WEIGHT * s.score;
      let t = takeByRow.get(s.row);
      if (!t) takeByRow.set(s.row, (t = new Set()));
      t.add(s.pos);
    }
    for (const [row, take] of takeByRow) if (stranded(byPos[row], take).length) cost += STRAND_PENALTY;
    if (!best || cost < best.cost) best = { cost, ids: near.map((n) => n.s.seatId) };
  }
  return best?.ids;
}
