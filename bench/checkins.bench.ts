/**
 * Check-in at the door (issue #17): a 20,000-seat showtime sold out (its 20,000 tickets issued
 * through the tickets service's IssueTickets, as the booking workflow's activity issues them, in
 * bookings of 10 seats). First 16 scanners race for the same 500 tickets (each must be admitted
 * exactly once); then 16 scanners check the other 19,500 in through the REST gateway
 * (POST /api/v1/checkins, as door staff), each ticket by one scanner; then 2,000 second scans
 * must all be "already used", and the counts must say 20,000 admitted.
 *
 * Reported: check-ins per second, latency and CPU-ms of the whole stack per check-in, against a
 * floor measured right after on the same warm stack: the cheapest door-authenticated round trip
 * through the same gateway (GET /api/v1/tickets/signing-keys with the door token: one small read
 * of the tickets database, where a check-in runs one statement).
 *
 * Offline verification: what a scanner pays per ticket to verify payloads with the public key
 * alone, in this process: Node's crypto with the key imported once, and WebCrypto (what the
 * browser scanner uses).
 */
import { createPublicKey, verify, webcrypto } from "node:crypto";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { TicketsService } from "../gen/ticketing/tickets/v1/tickets_pb";
import { serviceCredential } from "../lib/auth";
import { createServiceClient } from "../lib/clients";
import { DEV_SERVICE_AUTH_SECRET } from "../lib/common-config";
import { portEnvVar } from "../lib/services";
import { parsePayload } from "../lib/ticket-payload";
import type { Benchmark, BenchContext } from "./context";
import { adminSession, cpuBreakdown, cpuSnapshot, cpuUsed, createShowtime, pool, progress, registerUsers } from "./platform";
import { ms, percentile } from "./stats";

const ROWS = 100;
const PER_ROW = 200;
const SEATS_PER_BOOKING = 10;
const SCANNERS = 16;
const FLOOR_REQUESTS = 4_000;
const RACE_TICKETS = 500;
const OFFLINE_VERIFICATIONS = 20_000;

interface Timed {
  latencies: number[];
  seconds: number;
  cpuSeconds: number;
  breakdown: string;
}

async function timed(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<Timed> {
  const latencies: number[] = [];
  const before = cpuSnapshot();
  const t0 = performance.now();
  await pool(
    Array.from({ length: n }, (_, i) => i),
    concurrency,
    async (i) => {
      const s = performance.now();
      await fn(i);
      latencies.push(performance.now() - s);
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const after = cpuSnapshot();
  latencies.sort((a, b) => a - b);
  return { latencies, seconds, cpuSeconds: cpuUsed(before, after), breakdown: cpuBreakdown(before, after, seconds) };
}

/** A door account: registered, granted the role by the admin, signed in again to carry it. */
async function doorSession(ctx: BenchContext): Promise<string> {
  const [door] = await registerUsers(ctx.rest, 1, "door");
  const admin = await adminSession(ctx.rest);
  const granted = await ctx.rest("PUT", `/api/v1/users/${door.userId}/role`, { role: "door" }, admin);
  if (granted.status !== 200) throw new Error(`grant door: ${granted.status} ${JSON.stringify(granted.body)}`);
  const me = await ctx.rest("GET", "/api/v1/me", undefined, door.token);
  const email = me.body.email as string;
  const login = await ctx.rest("POST", "/api/v1/auth/login", { email, password: "bench-password-1" });
  if (login.body.role !== "door") throw new Error(`door login: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.accessToken as string;
}

async function offlineCost(payloads: string[], keys: Array<{ keyId: string; publicKey: string }>) {
  const raw = new Map(keys.map((k) => [k.keyId, Buffer.from(k.publicKey, "base64url")]));
  // Node: the key as a KeyObject (SPKI = fixed 12-byte Ed25519 prefix + the raw key), made once
  const spkiPrefix = Buffer.from("302a300506032b6570032100", "hex");
  const nodeKeys = new Map([...raw].map(([id, k]) => [id, createPublicKey({ key: Buffer.concat([spkiPrefix, k]), format: "der", type: "spki" })]));
  const sample = Array.from({ length: OFFLINE_VERIFICATIONS }, (_, i) => payloads[i % payloads.length]);
  let ok = 0;
  let t0 = performance.now();
  for (const p of sample) {
    const parsed = parsePayload(p);
    if (verify(null, parsed.signed, nodeKeys.get(parsed.fields.keyId)!, parsed.signature)) ok++;
  }
  const nodeUs = ((performance.now() - t0) * 1000) / sample.length;
  const subtle = webcrypto.subtle;
  const webKeys = new Map(
    await Promise.all([...raw].map(async ([id, k]) => [id, await subtle.importKey("raw", k, { name: "Ed25519" }, false, ["verify"])] as const)),
  );
  t0 = performance.now();
  for (const p of sample) {
    const parsed = parsePayload(p);
    if (await subtle.verify({ name: "Ed25519" }, webKeys.get(parsed.fields.keyId)!, parsed.signature, parsed.signed)) ok++;
  }
  const webUs = ((performance.now() - t0) * 1000) / sample.length;
  t0 = performance.now();
  for (const p of sample) parsePayload(p);
  const parseUs = ((performance.now() - t0) * 1000) / sample.length;
  return { nodeUs, webUs, parseUs, ok, n: sample.length * 2 };
}

export const checkinsBench: Benchmark = {
  name: "check-in: 16 scanners at the door of a 20,000-seat showtime",
  async run(ctx) {
    const st = await createShowtime(ctx.rest, ctx.adminToken, "Door", ROWS, PER_ROW);
    const seatIds = st.seatRows.flat();
    const tickets = createServiceClient(
      TicketsService,
      `http://127.0.0.1:${ctx.stack.ports[portEnvVar("tickets")]}`,
      serviceCredential(DEV_SERVICE_AUTH_SECRET, "bench"),
    );
    progress(`issuing ${seatIds.length} tickets`);
    const bookings = Array.from({ length: seatIds.length / SEATS_PER_BOOKING }, (_, i) => seatIds.slice(i * SEATS_PER_BOOKING, (i + 1) * SEATS_PER_BOOKING));
    const payloads: string[] = [];
    const issue = await timed(bookings.length, 8, async (i) => {
      const res = await tickets.issueTickets({
        bookingId: randomUUID(),
        showtimeId: st.showtimeId,
        userId: randomUUID(),
        seatIds: bookings[i],
        holderName: "Bench Buyer",
      });
      for (const t of res.tickets) payloads.push(t.payload);
    });
    const doorToken = await doorSession(ctx);
    const outcomes = new Map<string, number>();
    const scan = async (payload: string, gate: string) => {
      const r = await ctx.rest("POST", "/api/v1/checkins", { payload, gate, showtimeId: st.showtimeId }, doorToken);
      const result = r.status === 200 ? (r.body.result as string) : `HTTP ${r.status}`;
      outcomes.set(result, (outcomes.get(result) ?? 0) + 1);
      return result;
    };
    // the race first, on tickets nobody scanned yet: every scanner scans each of them
    const race = payloads.slice(0, RACE_TICKETS);
    const raceResults = await pool(
      race.flatMap((p) => Array.from({ length: SCANNERS }, (_, g) => [p, `gate-${g}`] as const)),
      SCANNERS,
      ([p, gate]) => scan(p, gate),
    );
    const raceAdmitted = raceResults.filter((r) => r === "admitted").length;
    outcomes.clear();
    progress(`checking in ${payloads.length - RACE_TICKETS} tickets with ${SCANNERS} scanners`);
    const rest = payloads.slice(RACE_TICKETS);
    const door = await timed(rest.length, SCANNERS, async (i) => {
      await scan(rest[i], `gate-${i % SCANNERS}`);
    });
    const admittedFirstPass = outcomes.get("admitted") ?? 0;
    // the floor after the check-ins, so both run on a warm stack
    const floor = await timed(FLOOR_REQUESTS, SCANNERS, async () => {
      const r = await ctx.rest("GET", "/api/v1/tickets/signing-keys", undefined, doorToken);
      if (r.status !== 200) throw new Error(`signing keys: ${r.status}`);
    });

    outcomes.clear();
    const again = await pool(payloads.slice(0, 2_000), SCANNERS, (p) => scan(p, "gate-x"));
    const alreadyUsed = again.filter((r) => r === "already_used").length;
    const stats = await ctx.rest("GET", `/api/v1/showtimes/${st.showtimeId}/checkins`, undefined, doorToken);
    const keys = await ctx.rest("GET", "/api/v1/tickets/signing-keys");
    const offline = await offlineCost(payloads, keys.body.keys as Array<{ keyId: string; publicKey: string }>);

    const p = (t: Timed, q: number) => ms(percentile(t.latencies, q));
    const cpuMs = (t: Timed) => ((t.cpuSeconds * 1000) / t.latencies.length).toFixed(2);
    const rate = (t: Timed) => (t.latencies.length / t.seconds).toFixed(0);
    return [
      `One showtime of ${seatIds.length.toLocaleString("en")} seats; ${payloads.length.toLocaleString("en")} tickets issued through IssueTickets ` +
        `(${bookings.length} bookings of ${SEATS_PER_BOOKING}, 8 at a time: ${rate(issue)} bookings/s, ${((issue.cpuSeconds * 1000) / payloads.length).toFixed(2)} CPU-ms per ticket). ` +
        `${SCANNERS} scanners over REST as one door account, each ticket scanned by one of them, closed loop. ` +
        `CPU: utime + stime of every process of the stack and of this load generator; ${os.cpus().length} cores.`,
      "",
      "| | requests | per second | p50 | p95 | p99 | CPU-ms per request |",
      "|---|---|---|---|---|---|---|",
      `| check-in (POST /api/v1/checkins) | ${door.latencies.length} | ${rate(door)} | ${p(door, 50)} | ${p(door, 95)} | ${p(door, 99)} | ${cpuMs(door)} |`,
      `| floor: GET /api/v1/tickets/signing-keys, door token | ${floor.latencies.length} | ${rate(floor)} | ${p(floor, 50)} | ${p(floor, 95)} | ${p(floor, 99)} | ${cpuMs(floor)} |`,
      "",
      `Check-in / floor: p50 ${(percentile(door.latencies, 50) / percentile(floor.latencies, 50)).toFixed(2)}×, ` +
        `CPU per request ${((door.cpuSeconds / door.latencies.length) / (floor.cpuSeconds / floor.latencies.length)).toFixed(2)}×. ` +
        `At this cost the stack checks in about ${((os.cpus().length * 1000) / Number(cpuMs(door))).toFixed(0)} tickets per second per ${os.cpus().length} cores ` +
        `(${(seatIds.length / Number(rate(door)) / 60).toFixed(1)} minutes for the whole house at the measured rate).`,
      "",
      `Where the check-ins' CPU went: ${door.breakdown}.`,
      "",
      `Correctness in the same run: first pass ${admittedFirstPass} of ${rest.length} admitted; ` +
        `the race (${SCANNERS} scanners on each of ${RACE_TICKETS} tickets at once) admitted ${raceAdmitted} (must be ${RACE_TICKETS}); ` +
        `a second scan of 2,000 tickets: ${alreadyUsed} already used; the showtime's counts: ${JSON.stringify(stats.body)}.`,
      "",
      `Offline verification (a scanner with the public key only), ${OFFLINE_VERIFICATIONS.toLocaleString("en")} payloads in this process: ` +
        `Node crypto ${offline.nodeUs.toFixed(1)} µs per ticket, WebCrypto ${offline.webUs.toFixed(1)} µs per ticket ` +
        `(of which parsing the payload ${offline.parseUs.toFixed(1)} µs); ${offline.ok} of ${offline.n} verified.`,
    ].join("\n");
  },
};
