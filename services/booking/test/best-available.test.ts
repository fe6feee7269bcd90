import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { holdBest, type BestRequest } from "../best-available.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { bookingRepos, type BookingRepos } from "../db/repos.js";
import { readRows } from "../db/seat-rows.js";
import { byPosOf, pickBest, stranded, type SeatRowIn } from "../domain/best-seats.js";
import { NoGeometryError, NotEnoughSeatsError, SeatsContendedError, SingleSeatError } from "../domain/errors.js";
import { hallGeometry } from "../domain/hall-geometry.js";
import { gridSeats, holdDirect, seatRows, seedInventory } from "./harness.js";

/**
 * Best available and the orphan rule against real Postgres: the picked seats were free and are
 * now held; no single seat is stranded when a choice without one existed; concurrent requests
 * never share a seat and their totals add up; the orphan rule of manual holds and its switch.
 */

let database: { url: string; drop(): Promise<void> };
let db: Knex;
let repo: BookingRepos;

beforeAll(async () => {
  database = await createTestDatabase("booking_best");
  db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 30 });
  repo = bookingRepos(db);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const rejection = async (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

function best(showtimeId: string, quantity: number, more: Partial<BestRequest> = {}) {
  return db.transaction((t) =>
    holdBest(
      t,
      { holds: repo.holds, inventory: repo.inventory },
      { bookingId: randomUUID(), showtimeId, userId: randomUUID(), quantity, holdSeconds: 600, maxHeldPerUser: 100, ...more },
    ),
  );
}

/** Books `seatIds` directly (someone else's confirmed seats), whatever they strand. */
async function book(showtimeId: string, seatIds: string[]) {
  if (seatIds.length === 0) return;
  await db.raw(
    `UPDATE inventory_seats SET status = 'booked', holder_id = gen_random_uuid(), booking_id = gen_random_uuid()
     WHERE showtime_id = ? AND seat_id = ANY(?::text[])`,
    [showtimeId, seatIds],
  );
}

async function allRows(showtimeId: string): Promise<SeatRowIn[]> {
  return readRows(db, showtimeId, 0, 1_000_000);
}

function strandsIn(rows: SeatRowIn[], ids: string[]): boolean {
  const chosen = new Set(ids);
  return rows.some((row) => {
    const take = new Set(row.seats.filter((s) => chosen.has(s.seatId)).map((s) => s.pos));
    return take.size > 0 && stranded(byPosOf(row), take).length > 0;
  });
}

const hallArb = fc.record({
  rows: fc.integer({ min: 1, max: 6 }),
  perRow: fc.integer({ min: 1, max: 12 }),
  taken: fc.array(fc.boolean(), { minLength: 72, maxLength: 72 }),
  quantity: fc.integer({ min: 1, max: 5 }),
});

describe("ReserveBestSeats on Postgres", () => {
  it("holds seats that were free, the ones the pure picker chooses, stranding none when it could avoid it", async () => {
    await fc.assert(
      fc.asyncProperty(hallArb, async ({ rows, perRow, taken, quantity }) => {
        const { showtimeId, seatIds } = await seedInventory(repo, { rows, perRow, premiumRows: 0, avoidSingleSeats: true });
        await book(showtimeId, seatIds.filter((_, i) => taken[i]));
        const before = await allRows(showtimeId);
        const expected = pickBest(before, quantity, Infinity);
        const outcome = await rejection(best(showtimeId, quantity));
        if ("none" in expected) {
          expect(outcome).toBeInstanceOf(NotEnoughSeatsError);
          return;
        }
        expect(outcome).toBeUndefined();
        if (!("pick" in expected)) throw new Error("a complete read is never `more`");
        const after = await seatRows(db, showtimeId);
        const held = [...after.values()].filter((s) => s.status === "held").map((s) => s.seat_id);
        expect(held.sort()).toEqual([...expected.pick.seatIds].sort());
        const free = new Set(before.flatMap((r) => r.seats.filter((s) => s.empty).map((s) => s.seatId)));
        for (const id of held) expect(free.has(id)).toBe(true);
        if (expected.pick.level === 1) expect(strandsIn(before, held)).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it("gives concurrent requests disjoint seats, and the seats held add up to what was asked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          taken: fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
          quantities: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 4, maxLength: 10 }),
        }),
        async ({ taken, quantities }) => {
          const { showtimeId, seatIds } = await seedInventory(repo, { rows: 5, perRow: 12, premiumRows: 0, avoidSingleSeats: true });
          await book(showtimeId, seatIds.filter((_, i) => taken[i] && i % 3 === 0));
          const results = await Promise.allSettled(quantities.map((q) => best(showtimeId, q)));
          const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.booking.seatIds] : []));
          for (const r of results) {
            if (r.status === "rejected") expect([NotEnoughSeatsError, SeatsContendedError].some((E) => r.reason instanceof E)).toBe(true);
          }
          const union = won.flat();
          expect(new Set(union).size).toBe(union.length);
          const after = await seatRows(db, showtimeId);
          const heldNow = [...after.values()].filter((s) => s.status === "held").map((s) => s.seat_id);
          expect(heldNow.sort()).toEqual([...union].sort());
          const bookings = await db("bookings").where({ showtime_id: showtimeId });
          expect(bookings.reduce((n, b) => n + b.seat_ids.length, 0)).toBe(union.length);
          expect(won.length).toBe(bookings.length);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("answers several concurrent requests for the single best block with different seats, without deadlocking", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 3, perRow: 10, premiumRows: 0 });
    const results = await Promise.all(Array.from({ length: 12 }, () => best(showtimeId, 2)));
    const union = results.flatMap((r) => r.booking.seatIds);
    expect(new Set(union).size).toBe(24);
  });

  it("filters by seat type and section", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 4, perRow: 6, premiumRows: 1 });
    const premium = await best(showtimeId, 2, { seatTypes: ["premium"] });
    expect(premium.booking.seatIds.every((id) => id.startsWith("R1S"))).toBe(true);
    const standard = await best(showtimeId, 3, { seatTypes: ["standard"] });
    expect(standard.booking.seatIds.every((id) => id.startsWith("R2S"))).toBe(true);
    expect(await rejection(best(showtimeId, 2, { section: "balcony" }))).toBeInstanceOf(NotEnoughSeatsError);
    expect((await best(showtimeId, 2, { section: "main" })).booking.seatIds).toHaveLength(2);
  });

  it("keeps the hold's limits: the per-user cap", async () => {
    const { showtimeId } = await seedInventory(repo);
    const userId = randomUUID();
    await best(showtimeId, 3, { userId, maxHeldPerUser: 4 });
    expect((await rejection(best(showtimeId, 2, { userId, maxHeldPerUser: 4 })))?.constructor.name).toBe("HoldLimitError");
  });

  it("computes the geometry of an inventory initialised without one, once, from the layout", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 2, perRow: 5, geometry: false });
    expect(await rejection(best(showtimeId, 2))).toBeInstanceOf(NoGeometryError);
    const geometryOf = async () => {
      const seats = gridSeats(2, 5, 1).map((s) => s.geometry!);
      return hallGeometry(
        gridSeats(2, 5, 1).map((s, i) => ({ seatId: s.seatId, seatType: s.seatType, section: "main", row: seats[i].rowRank, index: seats[i].pos, x: seats[i].x, y: seats[i].y })),
      );
    };
    const held = await db.transaction((t) =>
      holdBest(t, { holds: repo.holds, inventory: repo.inventory, geometryOf }, {
        bookingId: randomUUID(),
        showtimeId,
        userId: randomUUID(),
        quantity: 2,
        holdSeconds: 600,
        maxHeldPerUser: 10,
      }),
    );
    expect(held.booking.seatIds.every((id) => id.startsWith("R1S"))).toBe(true);
    expect((await repo.inventory.seatingPolicy(showtimeId))!.rowCount).toBe(2);
  });
});

describe("the orphan-seat rule of manual holds", () => {
  it("refuses a hold that strands one seat and names it, unless the rule is off for the showtime", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 2, perRow: 6, avoidSingleSeats: true });
    const err = await rejection(holdDirect(repo, { showtimeId, seatIds: ["R1S2", "R1S3"] }));
    expect(err).toBeInstanceOf(SingleSeatError);
    expect((err as SingleSeatError).seatIds).toEqual(["R1S1"]);
    expect((await seatRows(db, showtimeId)).get("R1S2")!.status).toBe("available"); // nothing held
    await holdDirect(repo, { showtimeId, seatIds: ["R1S1", "R1S2"] }); // from the edge: fine
    expect(await rejection(holdDirect(repo, { showtimeId, seatIds: ["R1S4"] }))).toBeInstanceOf(SingleSeatError); // strands R1S3

    expect(await repo.inventory.setAvoidSingleSeats(showtimeId, false)).toBe(true);
    await holdDirect(repo, { showtimeId, seatIds: ["R1S4"] });
    expect((await repo.inventory.seatingPolicy(showtimeId))!.avoidSingleSeats).toBe(false);
  });

  it("allows stranding a seat when the row offers no other choice of as many adjacent seats", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 1, perRow: 5, avoidSingleSeats: true });
    await book(showtimeId, ["R1S1", "R1S5"]);
    // _ _ _ between two taken seats: any two adjacent strand the third
    await holdDirect(repo, { showtimeId, seatIds: ["R1S2", "R1S3"] });
    expect((await seatRows(db, showtimeId)).get("R1S3")!.status).toBe("held");
  });

  it("applies to inventories without geometry not at all", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 1, perRow: 6, geometry: false, avoidSingleSeats: true });
    await holdDirect(repo, { showtimeId, seatIds: ["R1S2"] });
  });
});
