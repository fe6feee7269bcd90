import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { QueueEntry } from "../../../gen/ticketing/admission/v1/admission_pb.js";
import type { ActivityWorker } from "../../../lib/activity-worker.js";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdmissionService } from "../../../gen/ticketing/admission/v1/admission_pb.js";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { build as buildGateway } from "../../gateway/server.js";
import { codeOf, errorOf, startAdmissionStack, take, waitFor, type AdmissionStack } from "./harness.js";

/**
 * The waiting room end to end on real engines: the admission service, its gate workflow on the
 * Temporal dev server (a worker of this suite's, ticking every 100 ms), the real booking service
 * enforcing the tokens, the real catalog. Waits are for events (a stream's message, a row that
 * changed), never for time.
 */

let s: AdmissionStack;
let worker: ActivityWorker;

beforeAll(async () => {
  s = await startAdmissionStack("suite");
  worker = await s.startWorker();
}, 120_000);

afterAll(async () => {
  await s?.close();
});

const HOUR = 3_600_000;

async function configure(showtimeId: string, opts: { onSaleAt: Date; rate?: number; cap?: number; enabled?: boolean }) {
  const res = await s.client.configureWaitingRoom(
    {
      showtimeId,
      enabled: opts.enabled ?? true,
      onSaleAt: timestampFromDate(opts.onSaleAt),
      admissionRatePerMinute: opts.cap ? 0 : (opts.rate ?? 600),
      maxActiveBuyers: opts.cap ?? 0,
    },
    s.admin,
  );
  return res.room!;
}

const roomState = async (showtimeId: string) => (await s.client.getWaitingRoom({ showtimeId })).room!;

async function entryOf(showtimeId: string, who: { headers: Record<string, string> }): Promise<QueueEntry> {
  return (await s.client.getMyQueueEntry({ showtimeId }, who)).entry!;
}

async function positions(showtimeId: string): Promise<Map<string, number | null>> {
  const rows: Array<{ user_id: string; position: string | null }> = await s.db("entries").where({ showtime_id: showtimeId }).select("user_id", "position");
  return new Map(rows.map((r) => [r.user_id, r.position === null ? null : Number(r.position)]));
}

const gate = async (showtimeId: string) => (await s.booking.db("admission_gates").where({ showtime_id: showtimeId }).first())?.required as boolean | undefined;

/** `n` users who joined, in the order they joined. */
async function joiners(showtimeId: string, n: number) {
  const users = [];
  for (let i = 0; i < n; i++) {
    const u = await s.user();
    await s.client.joinWaitingRoom({ showtimeId }, u);
    users.push(u);
  }
  return users;
}

describe("joining", () => {
  it("is idempotent: one place per user and showtime, whatever the tabs and devices", async () => {
    const { showtimeId } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR) });
    const u = await s.user();
    const tabs = await Promise.all([1, 2, 3, 4].map(() => s.client.joinWaitingRoom({ showtimeId }, u)));
    const again = await s.client.joinWaitingRoom({ showtimeId }, u);
    for (const r of [...tabs, again]) {
      expect(r.entry!.status).toBe("prequeue");
      expect(r.entry!.joinedAt).toEqual(tabs[0].entry!.joinedAt);
    }
    expect((await positions(showtimeId)).size).toBe(1);
    expect((await entryOf(showtimeId, u)).estimatedWaitSeconds).toBeGreaterThan(HOUR / 1000 - 60);
  });

  it("answers 404 without a room, 404 for a place never taken, and 400 for a bad showtime id", async () => {
    const u = await s.user();
    expect(await codeOf(s.client.joinWaitingRoom({ showtimeId: randomUUID() }, u))).toBe(Code.NotFound);
    const { showtimeId } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR) });
    expect(await codeOf(s.client.getMyQueueEntry({ showtimeId }, u))).toBe(Code.NotFound);
    expect(await codeOf(s.client.joinWaitingRoom({ showtimeId: "nope" }, u))).toBe(Code.InvalidArgument);
    expect(await codeOf(s.client.joinWaitingRoom({ showtimeId }))).toBe(Code.Unauthenticated);
  });

  it("ConfigureWaitingRoom is for admins, needs exactly one of rate and cap, and an on-sale time before the show", async () => {
    const { showtimeId } = await s.showtime();
    const u = await s.user();
    const on = { showtimeId, enabled: true, onSaleAt: timestampFromDate(new Date(Date.now() + HOUR)) };
    expect(await codeOf(s.client.configureWaitingRoom({ ...on, admissionRatePerMinute: 10 }, u))).toBe(Code.PermissionDenied);
    const both = await errorOf(s.client.configureWaitingRoom({ ...on, admissionRatePerMinute: 10, maxActiveBuyers: 5 }, s.admin));
    expect(both.code).toBe(Code.InvalidArgument);
    expect(both.rawMessage).toContain("exactly one of admissionRatePerMinute and maxActiveBuyers");
    const noTime = await errorOf(s.client.configureWaitingRoom({ showtimeId, enabled: true, admissionRatePerMinute: 10 }, s.admin));
    expect(noTime.rawMessage).toContain("onSaleAt");
    const late = await errorOf(s.client.configureWaitingRoom({ ...on, onSaleAt: timestampFromDate(new Date(Date.now() + 48 * HOUR)), admissionRatePerMinute: 10 }, s.admin));
    expect([late.code, late.rawMessage]).toEqual([Code.InvalidArgument, "onSaleAt: must be before the showtime starts"]);
    expect(await codeOf(s.client.configureWaitingRoom({ ...on, showtimeId: randomUUID(), admissionRatePerMinute: 10 }, s.admin))).toBe(Code.NotFound);
  });
});

describe("the on-sale", () => {
  it("numbers the pre-queue in random order, not arrival order; later arrivals join at the back", async () => {
    const { showtimeId } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR), rate: 1 });
    const early = await joiners(showtimeId, 30);
    expect([...(await positions(showtimeId)).values()].every((p) => p === null)).toBe(true);
    // the on-sale time moved to now (allowed before the room opens): the workflow opens it at once
    await configure(showtimeId, { onSaleAt: new Date(), rate: 1 });
    await waitFor("the room to open", async () => (await roomState(showtimeId)).state === "open");
    const placed = await positions(showtimeId);
    const inArrivalOrder = early.map((u) => placed.get(u.userId));
    expect([...inArrivalOrder].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // 1 chance in 30! that a fair shuffle gives back the arrival order
    expect(inArrivalOrder).not.toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const late = await s.user();
    const entry = (await s.client.joinWaitingRoom({ showtimeId }, late)).entry!;
    expect(entry.position).toBe(31n);
    expect(entry.status).toBe("waiting");
    const room = await roomState(showtimeId);
    expect(entry.ahead).toBe(31n - room.servingNumber - 1n);
    // at 1 a minute, 60 s per place ahead of it and its own
    expect(entry.estimatedWaitSeconds).toBe(Number(31n - room.servingNumber) * 60);
    await expect(
      s.client.configureWaitingRoom(
        { showtimeId, enabled: true, onSaleAt: timestampFromDate(new Date(Date.now() + HOUR)), admissionRatePerMinute: 1 },
        s.admin,
      ),
    ).rejects.toThrow("on-sale time can no longer change");
  });
});

describe("an admission step by a cap", () => {
  it("admits up to the cap of open windows, and more only as windows end", async () => {
    const { showtimeId } = await s.showtime();
    // the rows alone (no workflow: its room opens in an hour), stepped by hand as the workflow would
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR), cap: 3 });
    await joiners(showtimeId, 8);
    await s.repo.open(showtimeId);
    expect((await s.repo.advance(showtimeId, undefined))!.servingNumber).toBe(3);
    expect((await s.repo.advance(showtimeId, undefined))!.servingNumber).toBe(3);
    // two windows end
    await s.db("entries").where({ showtime_id: showtimeId }).whereIn("position", [1, 2]).update({ admitted_at: new Date(Date.now() - 601_000) });
    expect((await s.repo.advance(showtimeId, undefined))!.servingNumber).toBe(5);
    // never past the back of the queue, never back
    expect((await s.repo.advance(showtimeId, 1000))!.servingNumber).toBe(8);
    expect((await s.repo.advance(showtimeId, 2))!.servingNumber).toBe(8);
  });
});

describe("booking's gate", () => {
  it("refuses holds without a valid admission token while the room is on, with how to queue; an admitted buyer's own token works", async () => {
    const { showtimeId, seatIds } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR), rate: 6000 });
    await waitFor("booking's gate to be on", async () => (await gate(showtimeId)) === true);
    const [a, b] = await joiners(showtimeId, 2);
    // before the on-sale time, too: nobody holds without a token
    const early = await errorOf(s.booking.client.reserveSeats({ showtimeId, seatIds: [seatIds[0]] }, a));
    expect(early.code).toBe(Code.PermissionDenied);
    expect(early.rawMessage).toContain(`POST /api/v1/showtimes/${showtimeId}/waiting-room/entries`);

    await configure(showtimeId, { onSaleAt: new Date(), rate: 6000 });
    const aEntry = await waitFor("a's admission", async () => {
      const e = await entryOf(showtimeId, a);
      return e.status === "admitted" && e;
    });
    const bEntry = await waitFor("b's admission", async () => {
      const e = await entryOf(showtimeId, b);
      return e.status === "admitted" && e;
    });
    expect(aEntry.admissionToken).not.toBe("");
    expect(aEntry.admissionExpiresAt!.seconds).toBeGreaterThan(BigInt(Math.floor(Date.now() / 1000)) + 500n);

    const refusal = async (token: string, who = a) => {
      const err = await errorOf(s.booking.client.reserveSeats({ showtimeId, seatIds: [seatIds[1]], admissionToken: token }, who));
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toContain(`POST /api/v1/showtimes/${showtimeId}/waiting-room/entries`);
      return err.rawMessage;
    };
    expect(await refusal("")).toContain("admissionToken: required");
    expect(await refusal(bEntry.admissionToken)).toContain("issued to another user");
    const otherShowtime = await s.tokens.sign({ userId: a.userId, showtimeId: randomUUID(), expiresAt: new Date(Date.now() + 600_000) });
    expect(await refusal(otherShowtime)).toContain("issued for another showtime");
    const expired = await s.tokens.sign({ userId: a.userId, showtimeId, expiresAt: new Date(Date.now() - 1000) });
    expect(await refusal(expired)).toContain("expired");
    expect(await refusal("not.a.token")).toContain("invalid");

    const held = await s.booking.client.reserveSeats({ showtimeId, seatIds: [seatIds[2]], admissionToken: aEntry.admissionToken }, a);
    expect(held.status).toBe("held");

    // switched off: everybody goes ahead without a token, and their places read "closed"
    await configure(showtimeId, { onSaleAt: new Date(), rate: 6000, enabled: false });
    await waitFor("booking's gate to be off", async () => (await gate(showtimeId)) === false);
    const c = await s.user();
    expect((await s.booking.client.reserveSeats({ showtimeId, seatIds: [seatIds[3]] }, c)).status).toBe("held");
    expect((await entryOf(showtimeId, b)).status).toBe("closed");
    expect((await roomState(showtimeId)).state).toBe("closed");
    expect(await codeOf(s.client.joinWaitingRoom({ showtimeId }, c))).toBe(Code.Aborted);
  });

  it("the admin's switch answers once booking refuses holds without a token (no window between the two)", async () => {
    const { showtimeId, seatIds } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR), rate: 600 });
    // no wait: the PUT told booking before it answered (the gate workflow tells it too)
    expect(await gate(showtimeId)).toBe(true);
    const buyer = await s.user();
    const refused = await errorOf(s.booking.client.reserveSeats({ showtimeId, seatIds: [seatIds[0]] }, buyer));
    expect(refused.code).toBe(Code.PermissionDenied);
  });

  it("SetAdmissionRequired is internal and ignores a call older than the setting in force", async () => {
    const showtimeId = randomUUID();
    const user = await s.user();
    expect(await codeOf(s.booking.client.setAdmissionRequired({ showtimeId, required: true, generation: 1n }, user))).toBe(Code.PermissionDenied);
    expect(await s.booking.client.setAdmissionRequired({ showtimeId, required: true, generation: 5n }, s.booking.service)).toMatchObject({ required: true, generation: 5n });
    expect(await s.booking.client.setAdmissionRequired({ showtimeId, required: false, generation: 4n }, s.booking.service)).toMatchObject({ required: true, generation: 5n });
    expect(await s.booking.client.setAdmissionRequired({ showtimeId, required: false, generation: 5n }, s.booking.service)).toMatchObject({ required: false, generation: 5n });
  });
});

describe("WatchMyQueueEntry", () => {
  it("pushes every move of the serving number, then the token, and ends", async () => {
    const { showtimeId } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR), rate: 300 }); // a place every 200 ms
    await joiners(showtimeId, 19);
    const [early, late] = [await s.user(), await s.user()];
    await s.client.joinWaitingRoom({ showtimeId }, early);
    const watch = async (who: typeof early, onFirst?: () => Promise<void>) => {
      const received: QueueEntry[] = [];
      for await (const m of s.client.watchMyQueueEntry({ showtimeId }, who)) {
        received.push(m.entry!);
        if (received.length === 1) await onFirst?.();
      }
      return received;
    };
    let lateWatch: Promise<QueueEntry[]> | undefined;
    // the early buyer watches from the pre-queue; the room opens once its stream has said so, and
    // the late buyer joins at the back right after
    const earlyMessages = await watch(early, async () => {
      await configure(showtimeId, { onSaleAt: new Date(), rate: 300 });
      await waitFor("the opening", async () => (await roomState(showtimeId)).state === "open");
      await s.client.joinWaitingRoom({ showtimeId }, late);
      lateWatch = watch(late);
    });
    const lateMessages = await lateWatch!;

    expect(earlyMessages[0].status).toBe("prequeue");
    expect(earlyMessages[1].position).toBeGreaterThan(0n); // numbered at the opening
    for (const messages of [earlyMessages, lateMessages]) {
      const last = messages[messages.length - 1];
      expect(last.status).toBe("admitted");
      expect(last.admissionToken).not.toBe("");
      const waiting = messages.filter((e) => e.status === "waiting");
      for (let i = 1; i < waiting.length; i++) expect(waiting[i].ahead).toBeLessThan(waiting[i - 1].ahead);
      for (const e of waiting) expect(e.estimatedWaitSeconds).toBe(Math.ceil(((Number(e.ahead) + 1) * 60) / 300));
    }
    expect(lateMessages[0].position).toBe(21n);
    expect(lateMessages[0].ahead).toBeGreaterThanOrEqual(10n);
    // ten places or more to go, a step every 200 ms: many moves, each one pushed (a slow step may
    // move it by several)
    expect(lateMessages.filter((e) => e.status === "waiting").length).toBeGreaterThanOrEqual(3);
    await waitFor("the watchers to be gone", () => s.server.hub.size === 0);
  });

  it("checks its input by hand (streams skip the validation interceptor)", async () => {
    const u = await s.user();
    const err = await errorOf((async () => {
      for await (const _ of s.client.watchMyQueueEntry({ showtimeId: "nope" }, u)) void _;
    })());
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, "showtimeId: value must be a valid UUID"]);
  });
});

describe("through the gateway", () => {
  it("REST routes as documented, a 403 that says how to queue, and the live stream over Connect", async () => {
    const gateway = await buildGateway({
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger(),
      upstreams: [
        { service: AdmissionService, backend: "admission" },
        { service: BookingService, backend: "booking" },
      ],
      urls: { admission: `http://127.0.0.1:${s.server.port}`, booking: s.booking.url },
      corsOrigins: "*",
      maxBodyBytes: 64 * 1024,
      upstreamTimeoutMs: 5_000,
      serviceCredential: () => s.booking.auth.serviceToken("gateway"),
    });
    const base = `http://127.0.0.1:${gateway.port}`;
    try {
      const { showtimeId, seatIds } = await s.showtime();
      const u = await s.user();
      const rest = async (method: string, path: string, who: { headers: Record<string, string> }, body?: unknown) => {
        const r = await fetch(base + path, { method, headers: { ...who.headers, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: r.status, json: (await r.json()) as Record<string, unknown> };
      };
      const onSaleAt = new Date(Date.now() + HOUR).toISOString();
      const put = await rest("PUT", `/api/v1/showtimes/${showtimeId}/waiting-room`, s.admin, { enabled: true, onSaleAt, admissionRatePerMinute: 100 });
      expect(put).toMatchObject({ status: 200, json: { showtimeId, enabled: true, state: "scheduled", admissionRatePerMinute: 100, admissionWindowSeconds: 600 } });
      expect((await rest("GET", `/api/v1/showtimes/${showtimeId}/waiting-room`, { headers: {} })).json).toMatchObject({ state: "scheduled" });
      const joined = await rest("POST", `/api/v1/showtimes/${showtimeId}/waiting-room/entries`, u, {});
      expect(joined).toMatchObject({ status: 200, json: { showtimeId, status: "prequeue" } });
      expect((await rest("GET", `/api/v1/showtimes/${showtimeId}/waiting-room/entries/me`, u)).json).toMatchObject({ status: "prequeue" });

      await waitFor("booking's gate to be on", async () => (await gate(showtimeId)) === true);
      const refused = await rest("POST", `/api/v1/showtimes/${showtimeId}/seats/reserve`, u, { seatIds: [seatIds[0]] });
      expect(refused.status).toBe(403);
      expect(refused.json.code).toBe("permission_denied");
      expect(refused.json.message).toContain(`POST /api/v1/showtimes/${showtimeId}/waiting-room/entries`);

      const browser = createClient(AdmissionService, createConnectTransport({ baseUrl: base, httpVersion: "1.1" }));
      const first = await take(browser.watchMyQueueEntry({ showtimeId }, u), 1);
      expect(first[0].entry).toMatchObject({ showtimeId, status: "prequeue" });
    } finally {
      await gateway.close();
    }
  });
});

describe("a restart of the workflow worker mid-on-sale", () => {
  it("loses no one's place, and admissions go on", async () => {
    const { showtimeId } = await s.showtime();
    await configure(showtimeId, { onSaleAt: new Date(Date.now() + HOUR), rate: 600 });
    await joiners(showtimeId, 30);
    await configure(showtimeId, { onSaleAt: new Date(), rate: 600 });
    await waitFor("a few admissions", async () => (await roomState(showtimeId)).servingNumber >= 3n);
    await worker.close();
    const before = await positions(showtimeId);
    const servedBefore = (await roomState(showtimeId)).servingNumber;
    // joins go on while no worker runs: places at the back
    const [late] = await joiners(showtimeId, 1);
    expect((await entryOf(showtimeId, late)).position).toBe(31n);
    expect((await roomState(showtimeId)).servingNumber).toBe(servedBefore);

    worker = await s.startWorker();
    await waitFor("admissions to go on", async () => (await roomState(showtimeId)).servingNumber >= servedBefore + 5n, 60_000);
    const after = await positions(showtimeId);
    for (const [userId, position] of before) expect(after.get(userId)).toBe(position);
    const room = await roomState(showtimeId);
    const admitted = await s.db("entries").where({ showtime_id: showtimeId }).whereNotNull("admitted_at").select("position");
    expect(admitted.length).toBeGreaterThanOrEqual(Number(servedBefore) + 5);
    expect(admitted.every((r: { position: string }) => BigInt(r.position) <= room.servingNumber)).toBe(true);
  }, 90_000);
});
