/**
 * Typed refusals of the booking domain, thrown by the repositories and the live seat maps; the
 * service's one error mapper (errors.ts, mapBookingError) turns them into API errors.
 */

/**
 * The showtime has no inventory (yet): unknown, or its initialisation has not run. `field` is the
 * request field that named the showtime when the request was about something else (a hold names
 * its showtime in `showtimeId`); unset when the showtime's inventory is what was asked for.
 */
export class InventoryMissingError extends Error {
  constructor(
    readonly showtimeId: string,
    readonly field?: string,
  ) {
    super(`no inventory for showtime ${showtimeId}`);
  }
}

export class ShowStartedError extends Error {
  constructor(readonly startsAt: Date) {
    super(`the showtime started at ${startsAt.toISOString()}`);
  }
}

/** Seat ids that are not seats of the showtime's hall, in request order. */
export class UnknownSeatsError extends Error {
  constructor(
    readonly showtimeId: string,
    readonly seatIds: string[],
  ) {
    super(`unknown seats ${seatIds.join(", ")}`);
  }
}

/** Seats that are held (unexpired) or booked by someone, in request order. */
export class SeatsTakenError extends Error {
  constructor(
    readonly showtimeId: string,
    readonly seatIds: string[],
  ) {
    super(`seats not available ${seatIds.join(", ")}`);
  }
}

/** The user would hold more seats of the showtime at once than allowed. */
export class HoldLimitError extends Error {
  constructor(
    readonly alreadyHeld: number,
    readonly requested: number,
    readonly max: number,
    /** The request field that asked for the seats. */
    readonly field: "seatIds" | "quantity" = "seatIds",
  ) {
    super(`holds ${alreadyHeld} seats, asks for ${requested}, at most ${max}`);
  }
}

/** A seat type of the hall without a price at this showtime (the catalog refuses to create one). */
export class UnpricedSeatError extends Error {
  constructor(readonly seatId: string, readonly seatType: string) {
    super(`seat ${seatId} of type ${seatType} has no price`);
  }
}

/**
 * A manual selection would strand single empty seats (`seatIds`, in place order) in a row that
 * had another choice (domain/best-seats.ts), and the showtime's orphan-seat rule is on.
 */
export class SingleSeatError extends Error {
  constructor(
    readonly showtimeId: string,
    readonly seatIds: string[],
  ) {
    super(`would leave a single seat: ${seatIds.join(", ")}`);
  }
}

/** Best available found fewer than `quantity` eligible seats. */
export class NotEnoughSeatsError extends Error {
  constructor(
    readonly showtimeId: string,
    readonly quantity: number,
  ) {
    super(`not enough available seats for ${quantity}`);
  }
}

/** Best available lost every seat it picked to concurrent holds, `attempts` times. */
export class SeatsContendedError extends Error {
  constructor(readonly attempts: number) {
    super(`the picked seats were taken ${attempts} times`);
  }
}

/** The showtime's seats have no geometry (an old inventory) and none could be computed. */
export class NoGeometryError extends Error {
  constructor(readonly showtimeId: string) {
    super(`showtime ${showtimeId} has no seat geometry`);
  }
}
