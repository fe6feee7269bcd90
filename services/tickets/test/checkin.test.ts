import { randomUUID, sign } from "node:crypto";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { CheckInResult, Ticket } from "../../../gen/ticketing/tickets/v1/tickets_pb.js";
import { formatPayload, parsePayload, signedBytes } from "../../../lib/ticket-payload.js";
import { generateSigningKey, privateKeyFromPem, signPayload } from "../domain/signing.js";
import { codeOf, errorOf, startTickets, type CallOptions, type TicketsHarness } from "./harness.js";

/*
 * Check-in on real engines, through the service over the network: what each answer means, one
 * admission per ticket under 50 simultaneous scans, voids racing scans, and offline uploads
 * reconciled by the time of the scan.
 */

let h: TicketsHarness;
let door: CallOptions & { userId: string };

beforeAll(async () => {
  h = await startTickets();
  door = await h.as("door");
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function issue(seatIds: string[], showtimeId: string = randomUUID()): Promise<{ bookingId: string; showtimeId: string; tickets: Ticket[] }> {
  const u = await h.user("Edsger Wybe Dijkstra");
  const bookingId = randomUUID();
  const { tickets } = await h.grpc.issueTickets({ bookingId, showtimeId, userId: u.userId, seatIds }, h.service);
  return { bookingId, showtimeId, tickets };
}

async function checkIn(payload: string, opts: { gate?: string; showtimeId?: string; who?: CallOptions } = {}): Promise<CheckInResult> {
  return (await h.client.checkIn({ payload, gate: opts.gate ?? "main", showtimeId: opts.showtimeId ?? "" }, opts.who ?? door)).result!;
}

const checkins = (ticketId: string) => h.db("checkins").where({ ticket_id: ticketId });
const minute = (m: number) => new Date(Date.UTC(2027, 4, 1, 19, m));
const scanAt = (r: CheckInResult["firstScan"]) => r && { at: timestampDate(r.scannedAt!).toISOString(), gate: r.gate };

describe("CheckIn", () => {
  it("admits a ticket once: door users and admins may scan, plain users may not", async () => {
    const { tickets } = await issue(["R1S1"]);
    const t = tickets[0];
    expect(await codeOf(checkIn(t.payload, { who: await h.user() }))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.client.checkIn({ payload: t.payload }))).toBe(Code.Unauthenticated);
    const first = await checkIn(t.payload, { gate: "north-2" });
    expect(first).toMatchObject({ result: "admitted", ticketId: t.ticketId, seatId: "R1S1", holder: "EWD", showtimeId: t.showtimeId, reason: "" });
    expect(first.firstScan!.gate).toBe("north-2");
    const again = await checkIn(t.payload, { gate: "south-1", who: await h.as("admin") });
    expect(again).toMatchObject({ result: "already_used", ticketId: t.ticketId });
    expect(scanAt(again.firstScan)).toEqual(scanAt(first.firstScan));
    expect(await checkins(t.ticketId)).toHaveLength(1);
  });

  it("refuses forged, altered and unknown payloads as invalid, with a reason, and admits nothing", async () => {
    const { tickets } = await issue(["R1S2"]);
    const t = tickets[0];
    const f = parsePayload(t.payload).fields;
    const forger = generateSigningKey();
    const forgedSigned = signedBytes(f); // our key id, the forger's signature
    const forged = formatPayload(forgedSigned, new Uint8Array(sign(null, forgedSigned, forger.privateKey!)));
    const otherKey = signPayload({ ...f, keyId: forger.keyId }, forger);
    const { signature } = parsePayload(t.payload);
    const otherSeat = formatPayload(signedBytes({ ...f, seatId: "R1S9" }), signature);
    const answers = await Promise.all([forged, otherKey, otherSeat, "TK1:NOTATICKET", "hello"].map((p) => checkIn(p)));
    expect(answers.map((a) => [a.result, a.reason, a.ticketId])).toEqual([
      ["invalid", "the ticket has been altered or forged (signature does not match)", ""],
      ["invalid", "not signed by a key of this platform", ""],
      ["invalid", "the ticket has been altered or forged (signature does not match)", ""],
      ["invalid", "not a ticket of this platform (unreadable code)", ""],
      ["invalid", "not a ticket of this platform (unreadable code)", ""],
    ]);
    expect(await checkins(t.ticketId)).toHaveLength(0);
    expect((await checkIn(t.payload)).result).toBe("admitted");
  });

  it("refuses a payload our key signed for a ticket we never issued, or that differs from the one issued", async () => {
    const { tickets } = await issue(["R1S3"]);
    const row = await h.db("signing_keys").where({ active: true }).first();
    const key = { keyId: row.key_id as string, publicKeyRaw: new Uint8Array(), publicKey: undefined as never, privateKey: privateKeyFromPem(row.private_key) };
    const f = parsePayload(tickets[0].payload).fields;
    const never = await checkIn(signPayload({ ...f, keyId: key.keyId, ticketId: randomUUID() }, key));
    expect([never.result, never.reason]).toEqual(["invalid", "not a ticket issued here (unknown ticket id)"]);
    const differs = await checkIn(signPayload({ ...f, keyId: key.keyId, seatId: "VIP-1" }, key));
    expect([differs.result, differs.reason]).toEqual(["invalid", "does not match the ticket issued under this id"]);
    expect(await checkins(f.ticketId)).toHaveLength(0);
  });

  it("answers wrong_showtime at another showtime's gate, and the ticket still gets in at its own", async () => {
    const { showtimeId, tickets } = await issue(["R2S1"]);
    const t = tickets[0];
    const elsewhere = await checkIn(t.payload, { showtimeId: randomUUID() });
    expect(elsewhere).toMatchObject({ result: "wrong_showtime", ticketId: t.ticketId, showtimeId, reason: "this ticket is for another showtime" });
    expect(await checkins(t.ticketId)).toHaveLength(0);
    expect((await checkIn(t.payload, { showtimeId })).result).toBe("admitted");
  });

  it("50 gates scanning one ticket at the same moment: exactly one admitted, 49 already_used with the winner's time and gate", async () => {
    const { tickets } = await issue(["R3S1", "R3S2", "R3S3"]);
    for (const t of tickets) {
      // gRPC over HTTP/2, as a scanner fleet behind the gateway would arrive
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => h.grpc.checkIn({ payload: t.payload, gate: `gate-${i}` }, door).then((r) => r.result!)),
      );
      const admitted = answers.filter((a) => a.result === "admitted");
      expect(admitted).toHaveLength(1);
      const winner = scanAt(admitted[0].firstScan);
      const losers = answers.filter((a) => a.result !== "admitted");
      expect(losers).toHaveLength(49);
      for (const a of losers) {
        expect(a.result).toBe("already_used");
        expect(scanAt(a.firstScan)).toEqual(winner);
      }
      const rows = await checkins(t.ticketId);
      expect(rows.map((r) => ({ at: r.scanned_at.toISOString(), gate: r.gate }))).toEqual([winner]);
    }
  });

  it("a void racing a scan: either the scan admitted before the void, or the ticket is refused as voided; never both, never lost", async () => {
    for (let i = 0; i < 8; i++) {
      const { bookingId, tickets } = await issue(["R4S1"]);
      const t = tickets[0];
      const [scan, voided] = await Promise.all([checkIn(t.payload), h.grpc.voidTickets({ bookingId }, h.service)]);
      expect(voided.voided).toBe(1);
      const rows = await checkins(t.ticketId);
      if (scan.result === "admitted") expect(rows).toHaveLength(1);
      else expect([scan.result, rows.length]).toEqual(["voided", 0]);
      expect((await checkIn(t.payload)).result).toBe("voided");
    }
  });
});

describe("UploadScans (offline scanners)", () => {
  const upload = async (scans: Array<{ payload: string; at: Date; gate: string; showtimeId?: string }>) =>
    (
      await h.client.uploadScans(
        { scans: scans.map((s) => ({ payload: s.payload, gate: s.gate, scannedAt: timestampFromDate(s.at), showtimeId: s.showtimeId ?? "" })) },
        door,
      )
    ).results;
  const stats = async (showtimeId: string) => {
    const s = await h.client.getCheckInStats({ showtimeId }, door);
    return { sold: Number(s.sold), admitted: Number(s.admitted), voided: Number(s.voided), duplicateEntries: Number(s.duplicateEntries) };
  };

  it("reconciles by scan time: an earlier offline scan uploaded after a later online one becomes the admission and reports the later one", async () => {
    const { showtimeId, tickets } = await issue(["R5S1", "R5S2"]);
    const t = tickets[0];
    // online at 19:05 at the north gate (a scanner that queued it sends its time)
    const online = (await h.client.checkIn({ payload: t.payload, gate: "north", scannedAt: timestampFromDate(minute(5)) }, door)).result!;
    expect(online.result).toBe("admitted");

    // the east scanner was offline and let the holder in at 19:00
    const [earlier] = await upload([{ payload: t.payload, at: minute(0), gate: "east" }]);
    expect(earlier.result).toBe("admitted");
    expect(scanAt(earlier.firstScan)).toEqual({ at: minute(0).toISOString(), gate: "east" });
    expect(scanAt(earlier.supersededScan)).toEqual({ at: minute(5).toISOString(), gate: "north" });

    // the same upload again (a scanner retrying) changes nothing and answers alike
    const before = { checkins: await checkins(t.ticketId), dups: await h.db("duplicate_entries").where({ ticket_id: t.ticketId }).orderBy("scanned_at") };
    const [repeated] = await upload([{ payload: t.payload, at: minute(0), gate: "east" }]);
    expect(repeated.result).toBe("admitted");
    expect(scanAt(repeated.firstScan)).toEqual({ at: minute(0).toISOString(), gate: "east" });
    expect(await checkins(t.ticketId)).toEqual(before.checkins);
    expect(await h.db("duplicate_entries").where({ ticket_id: t.ticketId }).orderBy("scanned_at")).toEqual(before.dups);

    // a later offline scan (west, 19:10): already used since 19:00 east, recorded as a duplicate entry
    const [later] = await upload([{ payload: t.payload, at: minute(10), gate: "west" }]);
    expect(later.result).toBe("already_used");
    expect(scanAt(later.firstScan)).toEqual({ at: minute(0).toISOString(), gate: "east" });
    const [laterAgain] = await upload([{ payload: t.payload, at: minute(10), gate: "west" }]);
    expect(laterAgain.result).toBe("already_used");

    // online now: already used, since 19:00 at the east gate
    expect(scanAt((await checkIn(t.payload)).firstScan)).toEqual({ at: minute(0).toISOString(), gate: "east" });

    const dups = await h.db("duplicate_entries").where({ ticket_id: t.ticketId }).orderBy("scanned_at");
    expect(dups.map((d) => [d.scanned_at.toISOString(), d.gate, d.source])).toEqual([
      [minute(5).toISOString(), "north", "online"],
      [minute(10).toISOString(), "west", "offline"],
    ]);
    expect(await stats(showtimeId)).toEqual({ sold: 2, admitted: 1, voided: 0, duplicateEntries: 2 });
  });

  it("answers each scan of a batch in order: admitted, invalid, wrong showtime, voided", async () => {
    const a = await issue(["R6S1"]);
    const v = await issue(["R6S2"], a.showtimeId);
    await h.grpc.voidTickets({ bookingId: v.bookingId }, h.service);
    const results = await upload([
      { payload: a.tickets[0].payload, at: minute(1), gate: "east", showtimeId: a.showtimeId },
      { payload: "TK1:AAAA", at: minute(2), gate: "east" },
      { payload: a.tickets[0].payload, at: minute(3), gate: "east", showtimeId: randomUUID() },
      { payload: v.tickets[0].payload, at: minute(4), gate: "east" },
    ]);
    expect(results.map((r) => r.result)).toEqual(["admitted", "invalid", "wrong_showtime", "voided"]);
    expect(await stats(a.showtimeId)).toEqual({ sold: 1, admitted: 1, voided: 1, duplicateEntries: 0 });
  });

  it("refuses a batch without scans or a scan without its time (400 naming the field); plain users may not upload or read counts", async () => {
    const { tickets } = await issue(["R7S1"]);
    expect((await errorOf(h.client.uploadScans({ scans: [] }, door))).code).toBe(Code.InvalidArgument);
    const noTime = await errorOf(h.client.uploadScans({ scans: [{ payload: tickets[0].payload, gate: "x" }] }, door));
    expect(noTime.code).toBe(Code.InvalidArgument);
    expect(noTime.rawMessage).toBe("scans[0].scannedAt: value is required");
    const user = await h.user();
    expect(await codeOf(h.client.uploadScans({ scans: [{ payload: tickets[0].payload, scannedAt: timestampFromDate(minute(1)) }] }, user))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.client.getCheckInStats({ showtimeId: randomUUID() }, user))).toBe(Code.PermissionDenied);
  });
});

describe("GetCheckInStats", () => {
  it("counts admitted against sold; a ticket voided after its holder got in counts as voided, not admitted", async () => {
    const { showtimeId, tickets } = await issue(["R8S1", "R8S2", "R8S3"]);
    const other = await issue(["R8S4"], showtimeId);
    await checkIn(tickets[0].payload);
    await checkIn(other.tickets[0].payload);
    await h.grpc.voidTickets({ bookingId: other.bookingId }, h.service);
    const s = await h.client.getCheckInStats({ showtimeId }, await h.as("admin"));
    expect({ sold: s.sold, admitted: s.admitted, voided: s.voided, duplicateEntries: s.duplicateEntries, showtimeId: s.showtimeId }).toEqual({
      sold: 3n,
      admitted: 1n,
      voided: 1n,
      duplicateEntries: 0n,
      showtimeId,
    });
  });
});
