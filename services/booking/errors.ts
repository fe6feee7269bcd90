import { Code } from "@connectrpc/connect";
import { SeatsRejectedSchema } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { AppError, conflict, failedPrecondition, resourceExhausted, type DomainErrorMapper, type ErrorDetail } from "../../lib/errors.js";
import {
  HoldLimitError,
  InventoryMissingError,
  NoGeometryError,
  NotEnoughSeatsError,
  SeatsContendedError,
  SeatsTakenError,
  SingleSeatError,
  ShowStartedError,
  UnknownSeatsError,
  UnpricedSeatError,
} from "./domain/errors.js";
import { nameIds } from "./domain/seats.js";
import { HubClosedError, SubscriberTooSlowError } from "./inventory-hub.js";

/** The SeatsRejected detail of a refused hold: which seats of which showtime, and why. */
export function seatsRejected(
  showtimeId: string,
  reason: "duplicate" | "unknown" | "unavailable" | "single_seat",
  seatIds: string[],
): ErrorDetail[] {
  return [{ desc: SeatsRejectedSchema, value: { showtimeId, reason, seatIds } }];
}

const are = (ids: readonly string[], one: string, many: string) => (ids.length === 1 ? one : many);

/**
 * The booking service's domain errors as the API errors its contract promises: given to
 * startServer as `mapError`, so unary handlers and the WatchInventory stream alike just throw
 * them. Anything else passes on unchanged (an AppError as it is; the unexpected becomes
 * Internal, logged).
 */
export const mapBookingError: DomainErrorMapper = (err) => {
  if (err instanceof InventoryMissingError) {
    const message = `showtime ${err.showtimeId} has no seat inventory (unknown, or not initialised yet)`;
    return new AppError(Code.NotFound, err.field ? `${err.field}: ${message}` : message);
  }
  if (err instanceof ShowStartedError) {
    return failedPrecondition(`showtimeId: the showtime started at ${err.startsAt.toISOString()}; its seats can no longer be held`);
  }
  if (err instanceof UnknownSeatsError) {
    return new AppError(
      Code.InvalidArgument,
      `seatIds: ${nameIds(err.seatIds)} ${are(err.seatIds, "is not a seat", "are not seats")} of this showtime's hall`,
      seatsRejected(err.showtimeId, "unknown", err.seatIds),
    );
  }
  if (err instanceof SeatsTakenError) {
    return conflict(
      `seatIds: ${nameIds(err.seatIds)} ${are(err.seatIds, "is", "are")} no longer available (held or booked by someone else); nothing was held`,
      seatsRejected(err.showtimeId, "unavailable", err.seatIds),
    );
  }
  if (err instanceof SingleSeatError) {
    return conflict(
      `seatIds: would leave a single seat (${nameIds(err.seatIds)} alone between taken seats or at a row's edge); ` +
        "choose seats next to each other without a one-seat gap, or the seats at the gap too; nothing was held",
      seatsRejected(err.showtimeId, "single_seat", err.seatIds),
    );
  }
  if (err instanceof NotEnoughSeatsError) {
    return conflict(`quantity: fewer than ${err.quantity} seats are available that match the request; nothing was held`);
  }
  if (err instanceof SeatsContendedError) {
    return conflict("the best seats were taken by other buyers while we picked them; nothing was held, try again");
  }
  if (err instanceof NoGeometryError) {
    return new AppError(Code.Unavailable, `showtimeId: the seat layout of showtime ${err.showtimeId} is not ready for best-available seating; try again`);
  }
  if (err instanceof HoldLimitError) {
    return resourceExhausted(
      `${err.field}: you already hold ${err.alreadyHeld} seat(s) of this showtime; with ${err.requested} more that would exceed ` +
        `the limit of ${err.max} seats held at once`,
    );
  }
  if (err instanceof UnpricedSeatError) {
    return failedPrecondition(`seatIds: seat ${JSON.stringify(err.seatId)} (${err.seatType}) has no price at this showtime`);
  }
  if (err instanceof SubscriberTooSlowError) return new AppError(Code.ResourceExhausted, err.message);
  if (err instanceof HubClosedError) return new AppError(Code.Unavailable, err.message);
  return undefined;
};
