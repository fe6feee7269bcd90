/**
 * The waiting room's pure rules: what a buyer's place reads as (status, buyers ahead, estimated
 * wait, end of the admission window) from the room and the entry, at a given time.
 */

export type RoomState = "scheduled" | "open" | "closed";

export interface Room {
  showtimeId: string;
  enabled: boolean;
  onSaleAt: Date;
  showtimeStartsAt: Date;
  ratePerMinute: number;
  maxActiveBuyers: number;
  windowSeconds: number;
  state: RoomState;
  servingNumber: number;
  lastPosition: number;
  generation: number;
  /** When the serving number last moved. */
  advancedAt: Date | null;
}

export interface Entry {
  showtimeId: string;
  userId: string;
  joinedAt: Date;
  /** null in the pre-queue. */
  position: number | null;
  admittedAt: Date | null;
}

export type EntryStatus = "prequeue" | "waiting" | "admitted" | "lapsed" | "closed";

export interface EntryView {
  status: EntryStatus;
  position: number;
  ahead: number;
  estimatedWaitSeconds: number;
  /** End of the admission window, when admitted or lapsed. */
  admissionExpiresAt?: Date;
}

/** What a room reads as: switched off reads as closed whatever the workflow has got to. */
export function effectiveState(room: Room): RoomState {
  return room.enabled ? room.state : "closed";
}

/**
 * Seconds until `places` more positions are served: from the rate, or for a room that admits
 * by a cap, assuming each admitted buyer uses their whole window (a conservative pace).
 */
export function secondsFor(room: Pick<Room, "ratePerMinute" | "maxActiveBuyers" | "windowSeconds">, places: number): number {
  if (places <= 0) return 0;
  if (room.ratePerMinute > 0) return Math.ceil((places * 60) / room.ratePerMinute);
  if (room.maxActiveBuyers > 0) return Math.ceil((places * room.windowSeconds) / room.maxActiveBuyers);
  return 0;
}

const clampInt32 = (n: number) => Math.min(Math.max(0, n), 2_147_483_647);

export function viewEntry(room: Room, entry: Entry, now: Date): EntryView {
  const position = entry.position ?? 0;
  const untilOnSale = Math.max(0, Math.ceil((room.onSaleAt.getTime() - now.getTime()) / 1000));
  if (effectiveState(room) === "closed") return { status: "closed", position, ahead: 0, estimatedWaitSeconds: 0 };
  if (entry.position === null) return { status: "prequeue", position: 0, ahead: 0, estimatedWaitSeconds: clampInt32(untilOnSale) };
  if (entry.position <= room.servingNumber) {
    const admittedAt = entry.admittedAt ?? room.advancedAt ?? now;
    const admissionExpiresAt = new Date(admittedAt.getTime() + room.windowSeconds * 1000);
    const status = now < admissionExpiresAt ? "admitted" : "lapsed";
    return { status, position, ahead: 0, estimatedWaitSeconds: 0, admissionExpiresAt };
  }
  const places = entry.position - room.servingNumber;
  const wait = (room.state === "scheduled" ? untilOnSale : 0) + secondsFor(room, places);
  return { status: "waiting", position, ahead: places - 1, estimatedWaitSeconds: clampInt32(wait) };
}

/** A random 63-bit shuffle key (the pre-queue's order at the on-sale time). */
export function shuffleKey(random: (n: number) => Buffer): string {
  return random(8).readBigInt64BE().toString();
}
