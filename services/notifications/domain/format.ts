import { createHash } from "node:crypto";

/**
 * Formatting for messages: show times, ticket references and masked recipients (money is
 * lib/money.ts).
 * Pure functions; the templates use them and the tests pin them.
 */

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
