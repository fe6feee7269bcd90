/**
 * Money: the API speaks decimal major units (45.00) with an ISO 4217 currency; the catalog
 * stores integer minor units. The number of minor-unit digits follows ISO 4217.
 */

/** ISO 4217 currencies with no minor unit (JPY, KRW, ...). */
const ZERO_DECIMAL = new Set([
  "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
]);
/** ISO 4217 currencies with three decimals (dinars, rials). */
const THREE_DECIMALS = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);

let known: Set<string> | undefined;

/** Whether `code` is an ISO 4217 currency this runtime knows (ICU's list). */
export function isKnownCurrency(code: string): boolean {
  known ??= new Set(Intl.supportedValuesOf("currency"));
  return known.has(code);
}

/** Digits after the decimal point in `currency`'s major unit: 0, 2 or 3. */
export function minorDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

/** Major units to integer minor units; undefined when `amount` has more decimals than the currency. */
export function toMinorUnits(amount: number, currency: string): number | undefined {
  const scaled = amount * 10 ** minorDigits(currency);
  const rounded = Math.round(scaled);
  // binary doubles: 0.1 * 100 is 10.000000000000002, which is still exactly ten cents
  if (!Number.isFinite(scaled) || Math.abs(scaled - rounded) > 1e-6) return undefined;
  return rounded;
}

export function fromMinorUnits(minor: number, currency: string): number {
  return minor / 10 ** minorDigits(currency);
}
