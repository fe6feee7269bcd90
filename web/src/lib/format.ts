/**
 * Display formatting in the browser's locale and time zone. Amounts arrive in major units with
 * an ISO 4217 currency (the contracts' money shape); they are only formatted here, never computed.
 */
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function formatMoney(amount: number, currency: string): string {
  let f = moneyFormats.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      return `${amount.toFixed(2)} ${currency}`;
    }
    moneyFormats.set(currency, f);
  }
  return f.format(amount);
}

const dateTime = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const dayOnly = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function toDate(t: Timestamp | Date | undefined): Date | undefined {
  if (!t) return undefined;
  return t instanceof Date ? t : timestampDate(t);
}

export function formatDateTime(t: Timestamp | Date | undefined): string {
  const d = toDate(t);
  return d ? dateTime.format(d) : "";
}

export function formatDay(t: Timestamp | Date | undefined): string {
  const d = toDate(t);
  return d ? dayOnly.format(d) : "";
}

export function formatTime(t: Timestamp | Date | undefined): string {
  const d = toDate(t);
  return d ? timeOnly.format(d) : "";
}

/** The local calendar day of a time, as YYYY-MM-DD (for grouping and date inputs). */
export function localDay(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function formatDistance(km: number | undefined): string {
  if (km === undefined) return "";
  return km < 1 ? `${Math.round(km * 1000)} m away` : `${km.toFixed(km < 10 ? 1 : 0)} km away`;
}

/** "9:05" for a number of seconds. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** "14:03:22": a time to the second (scans at the door). */
export function formatClock(t: Timestamp | Date | undefined): string {
  const d = toDate(t);
  return d ? clock.format(d) : "";
}
