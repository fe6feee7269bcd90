import { randomUUID } from "node:crypto";
import { decodeChange, encodeChange } from "../db/seat-changes.js";
import { UnpricedSeatError } from "../domain/errors.js";
import { fromMinorUnits, roundToMinorUnits, toMinorUnits } from "../../../lib/money.js";
import { holdAmountMinor } from "../domain/pricing.js";
import { checkSeatIds, maskSeat, nameIds, viewerOf, type SeatView } from "../domain/seats.js";

describe("seat ids", () => {
  it("finds duplicates (each once, in request order) and counts distinct ids against the limit", () => {
    expect(checkSeatIds(["A1", "A2", "A1", "B1", "A2", "A1"], 10)).toEqual({ duplicates: ["A1", "A2"], tooMany: undefined });
    expect(checkSeatIds(["A1", "A2", "A3"], 2)).toEqual({ duplicates: [], tooMany: { max: 2, got: 3 } });
  });

  it("names ids for messages, shortening long lists", () => {
    expect(nameIds(["A1", 'B"2'])).toBe('"A1", "B\\"2"');
    expect(nameIds(Array.from({ length: 25 }, (_, i) => `S${i}`), 3)).toBe('"S0", "S1", "S2" and 22 more');
  });
});

describe("masking", () => {
  const holder = randomUUID();
  const held: SeatView = { seatId: "A1", status: "held", holderId: holder, bookingId: randomUUID(), heldUntilMs: 1 };

  it("holder and booking ids only for the holder, admins and internal services; heldUntil for everyone", () => {
    expect(maskSeat(held, viewerOf({ kind: "user", userId: holder, role: "user", sessionId: "s" }))).toEqual(held);
    expect(maskSeat(held, viewerOf({ kind: "user", userId: randomUUID(), role: "admin", sessionId: "s" }))).toEqual(held);
    expect(maskSeat(held, viewerOf({ kind: "service", service: "search" }))).toEqual(held);
    expect(maskSeat(held, viewerOf({ kind: "user", userId: randomUUID(), role: "user", sessionId: "s" }))).toEqual({
      seatId: "A1",
      status: "held",
      heldUntilMs: 1,
    });
    expect(maskSeat(held, viewerOf({ kind: "anonymous" }))).toEqual({ seatId: "A1", status: "held", heldUntilMs: 1 });
  });
});

describe("money", () => {
  it("converts by the currency's minor digits", () => {
    expect(toMinorUnits(45, "USD")).toBe(4500);
    expect(toMinorUnits(0.1 + 0.2, "EUR")).toBe(30);
    expect(toMinorUnits(1500, "JPY")).toBe(1500);
    expect(toMinorUnits(1.234, "KWD")).toBe(1234);
    expect(fromMinorUnits(5750, "USD")).toBe(57.5);
    expect(toMinorUnits(45.004, "USD")).toBeUndefined(); // a user's amount must be exact
    expect(roundToMinorUnits(45.004, "USD")).toBe(4500); // another service's is rounded
    expect(() => roundToMinorUnits(-1, "USD")).toThrow(RangeError);
  });
});

describe("pricing", () => {
  const prices = { premium: 4500, standard: 2500 };

  it("a hold costs the sum of its seats' prices, each by its seat type", () => {
    const seats = [
      { seatId: "A1", seatType: "premium" },
      { seatId: "B1", seatType: "standard" },
      { seatId: "B2", seatType: "standard" },
    ];
    expect(holdAmountMinor(seats, prices)).toBe(4500 + 2500 + 2500);
    expect(holdAmountMinor([], prices)).toBe(0);
  });

  it("a seat whose type has no price fails the hold, naming the first such seat", () => {
    const seats = [
      { seatId: "A1", seatType: "premium" },
      { seatId: "C1", seatType: "box" },
      { seatId: "C2", seatType: "toString" }, // not a price, though every object has one
    ];
    const err = (() => {
      try {
        holdAmountMinor(seats, prices);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UnpricedSeatError);
    expect(err).toMatchObject({ seatId: "C1", seatType: "box" });
    expect(() => holdAmountMinor([{ seatId: "C2", seatType: "toString" }], prices)).toThrow(UnpricedSeatError);
  });
});

describe("seat change notifications", () => {
  it("carry the showtime and the seat ids, and only the showtime when they would pass Postgres' 8000-byte limit", () => {
    const showtimeId = randomUUID();
    expect(decodeChange(encodeChange(showtimeId, ["A1", "A2"]))).toEqual({ showtimeId, seatIds: ["A1", "A2"] });
    const many = Array.from({ length: 200 }, (_, i) => `${"X".repeat(60)}${i}`);
    const payload = encodeChange(showtimeId, many);
    expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    expect(decodeChange(payload)).toEqual({ showtimeId, seatIds: undefined }); // re-read everything
    expect(decodeChange("not json")).toBeUndefined();
  });
});
