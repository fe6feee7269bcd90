import { execFile } from "node:child_process";
import { AdmissionTokens, DEV_ADMISSION_TOKEN_SECRET } from "../../../lib/admission-tokens.js";
import { AdmissionGate } from "../admission-gate.js";
import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import pino from "pino";
import { BookingService, WatchInventoryRequestSchema, type WatchInventoryResponse } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { bookingHandlers } from "../handlers.js";
import { DEFAULT_LIMITS } from "../server.js";
import { holdDirect, seedInventory, startBooking, waitFor, type BookingHarness, type CallOptions } from "./harness.js";

/**
 * WatchInventory: the full map first, then every change within a second, across processes
 * (Postgres LISTEN/NOTIFY, one listening connection per process), including holds that run out
 * without any write.
 */

let h: BookingHarness;
beforeAll(async () => {
  h = await startBooking("watch");
});
afterAll(async () => {
  await h?.close();
});

const REPO_ROOT = resolve(__dirname, "../../..");
const FIXTURE = join(__dirname, "fixtures", "hold-elsewhere.ts");

interface Received {
  msg: WatchInventoryResponse;
  at: number;
}

/** Reads a stream in the background; `until` waits for a message matching a predicate. */
function watch(showtimeId: string, opts?: CallOptions) {
  const abort = new AbortController();
  const received: Received[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const msg of h.client.watchInventory({ showtimeId }, { ...opts, signal: abort.signal })) {
        received.push({ msg, at: Date.now() });
      }
    } catch (err) {
      if (!abort.signal.aborted) failure = err;
    }
  })();
  return {
    received,
    async until(what: string, pred: (m: WatchInventoryResponse) => boolean, timeoutMs = 10_000): Promise<Received> {
      return waitFor(
        what,
        async () => {
          if (failure) throw failure;
          return received.find((r) => pred(r.msg));
        },
        timeoutMs,
      );
    },
    failure: () => failure,
    async close() {
      abort.abort();
      await done;
    },
  };
}

const seat = (m: WatchInventoryResponse, id: string) => m.seats.find((s) => s.seatId === id);

describe("WatchInventory", () => {
  it("starts with the whole map (masked for the viewer), marked as the snapshot", async () => {
    const { showtimeId, seatIds } = await seedInventory(h.repo);
    const holder = await h.user();
    const held = await holdDirect(h.repo, { showtimeId, seatIds: ["R1S1"], userId: holder.userId });
    const anon = watch(showtimeId);
    const mine = watch(showtimeId, holder);
    try {
      const first = (await anon.until("snapshot", (m) => m.snapshot)).msg;
      expect(first.showtimeId).toBe(showtimeId);
      expect(first.seats.map((s) => s.seatId)).toEqual(seatIds);
      expect(seat(first, "R1S1")).toMatchObject({ status: "held" });
      expect(seat(first, "R1S1")!.holderId).toBeUndefined();
      expect(seat(first, "R1S1")!.heldUntil).toBeDefined();
      const own = (await mine.until("snapshot", (m) => m.snapshot)).msg;
      expect(seat(own, "R1S1")).toMatchObject({ status: "held", holderId: holder.userId, bookingId: held.booking.id });
      expect(anon.received[0].msg.snapshot).toBe(true);
    } finally {
      await anon.close();
      await mine.close();
    }
  });

  it("a hold made by another process reaches a subscriber here within 1 s", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const holder = await h.user();
    const anon = watch(showtimeId);
    const mine = watch(showtimeId, holder);
    try {
      await anon.until("snapshot", (m) => m.snapshot);
      await mine.until("snapshot", (m) => m.snapshot);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", FIXTURE, h.databaseUrl, showtimeId, holder.userId, "R2S3", "R2S4"],
        { cwd: REPO_ROOT, timeout: 60_000 },
      );
      const { bookingId, committedAt } = JSON.parse(stdout.trim().split("\n").pop()!) as { bookingId: string; committedAt: number };
      const seen = await anon.until("the other process's hold", (m) => !m.snapshot && seat(m, "R2S3")?.status === "held");
      expect(seen.at - committedAt).toBeLessThan(1_000);
      expect(seen.msg.seats.map((s) => s.seatId).sort()).toEqual(["R2S3", "R2S4"]);
      expect(seat(seen.msg, "R2S3")!.holderId).toBeUndefined(); // masked for others
      const own = await mine.until("the hold, unmasked", (m) => !m.snapshot && seat(m, "R2S3")?.status === "held");
      expect(seat(own.msg, "R2S4")).toMatchObject({ holderId: holder.userId, bookingId });
      console.log(`cross-process hold seen ${seen.at - committedAt} ms after commit`);
    } finally {
      await anon.close();
      await mine.close();
    }
  });

  it("pushes confirmations and releases as they commit", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const w = watch(showtimeId);
    try {
      await w.until("snapshot", (m) => m.snapshot);
      const a = await holdDirect(h.repo, { showtimeId, seatIds: ["R3S1"] });
      const b = await holdDirect(h.repo, { showtimeId, seatIds: ["R3S2"] });
      await w.until("hold b", (m) => seat(m, "R3S2")?.status === "held");
      await h.repo.holds.confirm(a.booking.id);
      await w.until("booked", (m) => seat(m, "R3S1")?.status === "booked");
      await h.repo.holds.releaseHold(b.booking.id, "cancelled");
      const released = await w.until("released", (m) => !m.snapshot && seat(m, "R3S2")?.status === "available");
      expect(seat(released.msg, "R3S2")!.heldUntil).toBeUndefined();
    } finally {
      await w.close();
    }
  });

  it("a hold that runs out is pushed as available at its heldUntil, with no write to the database", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const w = watch(showtimeId);
    try {
      await w.until("snapshot", (m) => m.snapshot);
      const held = await holdDirect(h.repo, { showtimeId, seatIds: ["R4S4", "R4S5"], holdSeconds: 2 });
      await w.until("held", (m) => seat(m, "R4S4")?.status === "held");
      const expired = await w.until("expiry", (m) => !m.snapshot && seat(m, "R4S4")?.status === "available", 5_000);
      const heldUntil = held.booking.heldUntil.getTime();
      expect(expired.at).toBeGreaterThanOrEqual(heldUntil);
      expect(expired.at - heldUntil).toBeLessThan(1_000);
      expect(seat(expired.msg, "R4S5")!.status).toBe("available");
      expect(timestampDate(expired.msg.lastUpdated!).getTime()).toBe(heldUntil);
      // nobody wrote: the rows still say held
      expect((await h.db("inventory_seats").where({ showtime_id: showtimeId, seat_id: "R4S4" }).first()).status).toBe("held");
    } finally {
      await w.close();
    }
  });

  it("subscribers of one showtime share a feed, which goes away with the last of them", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const before = h.server.hub.watchedShowtimes;
    const streams = Array.from({ length: 5 }, () => watch(showtimeId));
    await Promise.all(streams.map((s) => s.until("snapshot", (m) => m.snapshot)));
    expect(h.server.hub.watchedShowtimes).toBe(before + 1);
    await holdDirect(h.repo, { showtimeId, seatIds: ["R1S9"] });
    await Promise.all(streams.map((s) => s.until("hold", (m) => seat(m, "R1S9")?.status === "held")));
    await Promise.all(streams.map((s) => s.close()));
    await waitFor("the feed to close", async () => h.server.hub.watchedShowtimes === before, 5_000);
  });

  it("after the listening connection is lost, it reconnects and every subscriber gets a fresh snapshot", async () => {
    const { showtimeId } = await seedInventory(h.repo);
    const w = watch(showtimeId);
    try {
      await w.until("snapshot", (m) => m.snapshot);
      const killed = await h.db.raw(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
         WHERE datname = current_database() AND query ILIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
      );
      expect(killed.rows.length).toBeGreaterThan(0);
      // a change made while nobody listens is in the snapshot sent after the reconnect
      await holdDirect(h.repo, { showtimeId, seatIds: ["R2S2"] });
      const again = await w.until("a new snapshot", (m) => m.snapshot && seat(m, "R2S2")?.status === "held", 10_000);
      expect(again.msg.seats).toHaveLength(40);
      // and live changes flow again
      await holdDirect(h.repo, { showtimeId, seatIds: ["R2S3"] });
      await w.until("a live change", (m) => !m.snapshot && seat(m, "R2S3")?.status === "held");
    } finally {
      await w.close();
    }
  });

  it("404 for a showtime without inventory; 400 for a malformed id", async () => {
    const missing = watch(randomUUID());
    await waitFor("the error", async () => missing.failure() !== undefined, 5_000);
    expect(ConnectError.from(missing.failure()).code).toBe(Code.NotFound);
    await missing.close();
    const bad = watch("not-a-uuid");
    await waitFor("the error", async () => bad.failure() !== undefined, 5_000);
    expect(ConnectError.from(bad.failure()).code).toBe(Code.InvalidArgument);
    await bad.close();
  });
});

/** A pino logger (debug and up) whose lines the test can read, and wait for as they are written. */
function capturedLogs() {
  const lines: Array<Record<string, unknown> & { level: number; msg: string }> = [];
  const waiters: Array<{ match: (l: (typeof lines)[number]) => boolean; resolve: () => void }> = [];
  const logger = pino(
    { level: "debug" },
    {
      write(json: string) {
        const line = JSON.parse(json) as (typeof lines)[number];
        lines.push(line);
        for (const w of waiters.filter((w) => w.match(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      },
    },
  );
  return {
    logger,
    lines,
    /** Resolves when a matching line is written (from now on). */
    next: (match: (l: (typeof lines)[number]) => boolean) => new Promise<void>((resolve) => waiters.push({ match, resolve })),
  };
}

describe("a WatchInventory client that goes away mid-stream", () => {
  const logs = capturedLogs();
  let s: BookingHarness;
  let consoleError: jest.SpyInstance;
  beforeAll(async () => {
    s = await startBooking("watch-leave", { logger: logs.logger });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    consoleError = jest.spyOn(console, "error");
  });
  afterEach(() => consoleError.mockRestore());

  it("leaves no error behind: nothing logged at warn or above, nothing from connect-node", async () => {
    const { showtimeId } = await seedInventory(s.repo);
    const from = logs.lines.length;
    // the server has seen the client go when the hub lets go of its subscription
    const serverSawItGo = logs.next((l) => l.msg === "seat map watcher left" && l.showtimeId === showtimeId);
    const abort = new AbortController();
    const received: WatchInventoryResponse[] = [];
    const reading = (async () => {
      try {
        for await (const msg of s.client.watchInventory({ showtimeId }, { signal: abort.signal })) {
          received.push(msg);
          if (received.length === 3) abort.abort(); // the snapshot and two changes, while more are coming
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    await waitFor("the snapshot", async () => received.length > 0, 10_000, 10);
    for (let seat = 1; !abort.signal.aborted && seat <= 10; seat++) await holdDirect(s.repo, { showtimeId, seatIds: [`R1S${seat}`] });
    await reading;
    await serverSawItGo;
    // The rest of the stream's end (the handler's return, connect-node's write of the end of the
    // stream to the closed response and what it makes of that) runs in this turn of the event
    // loop: microtasks and one process.nextTick, all done before setImmediate's callback.
    await new Promise((resolve) => setImmediate(resolve));
    expect(received.length).toBe(3);
    expect(logs.lines.slice(from).filter((l) => l.level >= 40)).toEqual([]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it("a failed write that Connect throws into the stream once the client has gone ends the stream quietly", async () => {
    const { showtimeId } = await seedInventory(s.repo);
    const from = logs.lines.length;
    const handlers = bookingHandlers({
      db: s.db,
      repo: s.repo,
      workflows: s.server.workflows,
      starter: s.server.starter,
      hub: s.server.hub,
      logger: logs.logger,
      limits: DEFAULT_LIMITS,
      admission: new AdmissionGate(s.db, new AdmissionTokens(DEV_ADMISSION_TOKEN_SECRET)),
      holdLimits: s.server.holdLimits,
    });
    const ctx = createHandlerContext({
      service: BookingService,
      method: BookingService.method.watchInventory,
      protocolName: "connect",
      requestMethod: "POST",
      url: `${s.url}/ticketing.booking.v1.BookingService/WatchInventory`,
    });
    const stream = handlers.watchInventory(create(WatchInventoryRequestSchema, { showtimeId }), ctx)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ showtimeId, snapshot: true });
    // What connect-node does when writing to a client that has gone fails: it aborts the call's
    // context, then throws the write's error into the stream (at the handler's pending yield).
    const writeFailed = Object.assign(new Error("Cannot call write after a stream was destroyed"), { code: "ERR_STREAM_DESTROYED" });
    ctx.abort(writeFailed);
    expect(await stream.throw!(writeFailed)).toEqual({ done: true, value: undefined });
    expect(logs.lines.slice(from).filter((l) => l.level >= 40)).toEqual([]);
  });
});
