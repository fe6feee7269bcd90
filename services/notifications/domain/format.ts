import { createHash } from "node:crypto";

/**
 * Formatting for messages: money, show times, ticket references and masked recipients.
 * Pure functions; the templates use them and the tests pin them.
 */

/** ISO 4217 currencies with no minor unit (JPY, KRW, ...). The same table as catalog's and booking's. */
const ZERO_DECIMAL = new Set([
  "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
]);
/** ISO 4217 currencies with three decimals (dinars, rials). */
const THREE_DECIMALS = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);

export function minorDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

/** Integer minor units → "45.00 USD" (the digits the currency has). */
export function formatMoney(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  return `${(amountMinor / 10 ** digits).toFixed(digits)} ${currency}`;
}

/** Decimal major units (as other services send them) → integer minor units. */
export function toMinorUnits(amount: number, currency: string): number {
  return Math.round(amount * 10 ** minorDigits(currency));
}

/** True when `tz` is an IANA time zone this runtime knows (e.g. "UTC", "Asia/Kolkata"). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** "Tue, Sep 9, 2025, 20:00 UTC": the show's start in `timeZone`, with the zone named. */
export function formatShowTime(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(at);
}

/** Crockford's base32: no I, L, O or U, so a reference read aloud or typed is unambiguous. */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The ticket reference of a confirmed booking: `TKT-` and ten characters derived from the booking
 * id (50 bits of its SHA-256, Crockford base32, in two groups of five), e.g. `TKT-7QH2M-K9D4X`.
 * Deterministic, so every message about the booking shows the same one; the booking id stays the
 * key (the reference is for people at the door, not for lookups).
 */
export function ticketReference(bookingId: string): string {
  const digest = createHash("sha256").update(bookingId.toLowerCase()).digest();
  let bits = 0n;
  for (let i = 0; i < 7; i++) bits = (bits << 8n) | BigInt(digest[i]);
  bits >>= 6n; // 56 → 50 bits
  let code = "";
  for (let i = 0; i < 10; i++) {
    code = CROCKFORD[Number(bits & 31n)] + code;
    bits >>= 5n;
  }
  return `TKT-${code.slice(0, 5)}-${code.slice(5)}`;
}

/** "a***@example.com": what the message log shows of an email address. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** "+1415***0123": what the message log shows of a phone number. */
export function maskPhone(phone: string): string {
  if (phone.length >= 10) return `${phone.slice(0, 5)}***${phone.slice(-4)}`;
  if (phone.length >= 5) return `${phone.slice(0, 2)}***${phone.slice(-2)}`;
  return "***";
}
