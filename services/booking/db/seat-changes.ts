import type { Knex } from "../../../lib/db.js";
import { INVENTORY_CHANNEL } from "./migrations.js";

/**
 * Seat-change notifications: every transaction that changes seats sends one NOTIFY on
 * INVENTORY_CHANNEL, committed with the change; the live seat maps (inventory-hub.ts) listen.
 */

/** One seat change notification; at most ~8000 bytes, else only the showtime (re-read all). */
export interface SeatChange {
  showtimeId: string;
  /** Undefined: too many to list, every seat may have changed. */
  seatIds?: string[];
}

/** Postgres refuses NOTIFY payloads of 8000 bytes or more; leave room. */
const MAX_NOTIFY_BYTES = 7900;

export function encodeChange(showtimeId: string, seatIds: readonly string[]): string {
  const full = JSON.stringify({ s: showtimeId, ids: seatIds });
  return Buffer.byteLength(full) <= MAX_NOTIFY_BYTES ? full : JSON.stringify({ s: showtimeId });
}

export function decodeChange(payload: string): SeatChange | undefined {
  try {
    const v = JSON.parse(payload) as { s?: unknown; ids?: unknown };
    if (typeof v.s !== "string") return undefined;
    const ids = Array.isArray(v.ids) && v.ids.every((x) => typeof x === "string") ? (v.ids as string[]) : undefined;
    return { showtimeId: v.s, seatIds: ids };
  } catch {
    return undefined;
  }
}

/** The notification of changed seats, run in the changing transaction. */
export function notifySeatChange(trx: Knex.Transaction, showtimeId: string, seatIds: readonly string[]) {
  return trx.raw(`SELECT pg_notify(?, ?)`, [INVENTORY_CHANNEL, encodeChange(showtimeId, seatIds)]);
}
