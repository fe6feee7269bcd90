import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { SeatsRejectedSchema } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { bookingRow, codeOf, errorOf, seatRows, seedInventory, startBooking, type BookingHarness } from "./harness.js";

/**
 * ReserveBestSeats, UpdateSeatingPolicy and the orphan-seat rule of ReserveSeats over the real
 * transport (Connect), with the service's validation, access levels and error mapping.
 */

let h: BookingHarness;
beforeAll(async () => {
  h = await startBooking("best-rpc", { limits: { maxSeatsPerHold: 6, maxHeldSeatsPerUser: 8 } });
});
afterAll(async () => {
  await h?.close();
});

describe("ReserveBestSeats", () => {
  it("holds the best adjacent seats for the caller and answers like ReserveSeats", async () => {
    const { showtimeId } = await seedInventory(h.repo, { rows: 4, perRow: 10, premiumRows: 1, avoidSingleSeats: true });
    const user = await h.user();
    const res = await h.client.reserveBestSeats({ showtimeId, quantity: 2 }, user);
    // row 1 is nearest the stage; its middle seats are the best
    expect(res.seatIds).toEqual(["R1S5", "R1S6"]);
    expect(res).toMatchObject({ showtimeId, status: "held", finalAmount: 90, currency: "USD" });
    expect(await bookingRow(h.db, res.bookingId)).toMatchObject({ user_id: user.userId, status: "held" });
    const seats = await seatRows(h.db, showtimeId);
    expect(seats.get("R1S5")).toMatchObject({ status: "held", holder_id: user.userId, booking_id: res.bookingId });

    const standard = await h.client.reserveBestSeats({ showtimeId, quantity: 3, seatTypes: ["standard"] }, await h.user());
    expect(standard.seatIds.every((id) => id.startsWith("R2S"))).toBe(true);
  });

  it("400 for a quantity above the service's limit or out of range; 404 for an unknown showtime; 409 when not enough seats", async () => {
    const { showtimeId } = await seedInventory(h.repo, { rows: 1, perRow: 4 });
    const user = await h.user();
    const tooMany = await errorOf(h.client.reserveBestSeats({ showtimeId, quantity: 7 }, user));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.rawMessage).toMatch(/^quantity: at most 6/);
    expect(await codeOf(h.client.reserveBestSeats({ showtimeId, quantity: 0 }, user))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.client.reserveBestSeats({ showtimeId: randomUUID(), quantity: 1 }, user))).toBe(Code.NotFound);
    await h.client.reserveBestSeats({ showtimeId, quantity: 3 }, user);
    const none = await errorOf(h.client.reserveBestSeats({ showtimeId, quantity: 2 }, await h.user()));
    expect(none.code).toBe(Code.Aborted);
    expect(none.rawMessage).toMatch(/^quantity: fewer than 2 seats/);
    expect(await codeOf(h.client.reserveBestSeats({ showtimeId, quantity: 1 }))).toBe(Code.Unauthenticated);
    // the per-user cap (8 here) answers in the request's own terms
    const big = await seedInventory(h.repo, { rows: 2, perRow: 10 });
    const capped = await h.user();
    await h.client.reserveBestSeats({ showtimeId: big.showtimeId, quantity: 6 }, capped);
    const cap = await errorOf(h.client.reserveBestSeats({ showtimeId: big.showtimeId, quantity: 3 }, capped));
    expect(cap.code).toBe(Code.ResourceExhausted);
    expect(cap.rawMessage).toMatch(/^quantity: you already hold 6 seat/);
  });
});

describe("the orphan-seat rule of ReserveSeats", () => {
  it("409 `would leave a single seat` naming the seat; an admin switches the rule off and GetInventory shows it", async () => {
    const { showtimeId } = await seedInventory(h.repo, { rows: 2, perRow: 8, avoidSingleSeats: true });
    const user = await h.user();
    expect((await h.client.getInventory({ showtimeId })).avoidSingleSeats).toBe(true);
    const err = await errorOf(h.client.reserveSeats({ showtimeId, seatIds: ["R1S2", "R1S3"] }, user));
    expect(err.code).toBe(Code.Aborted);
    expect(err.rawMessage).toMatch(/^seatIds: would leave a single seat \("R1S1"/);
    expect(err.findDetails(SeatsRejectedSchema)[0]).toMatchObject({ showtimeId, reason: "single_seat", seatIds: ["R1S1"] });

    expect(await codeOf(h.client.updateSeatingPolicy({ showtimeId, avoidSingleSeats: false }, user))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.client.updateSeatingPolicy({ showtimeId: randomUUID(), avoidSingleSeats: false }, h.admin))).toBe(Code.NotFound);
    expect(await h.client.updateSeatingPolicy({ showtimeId, avoidSingleSeats: false }, h.admin)).toMatchObject({ showtimeId, avoidSingleSeats: false });
    expect((await h.client.getInventory({ showtimeId })).avoidSingleSeats).toBe(false);
    const held = await h.client.reserveSeats({ showtimeId, seatIds: ["R1S2", "R1S3"] }, user);
    expect(held.seatIds).toEqual(["R1S2", "R1S3"]);

    await h.client.updateSeatingPolicy({ showtimeId, avoidSingleSeats: true }, h.admin);
    expect(await codeOf(h.client.reserveSeats({ showtimeId, seatIds: ["R2S2"] }, await h.user()))).toBe(Code.Aborted);
  });
});
