import type { Caller } from "../../../lib/context.js";

export type SeatStatus = "available" | "held" | "booked";

/** One seat as served: a hold past heldUntil has already been turned into `available`. */
export interface SeatView {
  seatId: string;
  status: SeatStatus;
  holderId?: string;
  /** Epoch milliseconds; only while held. */
  heldUntilMs?: number;
  bookingId?: string;
}

/** Problems with the seat ids of a reservation, found before touching the database. */
export interface SeatIdProblems {
  duplicates: string[];
  tooMany?: { max: number; got: number };
}

/** Duplicate ids (each named once, in request order) and a count above `max`. */
export function checkSeatIds(seatIds: readonly string[], max: number): SeatIdProblems {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of seatIds) {
    if (seen.has(id)) duplicates.add(id);
    seen.add(id);
  }
  return {
    duplicates: [...duplicates],
    tooMany: seen.size > max ? { max, got: seen.size } : undefined,
  };
}

/** Lists ids for a message: `"A1", "A2"` and, past `limit`, "and N more". */
export function nameIds(ids: readonly string[], limit = 20): string {
  const shown = ids.slice(0, limit).map((id) => JSON.stringify(id)).join(", ");
  return ids.length > limit ? `${shown} and ${ids.length - limit} more` : shown;
}

/**
 * Who may see whose holder and booking ids: admins and internal services see all; a user sees
 * their own; anonymous callers see none.
 */
export interface Viewer {
  all: boolean;
  userId?: string;
}

export function viewerOf(caller: Caller): Viewer {
  if (caller.kind === "service") return { all: true };
  if (caller.kind === "user") return { all: caller.role === "admin", userId: caller.userId };
  return { all: false };
}

/** The seat as `viewer` may see it: holderId/bookingId only for the holder and privileged viewers. */
export function maskSeat(seat: SeatView, viewer: Viewer): SeatView {
  if (seat.status === "available" || viewer.all || (viewer.userId !== undefined && seat.holderId === viewer.userId)) {
    return seat;
  }
  return { seatId: seat.seatId, status: seat.status, heldUntilMs: seat.heldUntilMs };
}
