import { UnpricedSeatError } from "./errors.js";

/** A seat of a hold and its type (what its price depends on). */
export interface SeatOfType {
  seatId: string;
  seatType: string;
}

/**
 * What a hold costs, in integer minor units of the showtime's currency: the sum of its seats'
 * prices, each seat priced by its type (`prices`: minor units per seat type, the showtime's).
 * A seat whose type has no price fails the hold (UnpricedSeatError naming the first such seat,
 * in the order given): nothing is ever held for free by accident.
 */
export function holdAmountMinor(seats: readonly SeatOfType[], prices: Readonly<Record<string, number>>): number {
  let amountMinor = 0;
  for (const { seatId, seatType } of seats) {
    const price = prices[seatType];
    if (typeof price !== "number") throw new UnpricedSeatError(seatId, seatType);
    amountMinor += price;
  }
  return amountMinor;
}
