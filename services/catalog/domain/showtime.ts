import { Code } from "@connectrpc/connect";
import { AppError, invalidArgument } from "../../../lib/errors.js";
import { isKnownCurrency, minorDigits, toMinorUnits } from "../../../lib/money.js";

/** Used for the hall-overlap check when an event's running time is unknown (0). */
export const DEFAULT_DURATION_MINUTES = 120;

export interface StoredPrice {
  seatType: string;
  /** Integer minor units of the showtime's currency. */
  amountMinor: number;
}

/** When a showtime ends: its start plus the event's running time (or the default). */
export function endsAt(startsAt: Date, durationMinutes: number): Date {
  return new Date(startsAt.getTime() + (durationMinutes > 0 ? durationMinutes : DEFAULT_DURATION_MINUTES) * 60_000);
}

/** A showtime must start in the future. */
export function checkStartsInFuture(startsAt: Date, now: Date, field = "timestamp"): void {
  if (!(startsAt.getTime() > now.getTime())) {
    throw invalidArgument(field, `must be in the future (got ${startsAt.toISOString()}, now is ${now.toISOString()})`);
  }
}

export function checkCurrency(currency: string, field = "currency"): string {
  if (!/^[A-Z]{3}$/.test(currency)) throw invalidArgument(field, "must be an ISO 4217 code such as USD");
  if (!isKnownCurrency(currency)) throw invalidArgument(field, `unknown ISO 4217 currency ${JSON.stringify(currency)}`);
  return currency;
}

/**
 * Every seat type of the hall must have exactly one price, and every price must be for a seat
 * type the hall has; amounts become integer minor units (more decimals than the currency has are
 * refused). Returns the prices in the hall's seat-type order.
 */
export function priceSeatTypes(
  prices: ReadonlyArray<{ seatType: string; amount: number }>,
  hallSeatTypes: readonly string[],
  currency: string,
): StoredPrice[] {
  const problems: string[] = [];
  const byType = new Map<string, number>();
  const hallTypes = new Set(hallSeatTypes);
  prices.forEach((p, i) => {
    const seatType = p.seatType.trim();
    if (byType.has(seatType)) {
      problems.push(`prices[${i}].seatType: seat type ${JSON.stringify(seatType)} is priced twice`);
      return;
    }
    if (!hallTypes.has(seatType)) {
      problems.push(
        `prices[${i}].seatType: the hall has no seats of type ${JSON.stringify(seatType)} (its seat types: ${hallSeatTypes.join(", ")})`,
      );
      return;
    }
    if (!Number.isFinite(p.amount) || p.amount < 0) {
      problems.push(`prices[${i}].amount: must be a non-negative number`);
      return;
    }
    const minor = toMinorUnits(p.amount, currency);
    if (minor === undefined) {
      problems.push(`prices[${i}].amount: ${currency} has ${minorDigits(currency)} decimal places, got ${p.amount}`);
      return;
    }
    byType.set(seatType, minor);
  });
  const missing = hallSeatTypes.filter((t) => !byType.has(t) && !prices.some((p) => p.seatType.trim() === t));
  for (const t of missing) problems.push(`prices: seat type ${JSON.stringify(t)} of the hall has no price`);
  if (problems.length) throw new AppError(Code.InvalidArgument, problems.join("; "));
  return hallSeatTypes.map((seatType) => ({ seatType, amountMinor: byType.get(seatType) as number }));
}
