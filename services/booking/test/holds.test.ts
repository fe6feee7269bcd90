import { randomUUID } from "node:crypto";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { bookingRepos, type BookingRepos } from "../db/repos.js";
import { HoldLimitError, InventoryMissingError, SeatsTakenError, ShowStartedError, UnknownSeatsError } from "../domain/errors.js";
import { bookingRow, holdDirect, seatRows, seedInventory } from "./harness.js";

/**
 * The hold, confirm and release SQL against real Postgres: atomic and all-or-nothing, expired
 * holds, the per-user cap under concurrency, idempotent transitions, and the reaper's repair.
 */

let database: { url: string; drop(): Promise<void> };
let db: Knex;
let repo: BookingRepos;

beforeAll(async () => {
  database = await createTestDatabase("booking_sql");
  db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 30 });
  repo = bookingRepos(db);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const rejection = async (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe("initialisation", () => {
  it("creates the header and every seat available, in layout order, exactly once under concurrent duplicates", async () => {
    const showtimeId = randomUUID();
    const header = {
      showtimeId,
      eventId: randomUUID(),
      venueId: randomUUID(),
      hallId: randomUUID(),
      startsAt: new Date(Date.now() + 86_400_000),
      currency: "USD",
      prices: { standard: 1000 },
    };
    const seats = Array.from({ length: 500 }, (_, i) => ({ seatId: `S${500 - i}`, seatType: "standard" }));
    const results = await Promise.all(Array.from({ length: 5 }, () => repo.inventory.createInventory(header, seats)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.every((r) => r.seats === 500)).toBe(true);
    const map = await repo.inventory.seatMap(showtimeId);
    expect(map!.seats.map((s) => s.seatId)).toEqual(seats.map((s) => s.seatId)); // layout order, not id order
    expect(map!.seats.every((s) => s.status === "available")).toBe(true);
    expect(await repo.inventory.seatMap(randomUUID())).toBeUndefined();
  });
});

describe("hold", () => {
  it("holds every seat for the booking, prices them by seat type and writes the booking row in one go", async () => {
    const { showtimeId } = await seedInventory(repo);
    const userId = randomUUID();
    const { booking } = await holdDirect(repo, { showtimeId, userId, seatIds: ["R1S1", "R2S1", "R2S2"] });
    expect(booking.amountMinor).toBe(4500 + 2500 + 2500);
    expect(booking.heldUntil.getTime()).toBeGreaterThan(Date.now() + 590_000);
    const seats = await seatRows(db, showtimeId);
    for (const id of ["R1S1", "R2S1", "R2S2"]) {
      expect(seats.get(id)).toMatchObject({ status: "held", holder_id: userId, booking_id: booking.id });
      expect(seats.get(id)!.held_until!.getTime()).toBe(booking.heldUntil.getTime());
    }
    expect(await bookingRow(db, booking.id)).toMatchObject({
      status: "held",
      payment_status: "pending",
      amount_minor: "9500",
      currency: "USD",
      seat_ids: ["R1S1", "R2S1", "R2S2"],
    });
  });

  it("is all-or-nothing: one seat taken → nothing held, and the error names the taken seats", async () => {
    const { showtimeId } = await seedInventory(repo);
    await holdDirect(repo, { showtimeId, seatIds: ["R3S3", "R3S5"] });
    const err = await rejection(holdDirect(repo, { showtimeId, seatIds: ["R3S1", "R3S2", "R3S3", "R3S4", "R3S5"] }));
    expect(err).toBeInstanceOf(SeatsTakenError);
    expect((err as SeatsTakenError).seatIds).toEqual(["R3S3", "R3S5"]);
    const seats = await seatRows(db, showtimeId);
    for (const id of ["R3S1", "R3S2", "R3S4"]) expect(seats.get(id)!.status).toBe("available");
    expect(Number((await db("bookings").where({ showtime_id: showtimeId }).count())[0].count)).toBe(1);
  });

  it("names unknown seats, refuses a started show and a missing inventory", async () => {
    const { showtimeId } = await seedInventory(repo);
    const unknown = await rejection(holdDirect(repo, { showtimeId, seatIds: ["R1S1", "Z9", "R1S2", "Q1"] }));
    expect((unknown as UnknownSeatsError).seatIds).toEqual(["Z9", "Q1"]);
    const past = await seedInventory(repo, { startsAt: new Date(Date.now() - 60_000) });
    expect(await rejection(holdDirect(repo, { showtimeId: past.showtimeId, seatIds: ["R1S1"] }))).toBeInstanceOf(ShowStartedError);
    expect(await rejection(holdDirect(repo, { showtimeId: randomUUID(), seatIds: ["R1S1"] }))).toBeInstanceOf(InventoryMissingError);
  });

  it("never holds past the show's start", async () => {
    const startsAt = new Date(Date.now() + 120_000);
    const { showtimeId } = await seedInventory(repo, { startsAt });
    const { booking } = await holdDirect(repo, { showtimeId, seatIds: ["R1S1"], holdSeconds: 1800 });
    expect(booking.heldUntil.getTime()).toBe(startsAt.getTime());
  });

  it("an expired hold reads as available at once and can be taken over; the old booking's release then leaves it alone", async () => {
    const { showtimeId } = await seedInventory(repo);
    const first = await holdDirect(repo, { showtimeId, seatIds: ["R4S1", "R4S2"], holdSeconds: 1 });
    expect((await repo.inventory.seatMap(showtimeId))!.seats.find((s) => s.seatId === "R4S1")!.status).toBe("held");
    await new Promise((r) => setTimeout(r, 1_100));
    const map = await repo.inventory.seatMap(showtimeId);
    const seat = map!.seats.find((s) => s.seatId === "R4S1")!;
    expect(seat).toEqual({ seatId: "R4S1", status: "available" }); // no holder, booking or heldUntil either
    expect(map!.lastUpdatedMs).toBe(first.booking.heldUntil.getTime()); // the hold ran out: that is a change
    expect((await repo.inventory.availability([showtimeId]))[0]).toEqual({ showtimeId, available: 40, total: 40 });
    // nobody released it: the row still says held
    expect((await seatRows(db, showtimeId)).get("R4S1")!.status).toBe("held");

    const second = await holdDirect(repo, { showtimeId, seatIds: ["R4S2", "R4S3"] });
    // the first booking's timer fires late: only what it still holds (R4S1) goes back
    expect(await repo.holds.releaseHold(first.booking.id, "expired")).toEqual({ changed: true, released: 1 });
    const seats = await seatRows(db, showtimeId);
    expect(seats.get("R4S1")!.status).toBe("available");
    expect(seats.get("R4S2")).toMatchObject({ status: "held", booking_id: second.booking.id });
    expect((await bookingRow(db, first.booking.id)).status).toBe("expired");
    // and it cannot be confirmed any more
    expect(await repo.holds.confirm(first.booking.id)).toBe("hold_lost");
  });

  it("per-user cap: counted over the user's unexpired holds of the showtime", async () => {
    const { showtimeId } = await seedInventory(repo);
    const userId = randomUUID();
    await holdDirect(repo, { showtimeId, userId, seatIds: ["R2S1", "R2S2", "R2S3"], maxHeldPerUser: 4 });
    const err = await rejection(holdDirect(repo, { showtimeId, userId, seatIds: ["R2S4", "R2S5"], maxHeldPerUser: 4 }));
    expect(err).toBeInstanceOf(HoldLimitError);
    expect(err).toMatchObject({ alreadyHeld: 3, requested: 2, max: 4 });
    // another showtime, or another user, is not affected
    const other = await seedInventory(repo);
    await holdDirect(repo, { showtimeId: other.showtimeId, userId, seatIds: ["R2S4", "R2S5"], maxHeldPerUser: 4 });
    await holdDirect(repo, { showtimeId, seatIds: ["R2S4", "R2S5"], maxHeldPerUser: 4 });
    // expired holds do not count
    const short = await seedInventory(repo);
    await holdDirect(repo, { showtimeId: short.showtimeId, userId, seatIds: ["R2S1", "R2S2", "R2S3", "R2S4"], holdSeconds: 1, maxHeldPerUser: 4 });
    await new Promise((r) => setTimeout(r, 1_100));
    await holdDirect(repo, { showtimeId: short.showtimeId, userId, seatIds: ["R3S1", "R3S2", "R3S3", "R3S4"], maxHeldPerUser: 4 });
  });

  it("per-user cap under concurrency: 20 concurrent holds by one user never exceed it", async () => {
    const { showtimeId } = await seedInventory(repo, { rows: 10, perRow: 10 });
    const userId = randomUUID();
    const cap = 10;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        holdDirect(repo, { showtimeId, userId, seatIds: [`R${i % 10 + 1}S${Math.floor(i / 10) + 1}`, `R${i % 10 + 1}S${Math.floor(i / 10) + 5}`, `R${i % 10 + 1}S${Math.floor(i / 10) + 8}`], maxHeldPerUser: cap }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.every((r) => (r as PromiseRejectedResult).reason instanceof HoldLimitError)).toBe(true);
    expect(ok).toHaveLength(3); // 3 seats each: 3 × 3 = 9 ≤ 10 < 12
    const held = [...(await seatRows(db, showtimeId)).values()].filter((s) => s.status === "held" && s.holder_id === userId);
    expect(held).toHaveLength(9);
  });

  it("overlapping holds never deadlock (rows are locked in seat order) and each seat goes to one booking", async () => {
    const { showtimeId, seatIds } = await seedInventory(repo, { rows: 2, perRow: 10 });
    // every request wants the same 6 seats in a different order
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => {
        const ids = seatIds.slice(0, 6);
        for (let j = ids.length - 1; j > 0; j--) {
          const k = (i * 7 + j * 3) % (j + 1);
          [ids[j], ids[k]] = [ids[k], ids[j]];
        }
        return holdDirect(repo, { showtimeId, seatIds: ids });
      }),
    );
    const reasons = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(reasons.every((e) => e instanceof SeatsTakenError)).toBe(true); // none is a deadlock (40P01)
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});

describe("transitions (what the activities run)", () => {
  it("confirm: held → booked and the booking confirmed/paid in one transaction; repeating it changes nothing", async () => {
    const { showtimeId } = await seedInventory(repo);
    const { booking } = await holdDirect(repo, { showtimeId, seatIds: ["R1S5", "R1S6"] });
    expect(await repo.holds.confirm(booking.id, "pi_123")).toBe("confirmed");
    const seats = await seatRows(db, showtimeId);
    expect(seats.get("R1S5")).toMatchObject({ status: "booked", booking_id: booking.id, held_until: null });
    const row = await bookingRow(db, booking.id);
    expect(row).toMatchObject({ status: "confirmed", payment_status: "paid", payment_intent_id: "pi_123" });
    expect(row.confirmed_at).toBeInstanceOf(Date);
    expect(await repo.holds.confirm(booking.id, "pi_123")).toBe("confirmed");
    expect((await bookingRow(db, booking.id)).confirmed_at.getTime()).toBe(row.confirmed_at.getTime());
    // a booked seat is never available, expired or not
    expect(await rejection(holdDirect(repo, { showtimeId, seatIds: ["R1S5"] }))).toBeInstanceOf(SeatsTakenError);
  });

  it("confirm: hold_lost (and nothing changed) when a seat is no longer held by the booking; unknown booking too", async () => {
    const { showtimeId } = await seedInventory(repo);
    const { booking } = await holdDirect(repo, { showtimeId, seatIds: ["R1S7", "R1S8"] });
    await db("inventory_seats")
      .where({ showtime_id: showtimeId, seat_id: "R1S8" })
      .update({ status: "available", holder_id: null, booking_id: null, held_until: null }); // a manual edit
    expect(await repo.holds.confirm(booking.id)).toBe("hold_lost");
    expect((await seatRows(db, showtimeId)).get("R1S7")!.status).toBe("held");
    expect((await bookingRow(db, booking.id)).status).toBe("held");
    expect(await repo.holds.confirm(randomUUID())).toBe("hold_lost");
  });

  it("releaseHold: only this booking's held seats, final status set, payment_failed marks the payment failed; then a no-op", async () => {
    const { showtimeId } = await seedInventory(repo);
    const { booking } = await holdDirect(repo, { showtimeId, seatIds: ["R2S7", "R2S8"] });
    expect(await repo.holds.releaseHold(booking.id, "payment_failed")).toEqual({ changed: true, released: 2 });
    expect((await seatRows(db, showtimeId)).get("R2S7")).toMatchObject({ status: "available", holder_id: null, booking_id: null });
    expect(await bookingRow(db, booking.id)).toMatchObject({ status: "payment_failed", payment_status: "failed" });
    expect(await repo.holds.releaseHold(booking.id, "expired")).toEqual({ changed: false, released: 0 });
    expect((await bookingRow(db, booking.id)).status).toBe("payment_failed");
    expect(await repo.holds.releaseHold(randomUUID(), "expired")).toEqual({ changed: false, released: 0 });
  });

  it("releaseConfirmed: booked → available, booking cancelled, payment status kept; idempotent; a held booking is not touched", async () => {
    const { showtimeId } = await seedInventory(repo);
    const { booking } = await holdDirect(repo, { showtimeId, seatIds: ["R3S7", "R3S8"] });
    expect(await repo.holds.releaseConfirmed(booking.id)).toEqual({ changed: false, released: 0 });
    await repo.holds.confirm(booking.id);
    expect(await repo.holds.releaseConfirmed(booking.id)).toEqual({ changed: true, released: 2 });
    expect(await bookingRow(db, booking.id)).toMatchObject({ status: "cancelled", payment_status: "paid" });
    expect((await seatRows(db, showtimeId)).get("R3S8")!.status).toBe("available");
    expect(await repo.holds.releaseConfirmed(booking.id)).toEqual({ changed: false, released: 0 });
    expect(await repo.holds.setPaymentStatus(booking.id, "refunded")).toBe(true);
    expect(await repo.holds.setPaymentStatus(booking.id, "refunded")).toBe(false);
    expect((await bookingRow(db, booking.id)).payment_status).toBe("refunded");
  });

  it("reconcile: a confirmed booking gets its free seats back; an inactive booking's leftover seats are released", async () => {
    const { showtimeId } = await seedInventory(repo);
    const confirmed = await holdDirect(repo, { showtimeId, seatIds: ["R4S7", "R4S8"] });
    await repo.holds.confirm(confirmed.booking.id);
    const cancelled = await holdDirect(repo, { showtimeId, seatIds: ["R4S9"] });
    await repo.holds.releaseHold(cancelled.booking.id, "cancelled");
    // manual damage: a confirmed seat freed, a cancelled booking's seat held again in its name
    await db("inventory_seats").where({ showtime_id: showtimeId, seat_id: "R4S8" }).update({ status: "available", holder_id: null, booking_id: null });
    await db("inventory_seats")
      .where({ showtime_id: showtimeId, seat_id: "R4S9" })
      .update({ status: "held", holder_id: cancelled.booking.userId, booking_id: cancelled.booking.id, held_until: new Date(Date.now() + 600_000) });
    const ids = await repo.reconciliation.inconsistentBookings(100, 3600);
    expect(ids.sort()).toEqual([confirmed.booking.id, cancelled.booking.id].sort());
    expect(await repo.reconciliation.reconcileBooking(confirmed.booking.id)).toEqual({ fixed: ["R4S8"], conflicts: [] });
    expect(await repo.reconciliation.reconcileBooking(cancelled.booking.id)).toEqual({ fixed: ["R4S9"], conflicts: [] });
    const seats = await seatRows(db, showtimeId);
    expect(seats.get("R4S8")).toMatchObject({ status: "booked", booking_id: confirmed.booking.id });
    expect(seats.get("R4S9")!.status).toBe("available");
    expect(await repo.reconciliation.inconsistentBookings(100, 3600)).toEqual([]);
  });
});
