import fc from "fast-check";
import { byPosOf, hasCleanBlock, orphanViolations, pickBest, stranded, thresholdBound, type SeatRowIn } from "../domain/best-seats.js";
import { defaultFocalPoint, hallGeometry, layoutGeometry, maxNeighbourGap, type LayoutSeatIn } from "../domain/hall-geometry.js";

/**
 * The pure best-available picker and orphan rule (domain/best-seats.ts) over random halls and
 * occupancy, against brute force; and the hall geometry computed at initialisation.
 */

interface Hall {
  /** Per row: seat count and, optionally, where an aisle splits it. */
  rows: Array<{ seats: number; aisleAfter: number }>;
  /** Per seat (flattened): taken, and premium. */
  taken: boolean[];
  premium: boolean[];
}

const hallArb: fc.Arbitrary<Hall> = fc
  .array(fc.record({ seats: fc.integer({ min: 1, max: 14 }), aisleAfter: fc.integer({ min: -1, max: 13 }) }), { minLength: 1, maxLength: 6 })
  .chain((rows) => {
    const n = rows.reduce((a, r) => a + r.seats, 0);
    return fc.record({
      rows: fc.constant(rows),
      taken: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      premium: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    });
  });

/** The hall's rows as the database serves them: geometry as initialisation computes it, best row first. */
function rowsOf(hall: Hall, wanted?: string): SeatRowIn[] {
  const seats: LayoutSeatIn[] = [];
  hall.rows.forEach((r, row) => {
    for (let index = 0; index < r.seats; index++) {
      const n = seats.length;
      seats.push({
        seatId: `r${row}s${index}`,
        seatType: hall.premium[n] ? "premium" : "standard",
        section: "main",
        row,
        index,
        // an aisle is three seats wide
        x: index + (r.aisleAfter >= 0 && index > r.aisleAfter ? 3 : 0),
        y: row,
      });
    }
  });
  const geometry = hallGeometry(seats);
  const byRank = new Map<number, SeatRowIn>();
  geometry.forEach((g, i) => {
    let row = byRank.get(g.rowRank);
    if (!row) byRank.set(g.rowRank, (row = { rank: g.rowRank, seats: [] }));
    const empty = !hall.taken[i];
    row.seats.push({ seatId: g.seatId, pos: g.pos, score: g.score, x: g.x, y: g.y, empty, eligible: empty && (!wanted || g.seatType === wanted) });
  });
  const rows = [...byRank.values()].sort((a, b) => a.rank - b.rank);
  for (const r of rows) r.seats.sort((a, b) => a.pos - b.pos);
  return rows;
}

/** What db/seat-rows.ts readBest returns: the seats scored ≤ threshold, each row's run of them, and two seats of context either side. */
function readBest(rows: SeatRowIn[], threshold: number): SeatRowIn[] {
  return rows.flatMap((row) => {
    const core = row.seats.filter((s) => s.score <= threshold).map((s) => s.pos);
    if (core.length === 0) return [];
    const lo = Math.min(...core);
    const hi = Math.max(...core);
    const seats = row.seats.filter((s) => s.pos >= lo - 2 && s.pos <= hi + 2).map((s) => ({ ...s, eligible: s.eligible && s.pos >= lo && s.pos <= hi }));
    return [{ rank: row.rank, seats }];
  });
}

/** Every k-window of adjacent eligible seats, by brute force: its ids, score and whether it strands a seat. */
function allWindows(rows: SeatRowIn[], k: number) {
  const out: Array<{ ids: string[]; score: number; strands: boolean }> = [];
  for (const row of rows) {
    const byPos = byPosOf(row);
    for (const first of row.seats) {
      const w = Array.from({ length: k }, (_, j) => byPos.get(first.pos + j));
      if (w.some((s) => !s || !s.eligible)) continue;
      const take = new Set(w.map((s) => s!.pos));
      out.push({ ids: w.map((s) => s!.seatId), score: w.reduce((a, s) => a + s!.score, 0), strands: stranded(byPos, take).length > 0 });
    }
  }
  return out;
}

const seatsById = (rows: SeatRowIn[]) => new Map(rows.flatMap((r) => r.seats.map((s) => [s.seatId, { ...s, rank: r.rank }] as const)));

/** The seats `ids` strand, looking at each row they touch. */
function strandsAny(rows: SeatRowIn[], ids: string[]): boolean {
  const chosen = new Set(ids);
  return rows.some((row) => {
    const take = new Set(row.seats.filter((s) => chosen.has(s.seatId)).map((s) => s.pos));
    return take.size > 0 && stranded(byPosOf(row), take).length > 0;
  });
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

describe("best available (pure)", () => {
  it("returns k distinct eligible seats, never a taken one or one of another type, whenever k exist", () => {
    fc.assert(
      fc.property(hallArb, fc.integer({ min: 1, max: 6 }), fc.constantFrom(undefined, "premium"), fc.double({ min: 0, max: 0.999, noNaN: true }), (hall, k, wanted, r) => {
        const rows = rowsOf(hall, wanted);
        const outcome = pickBest(rows, k, Infinity);
        const eligible = rows.flatMap((r) => r.seats).filter((s) => s.eligible).length;
        if (eligible < k) return expect(outcome).toEqual({ none: true });
        expect("pick" in outcome).toBe(true);
        if (!("pick" in outcome)) return;
        const ids = outcome.pick.seatIds;
        expect(new Set(ids).size).toBe(k);
        const byId = seatsById(rows);
        for (const id of ids) expect(byId.get(id)!.eligible).toBe(true);
        // spread under contention: another of the level's windows, still eligible and of the same level
        const spread = pickBest(rows, k, Infinity, true, { spread: 5, random: () => r });
        if (!("pick" in spread)) throw new Error("a spread pick must find what the best pick found");
        expect(spread.pick.level).toBe(outcome.pick.level);
        for (const id of spread.pick.seatIds) expect(byId.get(id)!.eligible).toBe(true);
        if (spread.pick.level === 1) expect(strandsAny(rows, spread.pick.seatIds)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("never strands a single seat when adjacent seats in one row that strand none exist, and picks the best of those", () => {
    fc.assert(
      fc.property(hallArb, fc.integer({ min: 1, max: 5 }), (hall, k) => {
        const rows = rowsOf(hall);
        const windows = allWindows(rows, k);
        const clean = windows.filter((w) => !w.strands);
        const outcome = pickBest(rows, k, Infinity);
        if (clean.length === 0) return;
        if (!("pick" in outcome)) throw new Error("no pick although a clean window exists");
        expect(outcome.pick.level).toBe(1);
        expect(strandsAny(rows, outcome.pick.seatIds)).toBe(false);
        const byId = seatsById(rows);
        const score = outcome.pick.seatIds.reduce((a, id) => a + byId.get(id)!.score, 0);
        expect(close(score, Math.min(...clean.map((w) => w.score)))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("falls back to adjacent seats that strand one, then to the closest seats, in that order", () => {
    fc.assert(
      fc.property(hallArb, fc.integer({ min: 1, max: 5 }), (hall, k) => {
        const rows = rowsOf(hall);
        const windows = allWindows(rows, k);
        const outcome = pickBest(rows, k, Infinity);
        if (!("pick" in outcome)) return;
        const ids = outcome.pick.seatIds;
        const byId = seatsById(rows);
        const adjacentInOneRow = ids.every((id) => byId.get(id)!.rank === byId.get(ids[0])!.rank) &&
          [...ids.map((id) => byId.get(id)!.pos)].sort((a, b) => a - b).every((p, i, a) => i === 0 || p === a[i - 1] + 1);
        if (windows.some((w) => !w.strands)) expect(outcome.pick.level).toBe(1);
        else if (windows.length) expect(outcome.pick.level).toBe(2);
        else expect(outcome.pick.level).toBe(3);
        if (outcome.pick.level < 3) expect(adjacentInOneRow).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("reading the best-scored seats first, stops early only when nothing unread could be a better pick", () => {
    fc.assert(
      fc.property(hallArb, fc.integer({ min: 1, max: 5 }), (hall, k) => {
        const rows = rowsOf(hall);
        const full = pickBest(rows, k, Infinity);
        const scores = rows.flatMap((r) => r.seats.map((s) => s.score)).sort((a, b) => a - b);
        const gap = maxNeighbourGap(rows.flatMap((r) => r.seats.map((s) => ({ ...s, rowRank: r.rank }))));
        for (let n = 1; n < scores.length; n *= 2) {
          const partial = pickBest(readBest(rows, scores[n]), k, thresholdBound(scores[n], scores[0], k, gap));
          if ("more" in partial) continue;
          if (!("pick" in partial) || !("pick" in full)) throw new Error(`an early answer must be a pick: ${JSON.stringify(partial)}`);
          const byId = seatsById(rows);
          const sum = (ids: string[]) => ids.reduce((a, id) => a + byId.get(id)!.score, 0);
          expect(partial.pick.level).toBe(1);
          expect(close(sum(partial.pick.seatIds), sum(full.pick.seatIds))).toBe(true);
          return;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("with the orphan rule off, takes the best-scored adjacent seats whether they strand one or not", () => {
    // one row of 5, the middle taken: 2 seats from the left strand nothing... 0,1 | X | 3,4
    const rows: SeatRowIn[] = [
      {
        rank: 0,
        seats: [0, 1, 2, 3, 4, 5].map((pos) => ({ seatId: `s${pos}`, pos, score: Math.abs(pos - 2.5), x: pos, y: 0, empty: pos !== 0, eligible: pos !== 0 })),
      },
    ];
    // seats 1..5 free: two at 2,3 (best) strand 1; two at 1,2 strand nothing
    expect(pickBest(rows, 2, Infinity)).toEqual({ pick: { seatIds: ["s1", "s2"], level: 1 } });
    expect(pickBest(rows, 2, Infinity, false)).toEqual({ pick: { seatIds: ["s2", "s3"], level: 1 } });
  });
});

describe("orphan rule (pure)", () => {
  const row = (free: string): SeatRowIn => ({
    rank: 0,
    seats: [...free].map((c, pos) => ({ seatId: `s${pos}`, pos, score: pos, x: pos, y: 0, empty: c === "_", eligible: c === "_" })),
  });

  it("refuses a selection that strands one seat between taken seats or at the edge when the row has another choice", () => {
    expect(orphanViolations([row("X_____")], new Set(["s2", "s3"]))).toEqual(["s1"]);
    expect(orphanViolations([row("______")], new Set(["s1", "s2"]))).toEqual(["s0"]); // at the edge
    expect(orphanViolations([row("______")], new Set(["s0", "s2"]))).toEqual(["s1"]); // between own seats
    expect(orphanViolations([row("X_____")], new Set(["s1", "s2"]))).toEqual([]);
    expect(orphanViolations([row("______")], new Set(["s2", "s3"]))).toEqual([]); // two left on each side
  });

  it("allows it when no block of as many seats in that row avoids a single", () => {
    // X _ _ _ X: any 2 adjacent strand one seat; so does the middle one for 1
    expect(hasCleanBlock(row("X___X"), 2)).toBe(false);
    expect(orphanViolations([row("X___X")], new Set(["s1", "s2"]))).toEqual([]);
    // one seat: the middle strands both sides, and s1 (leaving two together) is another choice
    expect(orphanViolations([row("X___X")], new Set(["s2"]))).toEqual(["s1", "s3"]);
    expect(orphanViolations([row("X_X")], new Set(["s1"]))).toEqual([]);
  });

  it("holds for random rows: a violation is only ever reported when a clean block exists, and only for stranded seats", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), fc.array(fc.nat(15), { minLength: 1, maxLength: 5 }), (taken, picks) => {
        const r = row(taken.map((t) => (t ? "X" : "_")).join(""));
        const chosen = new Set(picks.filter((p) => p < taken.length && !taken[p]).map((p) => `s${p}`));
        if (chosen.size === 0) return;
        const lost = orphanViolations([r], chosen);
        const take = new Set([...chosen].map((id) => Number(id.slice(1))));
        const strandedIds = stranded(byPosOf(r), take).map((p) => `s${p}`);
        if (hasCleanBlock(r, chosen.size)) expect(lost).toEqual(strandedIds);
        else expect(lost).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

describe("hall geometry", () => {
  it("scores from a default focal point centred in front of the first row, ranks rows by their best seat and skips a place at an aisle", () => {
    const seats: LayoutSeatIn[] = [];
    for (let row = 0; row < 3; row++) {
      for (let index = 0; index < 6; index++) {
        seats.push({ seatId: `${row}-${index}`, seatType: "standard", section: "s", row, index, x: index < 3 ? index : index + 2, y: row * 2 });
      }
    }
    expect(defaultFocalPoint(seats.map((s) => ({ x: s.x!, y: s.y!, row: s.row })))).toEqual({ x: 3.5, y: -2 });
    const g = hallGeometry(seats);
    expect(g.filter((s) => s.rowRank === 0).map((s) => s.seatId)).toEqual(["0-0", "0-1", "0-2", "0-3", "0-4", "0-5"]);
    expect(g.find((s) => s.seatId === "2-0")!.rowRank).toBe(2);
    expect(g.filter((s) => s.rowRank === 0).map((s) => s.pos)).toEqual([0, 1, 2, 4, 5, 6]); // the aisle after seat 3
    expect(g.find((s) => s.seatId === "0-2")!.score).toBeCloseTo(Math.hypot(1.5, 2));
  });

  it("uses the layout's focal point: a stage at the back makes the last row the best", () => {
    const layout = {
      focalPoint: { x: 1, y: 10 },
      sections: [{ id: "", name: "Stalls", rows: [0, 1, 2].map((r) => ({ seats: [0, 1, 2].map((i) => ({ id: `${r}${i}`, seatType: "", coordinates: { x: i, y: r } })) })) }],
    };
    const g = layoutGeometry(layout, "standard");
    expect(g.find((s) => s.seatId === "21")).toMatchObject({ rowRank: 0, section: "Stalls", seatType: "standard", score: 8 });
    expect(g.find((s) => s.seatId === "01")!.rowRank).toBe(2);
  });
});
