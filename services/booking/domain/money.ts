/**
 * Money: the API speaks decimal major units (45.00) with an ISO 4217 currency; the booking
 * service stores and sums integer minor units. The number of minor-unit digits follows ISO 4217
 * (the same table as the catalog's, which is where the prices come from).
 */

/** ISO 4217 currencies with no minor unit (JPY, KRW, ...). */
const ZERO_DECIMAL = new Set([
  "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
]);
/** ISO 4217 currencies with three decimals (dinars, rials). */
const THREE_DECIMALS = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);

/** Digits after the decimal point in `currency`'s major unit: 0, 2 or 3. */
export function minorDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

/** Major units to integer minor units, rounding away binary noise (0.1 * 100 = 10.000000000000002). */
export function toMinorUnits(amount: number, currency: string): number {
  const scaled = amount * 10 ** minorDigits(currency);
  if (!Number.isFinite(scaled) || scaled < 0) throw new RangeError(`not a price: ${amount} ${currency}`);
  return Math.round(scaled);
}

export function fromMinorUnits(minor: number, currency: string): number {
  return minor / 10 ** minorDigits(currency);
}
