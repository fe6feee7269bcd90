import { PgListenConnection } from "../../lib/pg-listen.js";
import type { Logger } from "../../lib/logger.js";
import type { InventoryRepo } from "./db/inventory-repo.js";
import { INVENTORY_CHANNEL } from "./db/migrations.js";
import { decodeChange } from "./db/seat-changes.js";
import { InventoryMissingError } from "./domain/errors.js";
import { maskSeat, type SeatView, type Viewer } from "./domain/seats.js";

/** One message of a seat-map stream: the whole map first, then the seats that changed. */
export interface WatchMessage {
  snapshot: boolean;
  lastUpdatedMs: number;
  seats: SeatView[];
}

export class SubscriberTooSlowError extends Error {}
/** The hub cannot serve streams: shutting down, or the database cannot be listened to. */
export class HubClosedError extends Error {}

export interface InventoryHubOptions {
  /** A connection string for the one LISTEN connection of this process. */
  databaseUrl: string;
  inventory: InventoryRepo;
  logger: Logger;
  /** A subscriber that lets this many messages pile up is dropped. */
  maxQueue?: number;
  /** Added to a hold's end before the expiry re-read, for clock skew between us and Postgres. */
  expiryMarginMs?: number;
}

/** One stream's queue. */
export class Subscription {
  private queue: WatchMessage[] = [];
  private wake?: () => void;
  private failure?: Error;
  private done = false;
  ready = false;

  constructor(
    readonly viewer: Viewer,
    private readonly maxQueue: number,
    private readonly onClose: (s: Subscription) => void,
  ) {}

  push(msg: WatchMessage): void {
    if (this.done) return;
    if (this.queue.length >= this.maxQueue) {
      this.fail(new SubscriberTooSlowError("the client reads the seat map too slowly; reconnect"));
      return;
    }
    this.queue.push(msg);
    this.wake?.();
  }

  fail(err: Error): void {
    if (this.done) return;
    this.failure = err;
    this.close();
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.wake?.();
    this.onClose(this);
  }

  /**
   * The messages until the stream is closed; throws what failed it. When `signal` aborts (the
   * client went away) it ends at once: what is still queued is dropped, not written to a
   * response that no longer exists.
   */
  async *messages(signal?: AbortSignal): AsyncGenerator<WatchMessage> {
    if (signal?.aborted) this.close();
    const onAbort = () => this.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) return;
        const next = this.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.done) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.close();
    }
  }
}

/** Everything this process knows and does for one watched showtime. */
class Feed {
  readonly subs = new Set<Subscription>();
  /** Seats held as far as we know, with the end of their hold (epoch ms). */
  held = new Map<string, number>();
  timer?: NodeJS.Timeout;
  timerAt = Infinity;
  /** Reads and pushes happen one after the other, so a later read never loses to an earlier one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly showtimeId: string) {}

  run(task: () => Promise<void>, onError: (err: unknown) => void): void {
    this.chain = this.chain.then(task).catch(onError);
  }
}

/**
 * Live seat maps for WatchInventory, across processes: every transaction that changes seats
 * sends `NOTIFY booking_inventory` with the showtime and the seat ids (db/seat-changes.ts), committed
 * with the change. Each process keeps ONE listening connection and fans notifications out to
 * its subscribers: per notification it re-reads the changed seats once (so every stream gets the
 * committed truth) and masks them per subscriber. A hold running out writes nothing, so each
 * watched showtime also has one timer at its earliest heldUntil that re-reads the seats whose
 * hold ended and pushes them (as available, unless they changed meanwhile).
 *
 * After a lost LISTEN connection (notifications may have been missed) every subscriber gets a
 * fresh snapshot once it is back.
 */
export class InventoryHub {
  private readonly connection: PgListenConnection;
  private readonly feeds = new Map<string, Feed>();
  private closed = false;
  private readonly maxQueue: number;
  private readonly marginMs: number;

  constructor(private readonly opts: InventoryHubOptions) {
    this.maxQueue = opts.maxQueue ?? 1_000;
    this.marginMs = opts.expiryMarginMs ?? 20;
    this.connection = new PgListenConnection({ databaseUrl: opts.databaseUrl, channel: INVENTORY_CHANNEL, logger: opts.logger });
    this.connection.on("notification", (payload) => this.onNotification(payload));
    // back after a loss (we may have missed changes): resend every map
    this.connection.on("live", () => {
      for (const feed of this.feeds.values()) this.refreshAll(feed);
    });
  }

  /** Number of showtimes watched in this process (for tests and metrics). */
  get watchedShowtimes(): number {
    return this.feeds.size;
  }

  /**
   * Subscribes `viewer` to a showtime's seat map. The first message is the whole map; the
   * stream fails with InventoryMissingError when the showtime has no inventory.
   */
  async subscribe(showtimeId: string, viewer: Viewer): Promise<Subscription> {
    if (this.closed) throw new HubClosedError("the service is shutting down");
    // listening before the snapshot is read: no change can fall in between
    await this.connection.listen().catch((err: unknown) => {
      this.opts.logger.warn({ err }, "cannot LISTEN for seat changes");
      throw new HubClosedError("live seat maps are unavailable right now; try again");
    });
    let feed = this.feeds.get(showtimeId);
    if (!feed) {
      feed = new Feed(showtimeId);
      this.feeds.set(showtimeId, feed);
    }
    const f = feed;
    const sub = new Subscription(viewer, this.maxQueue, (s) => this.unsubscribe(f, s));
    f.subs.add(sub);
    f.run(
      async () => {
        const map = await this.opts.inventory.seatMap(showtimeId);
        if (!map) {
          sub.fail(new InventoryMissingError(showtimeId));
          return;
        }
        this.rememberHolds(f, map.seats, true);
        sub.push({ snapshot: true, lastUpdatedMs: map.lastUpdatedMs, seats: map.seats.map((s) => maskSeat(s, viewer)) });
        sub.ready = true;
      },
      (err) => sub.fail(err instanceof Error ? err : new Error(String(err))),
    );
    return sub;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const feed of this.feeds.values()) {
      clearTimeout(feed.timer);
      for (const sub of feed.subs) sub.close();
    }
    this.feeds.clear();
    await this.connection.close();
  }

  private onNotification(payload: string): void {
    const change = decodeChange(payload);
    if (!change) return;
    const feed = this.feeds.get(change.showtimeId);
    if (!feed) return; // nobody here watches that showtime
    if (change.seatIds) this.refreshSeats(feed, change.seatIds);
    else this.refreshAll(feed);
  }

  // ─── per showtime ───

  private unsubscribe(feed: Feed, sub: Subscription): void {
    feed.subs.delete(sub);
    this.opts.logger.debug({ showtimeId: feed.showtimeId, watchers: feed.subs.size }, "seat map watcher left");
    if (feed.subs.size === 0 && this.feeds.get(feed.showtimeId) === feed) {
      clearTimeout(feed.timer);
      feed.timer = undefined;
      this.feeds.delete(feed.showtimeId);
    }
  }

  private fail(feed: Feed) {
    return (err: unknown) => {
      this.opts.logger.error({ err, showtimeId: feed.showtimeId }, "live seat map update failed; subscribers must reconnect");
      for (const sub of feed.subs) sub.fail(new Error("live seat map interrupted; reconnect"));
    };
  }

  /** Re-reads some seats and pushes them to every subscriber that has its snapshot. */
  private refreshSeats(feed: Feed, seatIds: readonly string[]): void {
    feed.run(async () => {
      if (feed.subs.size === 0) return;
      const { seats, lastUpdatedMs } = await this.opts.inventory.seatsWithTime(feed.showtimeId, seatIds);
      for (const id of seatIds) feed.held.delete(id);
      this.rememberHolds(feed, seats, false);
      if (seats.length) this.broadcast(feed, { snapshot: false, lastUpdatedMs, seats });
    }, this.fail(feed));
  }

  /** Re-reads the whole map and sends it as a new snapshot. */
  private refreshAll(feed: Feed): void {
    feed.run(async () => {
      if (feed.subs.size === 0) return;
      const map = await this.opts.inventory.seatMap(feed.showtimeId);
      if (!map) return;
      this.rememberHolds(feed, map.seats, true);
      this.broadcast(feed, { snapshot: true, lastUpdatedMs: map.lastUpdatedMs, seats: map.seats });
    }, this.fail(feed));
  }

  private broadcast(feed: Feed, msg: WatchMessage): void {
    for (const sub of feed.subs) {
      if (!sub.ready) continue; // its snapshot, still to come, will include this
      sub.push({ ...msg, seats: msg.seats.map((s) => maskSeat(s, sub.viewer)) });
    }
  }

  /** Tracks the holds of `seats` (all of the map's when `replace`) and re-arms the expiry timer. */
  private rememberHolds(feed: Feed, seats: readonly SeatView[], replace: boolean): void {
    if (replace) feed.held = new Map();
    for (const s of seats) {
      if (s.status === "held" && s.heldUntilMs !== undefined) feed.held.set(s.seatId, s.heldUntilMs);
      else if (!replace) feed.held.delete(s.seatId);
    }
    this.armTimer(feed);
  }

  private armTimer(feed: Feed): void {
    let earliest = Infinity;
    for (const until of feed.held.values()) if (until < earliest) earliest = until;
    if (earliest === feed.timerAt && feed.timer) return;
    clearTimeout(feed.timer);
    feed.timer = undefined;
    feed.timerAt = earliest;
    if (earliest === Infinity || this.closed) return;
    // at least 100 ms apart, so a hold that Postgres' clock does not yet see as ended cannot spin us
    const delay = Math.min(Math.max(earliest + this.marginMs - Date.now(), 0), 2 ** 31 - 1);
    feed.timer = setTimeout(() => {
      feed.timer = undefined;
      feed.timerAt = Infinity;
      const due = [...feed.held].filter(([, until]) => until <= Date.now()).map(([id]) => id);
      if (due.length === 0) {
        this.armTimer(feed);
        return;
      }
      feed.run(async () => {
        const { seats, lastUpdatedMs } = await this.opts.inventory.seatsWithTime(feed.showtimeId, due);
        for (const id of due) feed.held.delete(id);
        const stillHeld = seats.filter((s) => s.status === "held" && s.heldUntilMs !== undefined && s.heldUntilMs <= Date.now());
        this.rememberHolds(feed, seats, false);
        if (stillHeld.length) {
          // Postgres' clock is behind ours: look again shortly
          for (const s of stillHeld) feed.held.set(s.seatId, Date.now() + 100);
          this.armTimer(feed);
        }
        const changed = seats.filter((s) => !stillHeld.includes(s));
        if (changed.length) this.broadcast(feed, { snapshot: false, lastUpdatedMs, seats: changed });
      }, this.fail(feed));
    }, delay);
    feed.timer.unref();
  }
}
