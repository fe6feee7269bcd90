import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { SeatsRejectedSchema } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { AppError } from "../../../lib/errors.js";
import { HoldLimitError, InventoryMissingError, SeatsTakenError, ShowStartedError, UnknownSeatsError, UnpricedSeatError } from "../domain/errors.js";
import { mapBookingError } from "../errors.js";
import { HubClosedError, SubscriberTooSlowError } from "../inventory-hub.js";

/**
 * The booking service's one error mapper: every domain error as the API error the contract
 * promises (code, message, SeatsRejected detail). The RPC suites check these end to end for the
 * common cases; here every case, including the stream's, by the exact message.
 */
function mapped(err: unknown): { code: Code; message: string; details: unknown[] } {
  const e = mapBookingError(err);
  if (!(e instanceof AppError)) throw new Error(`not mapped to an AppError: ${String(err)}`);
  return { code: e.code, message: e.message, details: e.details.map((d) => ({ desc: d.desc.typeName, ...d.value })) };
}

const showtimeId = randomUUID();
const rejected = (reason: string, seatIds: string[]) => [{ desc: SeatsRejectedSchema.typeName, showtimeId, reason, seatIds }];

describe("mapBookingError", () => {
  it("a showtime without inventory is 404, naming the request's field when a hold named it", () => {
    expect(mapped(new InventoryMissingError(showtimeId))).toEqual({
      code: Code.NotFound,
      message: `showtime ${showtimeId} has no seat inventory (unknown, or not initialised yet)`,
      details: [],
    });
    expect(mapped(new InventoryMissingError(showtimeId, "showtimeId")).message).toBe(
      `showtimeId: showtime ${showtimeId} has no seat inventory (unknown, or not initialised yet)`,
    );
  });

  it("hold refusals", () => {
    const startsAt = new Date("2026-01-02T20:00:00.000Z");
    expect(mapped(new ShowStartedError(startsAt))).toEqual({
      code: Code.FailedPrecondition,
      message: "showtimeId: the showtime started at 2026-01-02T20:00:00.000Z; its seats can no longer be held",
      details: [],
    });
    expect(mapped(new UnknownSeatsError(showtimeId, ["Z9"]))).toEqual({
      code: Code.InvalidArgument,
      message: `seatIds: "Z9" is not a seat of this showtime's hall`,
      details: rejected("unknown", ["Z9"]),
    });
    expect(mapped(new UnknownSeatsError(showtimeId, ["Z9", "Q1"])).message).toBe(`seatIds: "Z9", "Q1" are not seats of this showtime's hall`);
    expect(mapped(new SeatsTakenError(showtimeId, ["A1"]))).toEqual({
      code: Code.Aborted,
      message: `seatIds: "A1" is no longer available (held or booked by someone else); nothing was held`,
      details: rejected("unavailable", ["A1"]),
    });
    expect(mapped(new SeatsTakenError(showtimeId, ["A1", "A2"])).message).toBe(
      `seatIds: "A1", "A2" are no longer available (held or booked by someone else); nothing was held`,
    );
    expect(mapped(new HoldLimitError(4, 3, 6))).toEqual({
      code: Code.ResourceExhausted,
      message: "seatIds: you already hold 4 seat(s) of this showtime; with 3 more that would exceed the limit of 6 seats held at once",
      details: [],
    });
    expect(mapped(new UnpricedSeatError("B1", "box"))).toEqual({
      code: Code.FailedPrecondition,
      message: `seatIds: seat "B1" (box) has no price at this showtime`,
      details: [],
    });
  });

  it("the live seat map's refusals keep their own messages", () => {
    expect(mapped(new SubscriberTooSlowError("too slow; reconnect"))).toEqual({ code: Code.ResourceExhausted, message: "too slow; reconnect", details: [] });
    expect(mapped(new HubClosedError("shutting down"))).toEqual({ code: Code.Unavailable, message: "shutting down", details: [] });
  });

  it("leaves everything else alone (API errors pass as they are; the unexpected becomes Internal, logged, elsewhere)", () => {
    expect(mapBookingError(new Error("boom"))).toBeUndefined();
    expect(mapBookingError(new AppError(Code.NotFound, "booking x not found"))).toBeUndefined();
    expect(mapBookingError("a string")).toBeUndefined();
  });
});
