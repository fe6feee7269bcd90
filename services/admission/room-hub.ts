import type { Logger } from "../../lib/logger.js";
import { PgListenConnection } from "../../lib/pg-listen.js";
import { AppError } from "../../lib/errors.js";
import { Code } from "@connectrpc/connect";
import { ROOM_CHANNEL } from "./db/migrations.js";
import { roomFromMessage, type AdmissionRepo, type RoomMessage } from "./db/repo.js";
import type { Room } from "./domain/room.js";

/**
 * One watcher's view of a room: only the latest state matters (a slow reader skips the steps it
 * missed instead of queueing them).
 */
export class RoomWatch {
  private latest: Room | undefined;
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    readonly showtimeId: string,
    private readonly leave: (w: RoomWatch) => void,
  ) {}

  push(room: Room): void {
    this.latest = room;
    this.wake?.();
  }

  /** Every new state of the room from now on, until `signal` aborts or the hub closes. */
  async *rooms(signal: AbortSignal): AsyncGenerator<Room> {
    const onAbort = () => this.wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal.aborted && !this.ended) {
        const room = this.latest;
        if (room) {
          this.latest = undefined;
          yield room;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  close(): void {
    this.end();
    this.leave(this);
  }
}

/**
 * Live rooms for WatchMyQueueEntry, across processes: every transaction that changes a room
 * (configure, open, an admission step, close) sends `NOTIFY admission_rooms` with the whole room,
 * committed with the change. Each process keeps ONE listening connection and hands each
 * notification to the watchers of that showtime: no watcher reads the database per step. After
 * a lost connection, each watched room is read once and pushed when listening again.
 */
export class RoomHub {
  private readonly connection: PgListenConnection;
  private readonly watchers = new Map<string, Set<RoomWatch>>();
  private closed = false;

  constructor(private readonly opts: { databaseUrl: string; repo: AdmissionRepo; logger: Logger }) {
    this.connection = new PgListenConnection({ databaseUrl: opts.databaseUrl, channel: ROOM_CHANNEL, logger: opts.logger });
    this.connection.on("notification", (payload) => this.onNotification(payload));
    this.connection.on("live", () => void this.resync());
  }

  /** Number of watchers in this process (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Starts watching a room; listening when this resolves, so a read after it misses no change. */
  async watch(showtimeId: string): Promise<RoomWatch> {
    if (this.closed) throw new AppError(Code.Unavailable, "the service is shutting down; reconnect");
    await this.connection.listen().catch((err: unknown) => {
      this.opts.logger.warn({ err }, "cannot LISTEN for waiting room changes");
      throw new AppError(Code.Unavailable, "live queue positions are unavailable right now; poll GetMyQueueEntry or try again");
    });
    const w = new RoomWatch(showtimeId, (gone) => this.forget(gone));
    let set = this.watchers.get(showtimeId);
    if (!set) this.watchers.set(showtimeId, (set = new Set()));
    set.add(w);
    return w;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.watchers.values()) for (const w of set) w.end();
    this.watchers.clear();
    await this.connection.close();
  }

  private forget(w: RoomWatch): void {
    const set = this.watchers.get(w.showtimeId);
    if (!set) return;
    set.delete(w);
    if (set.size === 0) this.watchers.delete(w.showtimeId);
  }

  private onNotification(payload: string): void {
    let msg: RoomMessage;
    try {
      msg = JSON.parse(payload) as RoomMessage;
    } catch {
      return;
    }
    const set = this.watchers.get(msg.showtimeId);
    if (!set) return; // nobody here watches that room
    const room = roomFromMessage(msg);
    for (const w of set) w.push(room);
  }

  private async resync(): Promise<void> {
    for (const [showtimeId, set] of this.watchers) {
      try {
        const room = await this.opts.repo.getRoom(showtimeId);
        if (room) for (const w of set) w.push(room);
      } catch (err) {
        this.opts.logger.warn({ err, showtimeId }, "cannot re-read a watched waiting room");
      }
    }
  }
}
