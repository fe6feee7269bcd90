import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { Client as TemporalClient, Connection, WorkflowFailedError } from "@temporalio/client";
import { ApplicationFailure } from "@temporalio/common";
import { NativeConnection, Worker } from "@temporalio/worker";
import QRCode from "qrcode";
import type { Ticket } from "../../../gen/ticketing/tickets/v1/tickets_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { parsePayload } from "../../../lib/ticket-payload.js";
import { TASK_QUEUES } from "../../../workflows/task-queues.js";
import { TicketsService } from "../../../gen/ticketing/tickets/v1/tickets_pb.js";
import { quietTemporal } from "../../booking/test/harness.js";
import { build as buildGateway } from "../../gateway/server.js";
import { createTicketActivities } from "../activities.js";
import { SigningKeysRepo } from "../db/keys.js";
import { generateSigningKey, signPayload } from "../domain/signing.js";
import { Keyring, UNKNOWN_KEY_RELOAD_INTERVAL_MS } from "../keyring.js";
import { ticketsTaskQueue, startTicketsWorker } from "../worker.js";
import { decodeSvg } from "./qr.js";
import { codeOf, errorOf, startTickets, type CallOptions, type TicketsHarness } from "./harness.js";

/*
 * Issuing, reading, voiding and key rotation on real engines: the tickets service in-process
 * over the network, its own Postgres database, the real users service for the holders' names,
 * and the Temporal dev server for the activities.
 */

let h: TicketsHarness;

beforeAll(async () => {
  quietTemporal();
  h = await startTickets();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function issue(userId: string, seatIds: string[], opts: { bookingId?: string; showtimeId?: string; holderName?: string } = {}) {
  const res = await h.grpc.issueTickets(
    { bookingId: opts.bookingId ?? randomUUID(), showtimeId: opts.showtimeId ?? randomUUID(), userId, seatIds, holderName: opts.holderName ?? "" },
    h.service,
  );
  return res.tickets;
}

const list = async (bookingId: string, who: CallOptions) => (await h.client.listBookingTickets({ bookingId }, who)).tickets;
const scan = async (payload: string, gate = "main") => (await h.client.checkIn({ payload, gate }, await h.as("door"))).result!;

describe("issuing", () => {
  it("one ticket per seat, signed with the active key, initials of the user's name from the users service", async () => {
    const ada = await h.user("Ada King Lovelace");
    const showtimeId = randomUUID();
    const tickets = await issue(ada.userId, ["R1S1", "R1S2"], { showtimeId });
    const active = (await h.client.listSigningKeys({})).keys.find((k) => k.active)!;
    expect(tickets.map((t) => [t.seatId, t.holder, t.status])).toEqual([
      ["R1S1", "AKL", "valid"],
      ["R1S2", "AKL", "valid"],
    ]);
    for (const t of tickets) {
      expect(parsePayload(t.payload).fields).toEqual({ keyId: active.keyId, ticketId: t.ticketId, showtimeId, seatId: t.seatId, holder: "AKL" });
    }
    expect(new Set(tickets.map((t) => t.ticketId)).size).toBe(2);
  });

  it("is idempotent per booking: again, and several at once, give the same ids and payloads", async () => {
    const u = await h.user();
    const bookingId = randomUUID();
    const showtimeId = randomUUID();
    const concurrent = await Promise.all([1, 2, 3, 4, 5].map(() => issue(u.userId, ["A1", "A2", "A3"], { bookingId, showtimeId })));
    const again = await issue(u.userId, ["A1", "A2", "A3"], { bookingId, showtimeId });
    const key = (ts: Ticket[]) => ts.map((t) => `${t.ticketId} ${t.seatId} ${t.payload}`);
    for (const r of [...concurrent, again]) expect(key(r)).toEqual(key(concurrent[0]));
    expect(await h.db("tickets").where({ booking_id: bookingId }).count({ n: "*" })).toEqual([{ n: "3" }]);
  });

  it("takes the holder's name when given; refuses bad input with the field named; only for services", async () => {
    const u = await h.user();
    const [t] = await issue(u.userId, ["B1"], { holderName: "Grace Brewster Murray Hopper" });
    expect(t.holder).toBe("GBH");
    const bad = await errorOf(issue(u.userId, ["B1", "B1"]));
    expect([bad.code, bad.rawMessage]).toEqual([Code.InvalidArgument, "seatIds[1]: B1 is listed twice"]);
    const bookingId = randomUUID();
    await issue(u.userId, ["C1"], { bookingId });
    expect(await codeOf(issue(u.userId, ["C1"], { bookingId, showtimeId: randomUUID() }))).toBe(Code.AlreadyExists);
    const req = { bookingId: randomUUID(), showtimeId: randomUUID(), userId: u.userId, seatIds: ["A1"] };
    expect(await codeOf(h.client.issueTickets(req, u))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.client.voidTickets({ bookingId }, await h.as("admin")))).toBe(Code.PermissionDenied);
  });
});

describe("reading a booking's tickets", () => {
  it("the owner gets them with a QR code (SVG) of each payload", async () => {
    const u = await h.user("Alan Turing");
    const bookingId = randomUUID();
    const issued = await issue(u.userId, ["R2S5", "R2S6"], { bookingId });
    const tickets = await list(bookingId, u);
    expect(tickets.map((t) => [t.ticketId, t.payload, t.status, t.holder])).toEqual(issued.map((t) => [t.ticketId, t.payload, "valid", "AT"]));
    for (const t of tickets) {
      expect(t.qrSvg).toBe(await QRCode.toString(t.payload, { type: "svg", errorCorrectionLevel: "M" }));
      expect(decodeSvg(t.qrSvg)).toBe(t.payload);
    }
  });

  it("nobody else: another user, a door user and an unknown booking all get 404 (never 403); admins may", async () => {
    const owner = await h.user();
    const bookingId = randomUUID();
    await issue(owner.userId, ["D1"], { bookingId });
    expect(await codeOf(list(bookingId, await h.user()))).toBe(Code.NotFound);
    expect(await codeOf(list(bookingId, await h.as("door")))).toBe(Code.NotFound);
    expect(await codeOf(list(randomUUID(), owner))).toBe(Code.NotFound);
    expect(await codeOf(h.client.listBookingTickets({ bookingId }))).toBe(Code.Unauthenticated);
    expect(await list(bookingId, await h.as("admin"))).toHaveLength(1);
    const bad = await errorOf(list("not-a-uuid", owner));
    expect(bad.code).toBe(Code.InvalidArgument);
  });

  it("shows a used ticket with its admission and a voided booking's tickets as voided", async () => {
    const u = await h.user();
    const bookingId = randomUUID();
    const [a] = await issue(u.userId, ["E1", "E2"], { bookingId });
    const admitted = await scan(a.payload, "north-2");
    expect(admitted.result).toBe("admitted");
    let tickets = await list(bookingId, u);
    expect(tickets.map((t) => t.status)).toEqual(["used", "valid"]);
    expect(tickets[0].checkedIn).toMatchObject({ gate: "north-2", scannedAt: admitted.firstScan!.scannedAt });
    await h.grpc.voidTickets({ bookingId }, h.service);
    tickets = await list(bookingId, u);
    expect(tickets.map((t) => t.status)).toEqual(["voided", "voided"]);
  });
});

describe("voiding", () => {
  it("is idempotent and counts what it voided; the voided tickets are refused at the door", async () => {
    const u = await h.user();
    const bookingId = randomUUID();
    const tickets = await issue(u.userId, ["F1", "F2"], { bookingId });
    expect((await h.grpc.voidTickets({ bookingId }, h.service)).voided).toBe(2);
    expect((await h.grpc.voidTickets({ bookingId }, h.service)).voided).toBe(0);
    expect((await h.grpc.voidTickets({ bookingId: randomUUID() }, h.service)).voided).toBe(0);
    for (const t of tickets) expect(await scan(t.payload)).toMatchObject({ result: "voided", ticketId: t.ticketId, seatId: t.seatId });
  });
});

describe("signing keys", () => {
  it("rotate: old tickets keep verifying, new ones carry the new key id, and another replica verifies a key it never loaded", async () => {
    const replica = await h.replica(); // started before the rotation: knows the old key only
    const u = await h.user();
    const [old] = await issue(u.userId, ["K1"]);
    const oldKey = parsePayload(old.payload).fields.keyId;

    expect(await codeOf(h.client.rotateSigningKey({}, await h.as("door")))).toBe(Code.PermissionDenied);
    const rotated = (await h.client.rotateSigningKey({}, await h.as("admin"))).key!;
    expect(rotated.keyId).not.toBe(oldKey);
    expect(rotated.active).toBe(true);

    const [fresh] = await issue(u.userId, ["K2"]);
    expect(parsePayload(fresh.payload).fields.keyId).toBe(rotated.keyId);
    // the replica signs with the new key too: it asks the database which key is active
    const [fromReplica] = (await replica.grpc.issueTickets({ bookingId: randomUUID(), showtimeId: randomUUID(), userId: u.userId, seatIds: ["K3"] }, h.service)).tickets;
    expect(parsePayload(fromReplica.payload).fields.keyId).toBe(rotated.keyId);

    const door = await h.as("door");
    expect((await h.client.checkIn({ payload: old.payload, gate: "g" }, door)).result!.result).toBe("admitted");
    expect((await replica.client.checkIn({ payload: fresh.payload, gate: "g" }, door)).result!.result).toBe("admitted");

    const keys = (await replica.client.listSigningKeys({})).keys; // public, no token
    expect(keys.filter((k) => k.active).map((k) => k.keyId)).toEqual([rotated.keyId]);
    expect(keys.map((k) => k.keyId)).toEqual(expect.arrayContaining([oldKey, rotated.keyId]));
    expect(Buffer.from(rotated.publicKey, "base64url")).toHaveLength(32);
  });

  it("a key id this process does not know reloads the keys, at most once per interval however many scans name one", async () => {
    let clock = 0;
    const repo = new SigningKeysRepo(h.db);
    const keyring = new Keyring(repo, () => clock);
    await keyring.start();
    const loads = jest.spyOn(repo, "all");
    const forger = generateSigningKey();
    const forged = signPayload({ keyId: forger.keyId, ticketId: randomUUID(), showtimeId: randomUUID(), seatId: "X1", holder: "" }, forger);
    for (let i = 0; i < 5; i++) expect(await keyring.verify(forged)).toMatchObject({ ok: false, reason: "unknown_key" });
    expect(loads).toHaveBeenCalledTimes(1);

    // another replica rotates; within the interval this one does not look again...
    await h.client.rotateSigningKey({}, await h.as("admin"));
    const [fresh] = await issue((await h.user()).userId, ["L1"]);
    expect(await keyring.verify(fresh.payload)).toMatchObject({ ok: false, reason: "unknown_key" });
    // ...after it, the first scan naming the new key loads it
    clock += UNKNOWN_KEY_RELOAD_INTERVAL_MS;
    expect(await keyring.verify(fresh.payload)).toMatchObject({ ok: true });
    expect(await keyring.verify(fresh.payload)).toMatchObject({ ok: true });
    expect(loads).toHaveBeenCalledTimes(2);
  });

  it("two rotations at once leave exactly one active key", async () => {
    const admin = await h.as("admin");
    const both = await Promise.all([h.client.rotateSigningKey({}, admin), h.client.rotateSigningKey({}, admin)]);
    const keys = (await h.client.listSigningKeys({})).keys;
    expect(keys.filter((k) => k.active).map((k) => k.keyId)).toHaveLength(1);
    expect(both.map((r) => r.key!.keyId)).toContain(keys.find((k) => k.active)!.keyId);
  });
});

describe("REST through the gateway", () => {
  it("serves the routes of the contract: tickets of a booking, check-ins, uploads, counts, signing keys", async () => {
    const gateway = await buildGateway({
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger(),
      upstreams: [{ service: TicketsService, backend: "tickets" }],
      urls: { tickets: h.url },
      corsOrigins: "*",
      maxBodyBytes: 64 * 1024,
      upstreamTimeoutMs: 5_000,
      serviceCredential: () => h.auth.serviceToken("gateway"),
    });
    const base = `http://127.0.0.1:${gateway.port}`;
    const rest = async (method: string, path: string, who: CallOptions | undefined, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: { ...who?.headers, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, json: (await r.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    try {
      const owner = await h.user("Katherine Johnson");
      const door = await h.as("door");
      const bookingId = randomUUID();
      const showtimeId = randomUUID();
      const [t] = await issue(owner.userId, ["R9S9"], { bookingId, showtimeId });

      const mine = await rest("GET", `/api/v1/bookings/${bookingId}/tickets`, owner);
      expect(mine.status).toBe(200);
      expect(mine.json.tickets).toEqual([expect.objectContaining({ ticketId: t.ticketId, seatId: "R9S9", payload: t.payload, status: "valid", holder: "KJ", qrSvg: expect.stringMatching(/^<svg /) })]);
      expect((await rest("GET", `/api/v1/bookings/${bookingId}/tickets`, await h.user())).status).toBe(404);

      const admitted = await rest("POST", "/api/v1/checkins", door, { payload: t.payload, gate: "west-1", showtimeId });
      expect(admitted).toMatchObject({ status: 200, json: { result: { result: "admitted", ticketId: t.ticketId, firstScan: { gate: "west-1" } } } });
      const again = await rest("POST", "/api/v1/checkins", door, { payload: t.payload, gate: "west-2" });
      expect(again).toMatchObject({ status: 200, json: { result: { result: "already_used", firstScan: admitted.json.result.firstScan } } });
      const bogus = await rest("POST", "/api/v1/checkins", door, { payload: "TK1:XYZ" });
      expect(bogus).toMatchObject({ status: 200, json: { result: { result: "invalid" } } });
      const empty = await rest("POST", "/api/v1/checkins", door, {});
      expect(empty.status).toBe(400);
      expect(empty.json.message).toContain("payload");
      expect((await rest("POST", "/api/v1/checkins", owner, { payload: t.payload })).status).toBe(403);

      const batch = await rest("POST", "/api/v1/checkins/batch", door, { scans: [{ payload: t.payload, gate: "east", scannedAt: "2020-01-01T19:00:00Z" }] });
      expect(batch).toMatchObject({ status: 200, json: { results: [{ result: "admitted", supersededScan: { gate: "west-1" } }] } });
      const counts = await rest("GET", `/api/v1/showtimes/${showtimeId}/checkins`, door);
      expect(counts).toMatchObject({ status: 200, json: { showtimeId, sold: "1", admitted: "1", duplicateEntries: "1" } });

      const keys = await rest("GET", "/api/v1/tickets/signing-keys", undefined);
      expect(keys.status).toBe(200);
      expect(keys.json.keys.filter((k: { active: boolean }) => k.active)).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });
});

describe("activities through Temporal", () => {
  it("issueTickets and voidTickets run on the tickets queue; a retry gives the same tickets; bad input fails at once", async () => {
    const suffix = `tickets-${randomUUID().slice(0, 8)}`;
    const workflowQueue = `${TASK_QUEUES.workflows}-${suffix}`;
    const worker = startTicketsWorker({
      address: process.env.TEST_TEMPORAL_ADDRESS!,
      namespace: "default",
      taskQueue: ticketsTaskQueue(suffix),
      activities: createTicketActivities({ office: h.server.office }),
      logger: silentLogger(),
    });
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const client = new TemporalClient({ connection, namespace: "default" });
    const workflowConnection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const workflows = await Worker.create({
      connection: workflowConnection,
      namespace: "default",
      taskQueue: workflowQueue,
      workflowsPath: require.resolve("./workflows"),
    });
    try {
      await worker.ready;
      await workflows.runUntil(async () => {
        const u = await h.user("Barbara Liskov");
        const input = { bookingId: randomUUID(), showtimeId: randomUUID(), userId: u.userId, seatIds: ["W1", "W2"] };
        const run = <T>(name: string, arg: unknown) =>
          client.workflow.execute(name, { taskQueue: workflowQueue, workflowId: `tickets-test-${randomUUID()}`, args: [arg] }) as Promise<T>;
        type Issued = { tickets: Array<{ ticketId: string; seatId: string; payload: string }> };
        const first = await run<Issued>("issueTicketsTestWorkflow", input);
        expect(first.tickets.map((t) => t.seatId)).toEqual(["W1", "W2"]);
        expect(parsePayload(first.tickets[0].payload).fields.holder).toBe("BL");
        expect(await run<Issued>("issueTicketsTestWorkflow", input)).toEqual(first);
        expect(await run("voidTicketsTestWorkflow", input.bookingId)).toEqual({ voided: 2 });

        const failed = await run("issueTicketsTestWorkflow", { ...input, bookingId: randomUUID(), seatIds: ["W1", "W1"] }).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(WorkflowFailedError);
        const cause = (failed as WorkflowFailedError).cause?.cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect(cause).toMatchObject({ nonRetryable: true, type: "IssueTicketsRejected", message: "seatIds[1]: W1 is listed twice" });
      });
    } finally {
      await worker.close();
      await workflowConnection.close();
      await connection.close();
    }
  }, 120_000);
});
