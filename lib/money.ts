/**
 * Money, the one module for it: the API speaks decimal major units (45.00) with an ISO 4217
 * currency; services store, sum and send integer minor units (4500). How many digits a
 * currency's minor unit has follows ISO 4217.
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

/**
 * Major units to integer minor units, exactly: undefined when `amount` has more decimals than
 * the currency (a price of 9.999 USD), or is not a finite number. For amounts a user typed.
 */
export function toMinorUnits(amount: number, currency: string): number | undefined {
  const scaled = amount * 10 ** minorDigits(currency);
  const rounded = Math.round(scaled);
  // binary doubles: 0.1 * 100 is 10.000000000000002, which is still exactly ten cents
  if (!Number.isFinite(scaled) || Math.abs(scaled - rounded) > 1e-6) return undefined;
  return rounded;
}

/**
 * Major units to integer minor units, rounded to the nearest: for amounts another service
 * computed from minor units and sent as major units. RangeError for a negative or non-finite one.
 */
export function roundToMinorUnits(amount: number, currency: string): number {
  const scaled = amount * 10 ** minorDigits(currency);
  if (!Number.isFinite(scaled) || scaled < 0) throw new RangeError(`not an amount: ${amount} ${currency}`);
  return Math.round(scaled);
}

/** Integer minor units to major units (4500 USD → 45). */
export function fromMinorUnits(minor: number, currency: string): number {
  return minor / 10 ** minorDigits(currency);
}

/** Integer minor units → "45.00 USD" (the digits the currency has), for messages. */
export function formatMoney(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  return `${(amountMinor / 10 ** digits).toFixed(digits)} ${currency}`;
}
