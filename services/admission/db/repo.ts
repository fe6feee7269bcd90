import { randomBytes } from "node:crypto";
import type { Knex } from "../../../lib/db.js";
import { shuffleKey, type Entry, type Room, type RoomState } from "../domain/room.js";
import { ROOM_CHANNEL } from "./migrations.js";

interface RoomRow {
  showtime_id: string;
  enabled: boolean;
  on_sale_at: Date;
  showtime_starts_at: Date;
  rate_per_minute: number;
  max_active_buyers: number;
  window_seconds: number;
  state: RoomState;
  serving_number: string;
  last_position: string;
  generation: string;
  advanced_at: Date | null;
}

interface EntryRow {
  showtime_id: string;
  user_id: string;
  joined_at: Date;
  position: string | null;
  admitted_at: Date | null;
}

function roomOf(r: RoomRow): Room {
  return {
    showtimeId: r.showtime_id,
    enabled: r.enabled,
    onSaleAt: r.on_sale_at,
    showtimeStartsAt: r.showtime_starts_at,
    ratePerMinute: r.rate_per_minute,
    maxActiveBuyers: r.max_active_buyers,
    windowSeconds: r.window_seconds,
    state: r.state,
    servingNumber: Number(r.serving_number),
    lastPosition: Number(r.last_position),
    generation: Number(r.generation),
    advancedAt: r.advanced_at,
  };
}

function entryOf(r: EntryRow): Entry {
  return {
    showtimeId: r.showtime_id,
    userId: r.user_id,
    joinedAt: r.joined_at,
    position: r.position === null ? null : Number(r.position),
    admittedAt: r.admitted_at,
  };
}

/** A room as sent on ROOM_CHANNEL (dates as ms), what every watcher of the room needs. */
export interface RoomMessage {
  showtimeId: string;
  enabled: boolean;
  state: RoomState;
  onSaleAtMs: number;
  showtimeStartsAtMs: number;
  ratePerMinute: number;
  maxActiveBuyers: number;
  windowSeconds: number;
  servingNumber: number;
  lastPosition: number;
  generation: number;
  advancedAtMs: number | null;
}

export function roomMessage(room: Room): RoomMessage {
  return {
    ...room,
    onSaleAtMs: room.onSaleAt.getTime(),
    showtimeStartsAtMs: room.showtimeStartsAt.getTime(),
    advancedAtMs: room.advancedAt?.getTime() ?? null,
  };
}

export function roomFromMessage(m: RoomMessage): Room {
  return {
    ...m,
    onSaleAt: new Date(m.onSaleAtMs),
    showtimeStartsAt: new Date(m.showtimeStartsAtMs),
    advancedAt: m.advancedAtMs === null ? null : new Date(m.advancedAtMs),
  };
}

/** What an admin sets (ConfigureWaitingRoom): the room without its progress. */
export type RoomSettings = Pick<Room, "showtimeId" | "enabled" | "onSaleAt" | "showtimeStartsAt" | "ratePerMinute" | "maxActiveBuyers" | "windowSeconds">;

/** The on-sale time of a room that has opened cannot move. */
export class OnSaleTimeFixedError extends Error {}

class OpenedMeanwhile extends Error {}

export class AdmissionRepo {
  constructor(readonly db: Knex) {}

  private async notify(trx: Knex.Transaction, room: Room): Promise<void> {
    await trx.raw("SELECT pg_notify(?, ?)", [ROOM_CHANNEL, JSON.stringify(roomMessage(room))]);
  }

  private async lockRoom(trx: Knex.Transaction, showtimeId: string): Promise<Room | undefined> {
    const row: RoomRow | undefined = await trx("rooms").where({ showtime_id: showtimeId }).forUpdate().first();
    return row && roomOf(row);
  }

  async getRoom(showtimeId: string): Promise<Room | undefined> {
    const row: RoomRow | undefined = await this.db("rooms").where({ showtime_id: showtimeId }).first();
    return row && roomOf(row);
  }

  /**
   * Creates or changes a room. Switching a closed room back on resumes it where it was (open if
   * it had opened, else scheduled). Every call is a new generation, so booking can tell a
   * late gate call of an older setting from the current one.
   */
  async configure(s: RoomSettings): Promise<Room> {
    return this.db.transaction(async (trx) => {
      const old = await this.lockRoom(trx, s.showtimeId);
      const opened = old !== undefined && (old.state === "open" || old.servingNumber > 0 || old.lastPosition > 0);
      if (opened && s.enabled && s.onSaleAt.getTime() !== old.onSaleAt.getTime()) throw new OnSaleTimeFixedError();
      const fields = {
        enabled: s.enabled,
        on_sale_at: s.onSaleAt,
        showtime_starts_at: s.showtimeStartsAt,
        rate_per_minute: s.ratePerMinute,
        max_active_buyers: s.maxActiveBuyers,
        window_seconds: s.windowSeconds,
        updated_at: trx.fn.now(),
      };
      let row: RoomRow;
      if (!old) {
        [row] = await trx("rooms")
          .insert({ showtime_id: s.showtimeId, ...fields, state: s.enabled ? "scheduled" : "closed" })
          .returning("*");
      } else {
        const state: RoomState = !s.enabled ? old.state : old.state !== "closed" ? old.state : opened ? "open" : "scheduled";
        [row] = await trx("rooms")
          .where({ showtime_id: s.showtimeId })
          .update({ ...fields, state, generation: trx.raw("generation + 1") })
          .returning("*");
      }
      const room = roomOf(row);
      await this.notify(trx, room);
      return room;
    });
  }

  async getEntry(showtimeId: string, userId: string): Promise<Entry | undefined> {
    const row: EntryRow | undefined = await this.db("entries").where({ showtime_id: showtimeId, user_id: userId }).first();
    return row && entryOf(row);
  }

  /**
   * The user's place, made if they have none (one per user and showtime). Before the on-sale
   * time: a pre-queue entry without a position, under a share lock of the room so that the
   * opening (which locks the room for update) numbers every pre-queue entry committed before it.
   * After: the next position at the back, taken on the room's row.
   */
  async join(showtimeId: string, userId: string): Promise<{ room: Room; entry?: Entry } | undefined> {
    try {
      return await this.joinOnce(showtimeId, userId, false);
    } catch (err) {
      if (!(err instanceof OpenedMeanwhile)) throw err;
      return this.joinOnce(showtimeId, userId, true);
    }
  }

  private async joinOnce(showtimeId: string, userId: string, exclusive: boolean): Promise<{ room: Room; entry?: Entry } | undefined> {
    return this.db.transaction(async (trx) => {
      let share = false;
      if (!exclusive) {
        const peek: RoomRow | undefined = await trx("rooms").where({ showtime_id: showtimeId }).first();
        if (!peek) return undefined;
        share = peek.enabled && peek.state === "scheduled";
      }
      const row: RoomRow | undefined = await (share ? trx("rooms").forShare() : trx("rooms").forUpdate()).where({ showtime_id: showtimeId }).first();
      if (!row) return undefined;
      const room = roomOf(row);
      const existing: EntryRow | undefined = await trx("entries").where({ showtime_id: showtimeId, user_id: userId }).first();
      if (existing) return { room, entry: entryOf(existing) };
      if (!room.enabled || room.state === "closed") return { room };
      if (room.state === "scheduled") {
        const [e]: EntryRow[] = await trx("entries")
          .insert({ showtime_id: showtimeId, user_id: userId, shuffle_key: shuffleKey(randomBytes) })
          .onConflict(["showtime_id", "user_id"])
          .ignore()
          .returning("*");
        // a concurrent join of the same user won: theirs is the place
        const entry: EntryRow = e ?? (await trx("entries").where({ showtime_id: showtimeId, user_id: userId }).first());
        return { room, entry: entryOf(entry) };
      }
      // opened between the peek and the share lock: taking a place needs the row lock (upgrading
      // a share lock that others hold too would deadlock), so start again with it
      if (share) throw new OpenedMeanwhile();
      const [{ last_position }]: Array<{ last_position: string }> = await trx("rooms")
        .where({ showtime_id: showtimeId })
        .increment("last_position", 1)
        .returning("last_position");
      const [e]: EntryRow[] = await trx("entries")
        .insert({ showtime_id: showtimeId, user_id: userId, shuffle_key: shuffleKey(randomBytes), position: last_position })
        .returning("*");
      return { room: { ...room, lastPosition: Number(last_position) }, entry: entryOf(e) };
    });
  }

  /**
   * The on-sale time: numbers the pre-queue 1..N in the order of its random shuffle keys (not
   * arrival order) and opens the room. Idempotent: a room no longer scheduled is left as it is.
   */
  async open(showtimeId: string): Promise<Room | undefined> {
    return this.db.transaction(async (trx) => {
      const room = await this.lockRoom(trx, showtimeId);
      if (!room || room.state !== "scheduled") return room;
      const numbered = await trx.raw(
        `UPDATE entries e SET position = r.base + r.n
           FROM (SELECT user_id, ?::bigint AS base, row_number() OVER (ORDER BY shuffle_key, user_id) AS n
                   FROM entries WHERE showtime_id = ? AND position IS NULL) r
          WHERE e.showtime_id = ? AND e.user_id = r.user_id`,
        [room.lastPosition, showtimeId, showtimeId],
      );
      const [row]: RoomRow[] = await trx("rooms")
        .where({ showtime_id: showtimeId })
        .update({ state: "open", opened_at: trx.fn.now(), last_position: room.lastPosition + (numbered.rowCount ?? 0), updated_at: trx.fn.now() })
        .returning("*");
      const opened = roomOf(row);
      await this.notify(trx, opened);
      return opened;
    });
  }

  /**
   * One admission step: the serving number moves to `target` (rate) or by the free slots under
   * the cap (target undefined), never past the back of the queue and never back; the entries it
   * passes are admitted now. Watchers hear of it when anything moved.
   */
  async advance(showtimeId: string, target: number | undefined): Promise<Room | undefined> {
    return this.db.transaction(async (trx) => {
      const room = await this.lockRoom(trx, showtimeId);
      if (!room || !room.enabled || room.state !== "open") return room;
      let next: number;
      if (target !== undefined) {
        next = target;
      } else {
        const [{ active }] = await trx("entries")
          .where({ showtime_id: showtimeId })
          .andWhere("admitted_at", ">", trx.raw("now() - make_interval(secs => ?)", [room.windowSeconds]))
          .count({ active: "*" });
        next = room.servingNumber + Math.max(0, room.maxActiveBuyers - Number(active));
      }
      next = Math.min(next, room.lastPosition);
      if (next <= room.servingNumber) return room;
      await trx("entries")
        .where({ showtime_id: showtimeId })
        .andWhere("position", ">", room.servingNumber)
        .andWhere("position", "<=", next)
        .update({ admitted_at: trx.fn.now() });
      const [row]: RoomRow[] = await trx("rooms")
        .where({ showtime_id: showtimeId })
        .update({ serving_number: next, advanced_at: trx.fn.now(), updated_at: trx.fn.now() })
        .returning("*");
      const moved = roomOf(row);
      await this.notify(trx, moved);
      return moved;
    });
  }

  /** Marks the room closed (switched off, or the show started). */
  async close(showtimeId: string): Promise<Room | undefined> {
    return this.db.transaction(async (trx) => {
      const room = await this.lockRoom(trx, showtimeId);
      if (!room || room.state === "closed") return room;
      const [row]: RoomRow[] = await trx("rooms").where({ showtime_id: showtimeId }).update({ state: "closed", updated_at: trx.fn.now() }).returning("*");
      const closed = roomOf(row);
      await this.notify(trx, closed);
      return closed;
    });
  }

  /** Buyers waiting in a room (pre-queue and queue, not yet admitted). */
  async waiting(showtimeId: string): Promise<number> {
    const [{ n }] = await this.db("entries").where({ showtime_id: showtimeId }).whereNull("admitted_at").count({ n: "*" });
    return Number(n);
  }
}
