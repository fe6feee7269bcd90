/**
 * The live state of one showtime's seats in the browser: what the WatchInventory stream says
 * (available, held, booked, and whether a hold is the viewer's own), plus this page's selection
 * and keyboard focus. Each seat has its own subscribers, so a change re-renders only the seats it
 * touches: a 20,000-seat map keeps up with a stream of changes. Views are immutable objects, so
 * React's useSyncExternalStore sees a change by identity.
 */
import type { InventorySeat } from "../../../gen/ticketing/booking/v1/booking_pb";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { HallGeometry } from "./geometry";

export type SeatStatus = "available" | "held" | "booked";

export interface SeatView {
  status: SeatStatus;
  /** Held or booked by the viewer. */
  mine: boolean;
  selected: boolean;
  /** The seat that takes the keyboard focus in the map (roving tabindex). */
  focus: boolean;
  /** Shown to the holder and to admins only. */
  bookingId?: string;
  holderId?: string;
  heldUntilMs?: number;
}

export interface SeatCounts {
  available: number;
  held: number;
  booked: number;
}

const UNKNOWN: SeatView = { status: "booked", mine: false, selected: false, focus: false };

export class SeatStore {
  private views: SeatView[];
  private readonly seatListeners: Array<Set<() => void> | undefined>;
  private readonly subscribers: Array<((l: () => void) => () => void) | undefined>;
  private readonly listeners = new Set<() => void>();
  private selectedOrder: number[] = [];
  private focusIndex = 0;
  private summaryCache?: { counts: SeatCounts; selected: number[]; mine: number[] };
  /** Whether the first snapshot has arrived. */
  loaded = false;

  constructor(
    readonly geometry: HallGeometry,
    /** Holds and bookings of this user are the viewer's own ("mine"). */
    private readonly viewerId: string | undefined,
  ) {
    const n = geometry.seats.length;
    this.views = Array.from({ length: n }, (_, i) => ({ ...UNKNOWN, focus: i === 0 }));
    this.seatListeners = new Array(n);
    this.subscribers = new Array(n);
  }

  // ─── reading ───

  view = (index: number): SeatView => this.views[index] ?? UNKNOWN;

  /** A stable subscribe function per seat (useSyncExternalStore resubscribes when it changes). */
  subscriber(index: number): (listener: () => void) => () => void {
    let fn = this.subscribers[index];
    if (!fn) {
      fn = (listener) => {
        const set = (this.seatListeners[index] ??= new Set());
        set.add(listener);
        return () => set.delete(listener);
      };
      this.subscribers[index] = fn;
    }
    return fn;
  }

  /** Subscribes to any change (for counts, the selection and the viewer's holds). */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Counts, the selection (in the order picked) and the viewer's own held seats; cached per change. */
  summary = () => {
    if (!this.summaryCache) {
      const counts: SeatCounts = { available: 0, held: 0, booked: 0 };
      const mine: number[] = [];
      this.views.forEach((v, i) => {
        counts[v.status]++;
        if (v.mine && v.status === "held") mine.push(i);
      });
      this.summaryCache = { counts, selected: [...this.selectedOrder], mine };
    }
    return this.summaryCache;
  };

  // ─── the stream ───

  /** The whole map (the stream's first message, or a resend after a reconnect). */
  replaceAll(seats: readonly InventorySeat[]): void {
    const seen = new Set<number>();
    for (const s of seats) {
      const i = this.geometry.index.get(s.seatId);
      if (i === undefined) continue;
      seen.add(i);
      this.write(i, s);
    }
    // seats the inventory does not list cannot be booked
    for (let i = 0; i < this.views.length; i++) if (!seen.has(i)) this.put(i, { ...this.views[i], status: "booked", mine: false });
    if (!this.loaded) performance.mark("seat-map-data", { detail: { seats: this.views.length } });
    this.loaded = true;
    this.changed();
  }

  /** The seats one stream message changed; returns the ids of selected seats someone else took. */
  apply(seats: readonly InventorySeat[]): string[] {
    const lost: string[] = [];
    for (const s of seats) {
      const i = this.geometry.index.get(s.seatId);
      if (i === undefined) continue;
      if (this.write(i, s)) lost.push(s.seatId);
    }
    this.changed();
    return lost;
  }

  /** Writes one seat's state; true when it was selected and is no longer available. */
  private write(i: number, s: InventorySeat): boolean {
    const status = (s.status === "held" || s.status === "booked" ? s.status : "available") as SeatStatus;
    const prev = this.views[i];
    const mine = status !== "available" && this.viewerId !== undefined && s.holderId === this.viewerId;
    const heldUntilMs = s.heldUntil ? timestampMs(s.heldUntil) : undefined;
    // taken by someone else (the viewer's own hold of a selected seat is no loss: it is the hold
    // the viewer just made, which the stream may tell before ReserveSeats answers)
    const lost = prev.selected && status !== "available" && !mine;
    if (lost) this.selectedOrder = this.selectedOrder.filter((x) => x !== i);
    const next: SeatView = { status, mine, selected: prev.selected && !lost, focus: prev.focus, bookingId: s.bookingId, holderId: s.holderId, heldUntilMs };
    if (
      prev.status !== next.status ||
      prev.mine !== next.mine ||
      prev.selected !== next.selected ||
      prev.bookingId !== next.bookingId ||
      prev.holderId !== next.holderId ||
      prev.heldUntilMs !== next.heldUntilMs
    ) {
      this.put(i, next);
    }
    return lost;
  }

  // ─── the page ───

  /** Selects or unselects an available seat; "full" when `max` seats are already selected. */
  toggle(index: number, max: number): "selected" | "unselected" | "full" | "unavailable" {
    const v = this.views[index];
    if (v.selected) {
      this.selectedOrder = this.selectedOrder.filter((x) => x !== index);
      this.put(index, { ...v, selected: false });
      this.changed();
      return "unselected";
    }
    if (v.status !== "available") return "unavailable";
    if (this.selectedOrder.length >= max) return "full";
    this.selectedOrder = [...this.selectedOrder, index];
    this.put(index, { ...v, selected: true });
    this.changed();
    return "selected";
  }

  clearSelection(): void {
    for (const i of this.selectedOrder) this.put(i, { ...this.views[i], selected: false });
    this.selectedOrder = [];
    this.changed();
  }

  /** Moves the roving tabindex to `index`. */
  setFocus(index: number): void {
    if (index === this.focusIndex || !this.views[index]) return;
    const old = this.focusIndex;
    this.focusIndex = index;
    this.put(old, { ...this.views[old], focus: false });
    this.put(index, { ...this.views[index], focus: true });
  }

  private put(i: number, view: SeatView): void {
    this.views[i] = view;
    const set = this.seatListeners[i];
    if (set) for (const l of set) l();
  }

  private changed(): void {
    this.summaryCache = undefined;
    for (const l of this.listeners) l();
  }
}
