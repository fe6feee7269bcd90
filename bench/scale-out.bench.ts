/**
 * Scale-out on one box (issue 15, items 3 and 4): the platform started as `npm start` starts it,
 * once with one process per tier and once with REPLICAS=2 (two each of gateway, booking, payments
 * and the workflow worker, on the one Postgres and the one Temporal), each stack measured alone on
 * the same machine, the load split over its gateways. Per stack: the hot-showtime holds of the
 * holds bench and the full bookings of the bookings bench (closed loop: the maximum), then an
 * open-loop load at half those maxima (latency below saturation), and the data checked after.
 */
import os from "node:os";
import knexFactory, { type Knex } from "knex";
import { startStack } from "../scripts/platform-stack";
import { bookOnce, failureRecorder, runLevel, seatsFor, serverSideTimes, verify, type Done, type LevelResult } from "./bookings.bench";
import { BENCH_LIMITS, restClient, type Rest, type StandaloneBenchmark } from "./context";
import { integrityText, restScenario, startBacklog } from "./holds.bench";
import { CONCURRENCY, MAX_HELD_PER_USER, pickSeats, USERS_PER_CLIENT, type ScenarioResult } from "./holds-scenarios";
import { openLoop, scheduleText, type OpenLoopResult } from "./open-loop";
import {
  adminSession,
  cpuBreakdown,
  cpuSnapshot,
  createShowtime,
  inventoryIntegrity,
  progress,
  QUIET_CORES,
  registerUsers,
  sleep,
  waitUntilQuiet,
  type BenchShowtime,
  type Integrity,
  type Session,
} from "./platform";
import { ms, percentile } from "./stats";

/** Replicas of each stack, in order (ABBA: a drift in the machine's other load hits both counts alike); the first of each count also runs the open loop. */
const REPLICA_ORDER = [1, 2, 2, 1];
const BOOKING_CLIENTS = 16;
const BOOKINGS = 240;
const BOOKINGS_WARMUP = 32;
/** The open-loop load runs at this share of the closed-loop maximum of the same stack. */
const LOAD_SHARE = 0.5;
const OPEN_HOLD_SECONDS = 15;
const OPEN_BOOKING_SECONDS = 30;
/** Targets of issue 15. */
const HOLD_P99_TARGET_MS = 100;
/** The idle stack is watched this long before the load, for what its processes cost doing nothing. */
const IDLE_SECONDS = 10;
const CONFIRM_P95_TARGET_MS = 500;

interface OpenResult {
  openHolds: OpenLoopResult;
  openHoldsIntegrity: Integrity;
  openBookings: OpenLoopResult;
  openConfirm: number[];
  openDone: Done[];
  /** How long the stack took to become quiet before the holds and before the bookings. */
  quietMs: [number, number];
}

interface Measured {
  replicas: number;
  /** Place of this stack in the run (1-based): the order is 1, 2, 2, 1 replicas, so drift in the machine's other load cancels. */
  order: number;
  holds: ScenarioResult;
  bookings: LevelResult;
  open?: OpenResult;
  check: { ok: boolean; text: string };
  /** Bookings of the bookings showtime whose payment succeeded but that are not confirmed. */
  lost: number;
  bookingsIntegrity: Integrity;
  /** The idle stack's CPU over IDLE_SECONDS before the load (pollers, timers): its fixed cost, per process. */
  idle: string;
}

/** Paid (payment intent succeeded) but not confirmed: a lost booking. */
async function lostBookings(db: Knex, showtimeId: string): Promise<number> {
  const { rows } = await db.raw(
    `SELECT count(*)::int AS lost FROM booking.bookings b JOIN payments.payment_intents pi ON pi.booking_id = b.id
     WHERE b.showtime_id = ? AND pi.status = 'succeeded' AND b.status <> 'confirmed'`,
    [showtimeId],
  );
  return rows[0].lost as number;
}

/**
 * Open loop at half of each closed-loop maximum: holds on a 20,000-seat showtime (little
 * contention), then, once their workflows have all started, whole bookings.
 */
async function openLoads(
  db: Knex,
  rests: Rest[],
  users: Session[],
  wide: BenchShowtime,
  bookShow: BenchShowtime,
  maxima: { holdRequestsPerS: number; bookingsPerS: number },
  firstSeat: number,
): Promise<OpenResult> {
  const quietBeforeHolds = await waitUntilQuiet();
  const seatsHeld = new Map<number, number>();
  let cursor = 0;
  const openHolds = await openLoop({
    rate: LOAD_SHARE * maxima.holdRequestsPerS,
    seconds: OPEN_HOLD_SECONDS,
    op: async (i) => {
      const seatIds = pickSeats(wide);
      let u = -1;
      for (let k = 0; k < users.length && u < 0; k++, cursor = (cursor + 1) % users.length) {
        if ((seatsHeld.get(cursor) ?? 0) + seatIds.length <= MAX_HELD_PER_USER) u = cursor;
      }
      if (u < 0) return "no user with room";
      seatsHeld.set(u, (seatsHeld.get(u) ?? 0) + seatIds.length);
      const r = await rests[i % rests.length]("POST", `/api/v1/showtimes/${wide.showtimeId}/seats/reserve`, { seatIds, holdTimeoutSeconds: 600 }, users[u].token);
      if (r.status === 201) return "held";
      seatsHeld.set(u, (seatsHeld.get(u) ?? 0) - seatIds.length);
      return r.status === 409 ? "taken" : `http ${r.status}`;
    },
  });
  progress(`open-loop holds: ${scheduleText(openHolds)}; hold p99 ${ms(openHolds.out.p(99, "held"))}`);
  const openHoldsIntegrity = await inventoryIntegrity(db, wide.showtimeId);
  // the holds' booking workflows start after their answers: let those starts finish before the next load
  const holdStarts = await startBacklog(db);
  progress(`open-loop holds' workflow starts: ${holdStarts.pending} queued at the end, drained in ${ms(holdStarts.drainMs)}`);
  const quietBeforeBookings = await waitUntilQuiet();

  const openDone: Done[] = [];
  const errors: string[] = [];
  const fail = failureRecorder(errors);
  const openBookings = await openLoop({
    rate: LOAD_SHARE * maxima.bookingsPerS,
    seconds: OPEN_BOOKING_SECONDS,
    op: async (i) => {
      const booked = await bookOnce(rests[i % rests.length], bookShow.showtimeId, users[i % users.length], seatsFor(bookShow, firstSeat + i), () => undefined, fail);
      if (typeof booked === "string") return booked;
      openDone.push(booked);
      return "confirmed";
    },
  });
  const { confirm: openConfirm } = await serverSideTimes(db, openDone.map((d) => d.bookingId));
  progress(`open-loop bookings: ${scheduleText(openBookings)}; webhook → confirmed p95 ${ms(percentile(openConfirm, 95))}`);
  if (errors.length) progress(`open-loop booking errors: ${errors.join(" · ")}`);
  return { openHolds, openHoldsIntegrity, openBookings, openConfirm, openDone, quietMs: [quietBeforeHolds, quietBeforeBookings] };
}

async function measure(replicas: number, order: number, withOpenLoop: boolean): Promise<Measured> {
  progress(`stack ${order}: starting the platform with ${replicas} replica(s) of gateway, booking, payments, workflow worker`);
  const stack = await startStack(BENCH_LIMITS, replicas);
  // Ctrl-C or a kill: the stack (its own process tree) goes too, rather than running on orphaned
  const onSignal = (signal: NodeJS.Signals) => void stack.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const db = knexFactory({ client: "pg", connection: stack.databaseUrl, pool: { min: 0, max: 2 } });
  try {
    const rests = stack.gateways.map(restClient);
    const rest = rests[0];
    const adminToken = await adminSession(rest);
    const ctx = { stack, adminToken, rest };
    const hot = await createShowtime(rest, adminToken, "Scale-out 1k", 20, 50);
    const bookShow = await createShowtime(rest, adminToken, "Scale-out bookings", 50, 200);
    const users = await registerUsers(rest, CONCURRENCY * USERS_PER_CLIENT, `scale${replicas}`);
    await sleep(2000);
    const idleBefore = cpuSnapshot();
    await sleep(IDLE_SECONDS * 1000);
    const idle = cpuBreakdown(idleBefore, cpuSnapshot(), IDLE_SECONDS);

    // closed loop: the maxima
    const holds = await restScenario(ctx, db, `${replicas} replica(s): REST holds, 1,000-seat showtime`, hot, users, rests);
    const warm = await runLevel(ctx, db, bookShow, users, BOOKING_CLIENTS, BOOKINGS_WARMUP, 0, rests);
    const bookings = await runLevel(ctx, db, bookShow, users, BOOKING_CLIENTS, BOOKINGS, BOOKINGS_WARMUP, rests);
    const maxima = { holdRequestsPerS: holds.out.count() / holds.out.seconds, bookingsPerS: bookings.out.count("confirmed") / bookings.out.seconds };
    const open = withOpenLoop
      ? await openLoads(db, rests, users, await createShowtime(rest, adminToken, "Scale-out open 20k", 100, 200), bookShow, maxima, BOOKINGS_WARMUP + BOOKINGS)
      : undefined;

    const check = await verify(db, [...warm.done, ...bookings.done, ...(open?.openDone ?? [])]);
    const lost = await lostBookings(db, bookShow.showtimeId);
    const bookingsIntegrity = await inventoryIntegrity(db, bookShow.showtimeId);
    return { replicas, order, holds, bookings, open, check, lost, bookingsIntegrity, idle };
  } finally {
    await db.destroy();
    await stack.stop();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

export const scaleOutBench: StandaloneBenchmark = {
  name: "scale-out: 1 vs 2 replicas, and latency at half the maximum",
  standalone: true,
  async run() {
    const runs: Measured[] = [];
    for (const [i, n] of REPLICA_ORDER.entries()) runs.push(await measure(n, i + 1, REPLICA_ORDER.indexOf(n) === i));
    return report(runs);
  },
};

const f1 = (v: number) => v.toFixed(1);
const met = (ok: boolean) => (ok ? "**met**" : "**missed**");
const holdReqPerS = (m: Measured) => m.holds.out.count() / m.holds.out.seconds;
const bookingsPerS = (m: Measured) => m.bookings.out.count("confirmed") / m.bookings.out.seconds;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const doubleBooked = (m: Measured) =>
  Math.max(m.bookingsIntegrity.doubleBooked, m.open?.openHoldsIntegrity.doubleBooked ?? 0, m.holds.clientOverlaps, ...m.holds.integrity.map((c) => c.doubleBooked));
const dataOk = (m: Measured) =>
  m.check.ok && m.lost === 0 && m.bookingsIntegrity.ok && (m.open?.openHoldsIntegrity.ok ?? true) && m.holds.integrity.every((c) => c.ok) && m.holds.clientOverlaps === 0;

function report(runs: Measured[]): string {
  const cores = os.cpus().length;
  const of = (n: number) => runs.filter((m) => m.replicas === n);
  /** Mean over the stacks of n replicas. */
  const avg = (n: number, f: (m: Measured) => number) => mean(of(n).map(f));
  const ratio = (f: (m: Measured) => number) => avg(2, f) / avg(1, f);
  const holdRatio = ratio(holdReqPerS);
  const bookingRatio = ratio(bookingsPerS);
  const open = runs.filter((m): m is Measured & { open: OpenResult } => m.open !== undefined);
  return [
    `${runs.length} stacks, one after the other, each started as \`npm start\` starts it and measured alone on this ${cores}-core machine (equal total cores), ` +
      `in the order ${REPLICA_ORDER.join(", ")} replicas (so a drift in the machine's other load hits both counts alike): \`REPLICAS=1\`, or ` +
      "`REPLICAS=2` (two processes each of gateway, booking, payments and the workflow worker, one Postgres, one Temporal dev server; users, " +
      "catalog, search, notifications and reviews stay single). The load is split over the stack's gateways (client _w_ uses gateway _w_ mod " +
      "their number), and the gateways and services spread their calls to booking and payments over the replicas in turn. " +
      `Holds: the holds bench's 1,000-seat scenario (${CONCURRENCY} closed-loop clients, its rounds, cancellations and checks). Bookings: ` +
      `the bookings bench's flow, ${BOOKING_CLIENTS} closed-loop clients, ${BOOKINGS} bookings after ${BOOKINGS_WARMUP} warm-up ones. ` +
      "CPU per operation is the whole stack's (every process, the load generator included, from /proc), as in the other sections.",
    "",
    "| stack | replicas | hold requests/s | holds/s | hold p99 | CPU-ms per hold request | bookings/s | booking p95 | CPU-ms per booking (Temporal's share) | webhook → confirmed p95 |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...runs.map(
      (m) =>
        `| ${m.order} | ${m.replicas} | **${f1(holdReqPerS(m))}** | ${f1(m.holds.out.count("held") / m.holds.out.seconds)} | ${ms(m.holds.out.p(99, "held"))} | ` +
        `${f1(m.holds.cpuPerRequestMs ?? Number.NaN)} | **${f1(bookingsPerS(m))}** | ${ms(m.bookings.out.p(95, "confirmed"))} | ` +
        `${m.bookings.cpuPerBookingMs.all.toFixed(0)} (${m.bookings.cpuPerBookingMs.temporal.toFixed(0)}) | ${ms(percentile(m.bookings.confirm, 95))} |`,
    ),
    "",
    `2 replicas / 1 replica (means of the stacks of each count): hold requests/s **${holdRatio.toFixed(2)}×**, bookings/s **${bookingRatio.toFixed(2)}×**; ` +
      `CPU per hold request ${ratio((m) => m.holds.cpuPerRequestMs ?? Number.NaN).toFixed(2)}× (${f1(avg(1, (m) => m.holds.cpuPerRequestMs ?? Number.NaN))} → ` +
      `${f1(avg(2, (m) => m.holds.cpuPerRequestMs ?? Number.NaN))} CPU-ms), per booking ${ratio((m) => m.bookings.cpuPerBookingMs.all).toFixed(2)}× ` +
      `(${avg(1, (m) => m.bookings.cpuPerBookingMs.all).toFixed(0)} → ${avg(2, (m) => m.bookings.cpuPerBookingMs.all).toFixed(0)} CPU-ms).`,
    "",
    "Data, from the database afterwards (as the holds and bookings benches check it):",
    "",
    ...runs.map(
      (m) =>
        `- stack ${m.order} (${m.replicas} replica(s)): holds ${integrityText(m.holds.integrity)}, client-side overlaps ${m.holds.clientOverlaps}` +
        `${m.holds.cancelFailures ? `, ${m.holds.cancelFailures} cancellations FAILED` : ""}; ` +
        (m.open
          ? `open-loop holds' showtime ${m.open.openHoldsIntegrity.ok ? "consistent" : "INCONSISTENT"} (${m.open.openHoldsIntegrity.held} held, ${m.open.openHoldsIntegrity.doubleBooked} double-booked); `
          : "") +
        `bookings: ${m.check.text}; ${m.lost} lost (paid, not confirmed); the showtime ${m.bookingsIntegrity.doubleBooked} double-booked, ` +
        `${m.bookingsIntegrity.booked} booked + ${m.bookingsIntegrity.held} held + ${m.bookingsIntegrity.available} available = ${m.bookingsIntegrity.capacity} ` +
        `(${m.bookingsIntegrity.ok ? "consistent" : "INCONSISTENT"})` +
        (m.holds.errors.length || m.bookings.errors.length ? `; first errors: ${[...m.holds.errors, ...m.bookings.errors].slice(0, 4).join(" · ")}` : ""),
    ),
    "",
    "Targets:",
    "",
    `- 2 replicas ≥ 1.0× the one-replica throughput at equal total cores: ${met(holdRatio >= 1 && bookingRatio >= 1)} (holds ${holdRatio.toFixed(2)}×, bookings ${bookingRatio.toFixed(2)}×)`,
    `- 0 double-booked seats: ${met(runs.every((m) => doubleBooked(m) === 0))} (${runs.map((m) => `${doubleBooked(m)} in stack ${m.order}`).join(", ")})`,
    `- 0 lost bookings: ${met(runs.every((m) => m.lost === 0 && m.check.ok))} (${runs.map((m) => `${m.lost} in stack ${m.order}`).join(", ")}); every check above passed: ${runs.every(dataOk) ? "yes" : "**NO**"}`,
    "",
    "### Latency below saturation: open-loop load at half the maximum",
    "",
    `On the first stack of each count, after its closed-loop runs: arrivals at ${LOAD_SHARE * 100}% of the maximum that stack just reached (hold ` +
      "requests/s; bookings/s), on a Poisson schedule fixed in advance and sent whether or not earlier requests have answered (open loop, no " +
      `coordinated omission). Holds: ${OPEN_HOLD_SECONDS} s of 1–4-seat holds on a fresh 20,000-seat showtime, users in turn under the per-user ` +
      `cap, gateways in turn; hold p99 client-side. Then, once every workflow start those holds queued has been made, bookings: ` +
      `${OPEN_BOOKING_SECONDS} s of arrivals, each a whole booking as above; webhook → confirmed p95 server-side (\`payments.webhook_events.received_at\` → ` +
      "`booking.bookings.confirmed_at`). Each phase starts once the stack is quiet (a second under " +
      `${QUIET_CORES} cores busy: what the load before left behind is done; the waits were ${open.map((m) => `${(m.open.quietMs[0] / 1000).toFixed(0)} s and ${(m.open.quietMs[1] / 1000).toFixed(0)} s on stack ${m.order}`).join(", ")}). ` +
      "The schedule column says whether the generator kept up: the arrival rate it achieved and how late it sent arrivals.",
    "",
    "| stack | replicas | load | rate asked | schedule kept | result | target |",
    "|---:|---:|---|---:|---|---:|---|",
    ...open.flatMap((m) => [
      `| ${m.order} | ${m.replicas} | holds | ${f1(m.open.openHolds.targetRate)}/s | ${scheduleText(m.open.openHolds)} | hold p99 **${ms(m.open.openHolds.out.p(99, "held"))}** ` +
        `(p50 ${ms(m.open.openHolds.out.p(50, "held"))}; ${m.open.openHolds.out.count("held")} holds, ${m.open.openHolds.out.count() - m.open.openHolds.out.count("held")} other) | ` +
        `≤ ${HOLD_P99_TARGET_MS} ms: ${met(m.open.openHolds.out.p(99, "held") <= HOLD_P99_TARGET_MS)} |`,
      `| ${m.order} | ${m.replicas} | bookings | ${f1(m.open.openBookings.targetRate)}/s | ${scheduleText(m.open.openBookings)} | webhook → confirmed p95 **${ms(percentile(m.open.openConfirm, 95))}** ` +
        `(p50 ${ms(percentile(m.open.openConfirm, 50))}; ${m.open.openBookings.out.count("confirmed")} of ${m.open.openBookings.sent} confirmed) | ` +
        `≤ ${CONFIRM_P95_TARGET_MS} ms: ${met(percentile(m.open.openConfirm, 95) <= CONFIRM_P95_TARGET_MS)} |`,
    ]),
    "",
    "CPU of the stack's processes (utime + stime from /proc; replicas of a tier add up under its name):",
    "",
    ...runs.flatMap((m) => [
      `- stack ${m.order} (${m.replicas}), idle for ${IDLE_SECONDS} s before the load: ${m.idle}`,
      `- stack ${m.order} (${m.replicas}), holds: ${m.holds.cpu}`,
      `- stack ${m.order} (${m.replicas}), bookings: ${m.bookings.cpu}`,
    ]),
  ].join("\n");
}
