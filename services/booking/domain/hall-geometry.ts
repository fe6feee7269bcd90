/**
 * What best-available seating and the orphan-seat rule need to know about a hall, computed once
 * per layout when a showtime's inventory is initialised (never per request):
 *
 * - `score`: the seat's distance to the hall's focal point (the stage or screen); lower is better.
 *   The focal point is the layout's `focalPoint`, or, when absent, the centre of the seats' x
 *   range, one row spacing in front of (at smaller y than) the row with the smallest y: the web
 *   seat map draws the stage above the seats.
 * - `rowRank`: the rank of the seat's row by its best seat's score (0 = the best row; ties in
 *   layout order). A row is one LayoutRow of one section; the rank is also the row's key, so
 *   the seats of a row are `(showtime, rowRank)` and best-available reads rows in rank order.
 * - `pos`: the seat's place in its row, left to right (by x; layout order without
 *   coordinates). Neighbours differ by 1. Where the gap to the next seat is more than 1.5× the
 *   row's median gap (an aisle), `pos` skips one, so the seats on either side are not
 *   neighbours and each side of the aisle has its own edge.
 *
 * Seats without coordinates get x = their index in the row and y = the row's index in the
 * layout.
 */

export interface LayoutSeatIn {
  seatId: string;
  seatType: string;
  /** The section's id, or its name when it has none. */
  section: string;
  /** Index of the seat's row over the whole layout (sections' rows in order). */
  row: number;
  /** Index of the seat in its row, in layout order. */
  index: number;
  x?: number;
  y?: number;
}

export interface SeatGeometry {
  seatId: string;
  seatType: string;
  section: string;
  rowRank: number;
  pos: number;
  score: number;
  x: number;
  y: number;
}

export interface Point {
  x: number;
  y: number;
}

/** A gap wider than this many median gaps is an aisle. */
const AISLE_FACTOR = 1.5;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The focal point a layout without one gets (see the module comment). */
export function defaultFocalPoint(seats: ReadonlyArray<{ x: number; y: number; row: number }>): Point {
  if (seats.length === 0) return { x: 0, y: -1 };
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  const rowY = new Map<number, number[]>();
  for (const s of seats) {
    minX = Math.min(minX, s.x);
    maxX = Math.max(maxX, s.x);
    minY = Math.min(minY, s.y);
    let ys = rowY.get(s.row);
    if (!ys) rowY.set(s.row, (ys = []));
    ys.push(s.y);
  }
  const rowYs = [...new Set([...rowY.values()].map((ys) => ys.reduce((a, b) => a + b, 0) / ys.length))].sort((a, b) => a - b);
  const spacings = rowYs.slice(1).map((y, i) => y - rowYs[i]).filter((d) => d > 0);
  const spacing = median(spacings) || 1;
  return { x: (minX + maxX) / 2, y: minY - spacing };
}

/** Every seat's geometry; `seats` in layout order. */
export function hallGeometry(seats: readonly LayoutSeatIn[], focal?: Point): SeatGeometry[] {
  const placed = seats.map((s) => ({ ...s, x: s.x ?? s.index, y: s.y ?? s.row }));
  const haveCoords = seats.every((s) => s.x !== undefined && s.y !== undefined);
  const f = focal ?? defaultFocalPoint(placed);
  const rows = new Map<number, typeof placed>();
  for (const s of placed) {
    let r = rows.get(s.row);
    if (!r) rows.set(s.row, (r = []));
    r.push(s);
  }
  const out = new Map<string, SeatGeometry>();
  const rowBest: Array<{ row: number; best: number }> = [];
  for (const [row, members] of rows) {
    const ordered = haveCoords ? [...members].sort((a, b) => a.x - b.x || a.index - b.index) : members;
    const gaps = ordered.slice(1).map((s, i) => Math.hypot(s.x - ordered[i].x, s.y - ordered[i].y));
    const typical = median(gaps.filter((g) => g > 0));
    let pos = 0;
    let best = Infinity;
    ordered.forEach((s, i) => {
      if (i > 0) pos += typical > 0 && gaps[i - 1] > typical * AISLE_FACTOR ? 2 : 1;
      const score = Math.hypot(s.x - f.x, s.y - f.y);
      best = Math.min(best, score);
      out.set(s.seatId, { seatId: s.seatId, seatType: s.seatType, section: s.section, rowRank: -1, pos, score, x: s.x, y: s.y });
    });
    rowBest.push({ row, best });
  }
  rowBest.sort((a, b) => a.best - b.best || a.row - b.row);
  const rankOf = new Map(rowBest.map((r, rank) => [r.row, rank]));
  return seats.map((s) => {
    const g = out.get(s.seatId)!;
    g.rowRank = rankOf.get(s.row)!;
    return g;
  });
}

/** The catalog's SeatLayout as far as geometry goes (the generated message satisfies it). */
export interface LayoutShape {
  focalPoint?: Point;
  sections: ReadonlyArray<{
    id: string;
    name: string;
    rows: ReadonlyArray<{ seats: ReadonlyArray<{ id: string; seatType: string; coordinates?: Point }> }>;
  }>;
}

/** The layout's seats in layout order, each with its geometry; `defaultSeatType` for an empty type. */
export function layoutGeometry(layout: LayoutShape, defaultSeatType: string): SeatGeometry[] {
  const seats: LayoutSeatIn[] = [];
  let row = 0;
  for (const section of layout.sections) {
    for (const r of section.rows) {
      r.seats.forEach((seat, index) =>
        seats.push({
          seatId: seat.id,
          seatType: seat.seatType || defaultSeatType,
          section: section.id || section.name,
          row,
          index,
          x: seat.coordinates?.x,
          y: seat.coordinates?.y,
        }),
      );
      row++;
    }
  }
  return hallGeometry(seats, layout.focalPoint);
}

/**
 * The longest distance between two neighbours (consecutive `pos`) of a row, over the hall: two
 * seats j places apart in a block differ in score by at most j times this (the triangle
 * inequality), which bounds the score of a block best-available has not read whole.
 */
export function maxNeighbourGap(seats: ReadonlyArray<{ rowRank: number; pos: number; x: number; y: number }>): number {
  const at = new Map<string, { x: number; y: number }>();
  for (const s of seats) at.set(`${s.rowRank}:${s.pos}`, s);
  let gap = 0;
  for (const s of seats) {
    const next = at.get(`${s.rowRank}:${s.pos + 1}`);
    if (next) gap = Math.max(gap, Math.hypot(next.x - s.x, next.y - s.y));
  }
  return gap;
}
