/**
 * Full bookings per second (issue 5): reserve → preparePayment → the development payment
 * gateway's simulated payment → its signed webhook through the public gateway → the booking
 * workflow confirms → GET shows `confirmed`, all through REST, and the time from the webhook to
 * `confirmed` measured on the server (webhook_events.received_at → bookings.confirmed_at).
 * Targets: ≥ 50 bookings/s, p95 webhook → confirmed ≤ 1 s.
 */
import os from "node:os";
import knexFactory, { type Knex } from "knex";
import type { Benchmark, BenchContext, Rest } from "./context";
import { ms, percentile } from "./stats";
import {
  adminSession,
  closedLoopOutcomes,
  cpuBreakdown,
  cpuSnapshot,
  cpuUsed,
  createShowtime,
  inventoryIntegrity,
  Outcomes,
  progress,
  QUIET_CORES,
  registerUsers,
  sleep,
  waitUntilQuiet,
  type BenchShowtime,
  type Session,
} from "./platform";

/** Concurrency levels (closed loop: a client starts its next booking once the last one is confirmed). */
const LEVELS = [16, 32];
const PER_LEVEL = 400;
/** A level stops starting bookings after this long (the ones under way finish). */
const LEVEL_MAX_SECONDS = 120;
const WARMUP = 32;
const SEATS_PER_BOOKING = 2;
/**
 * How often a client re-reads its booking after the simulated payment: POLL_MS for the first
 * second, then POLL_SLOW_MS. It was 50 ms: some 20 status reads per booking (each through the
 * gateway, the booking service and Postgres) then competed for this 2-core machine with the
 * bookings they waited for. The server-side "webhook → confirmed" times do not depend on it.
 */
const POLL_MS = 200;
const POLL_SLOW_MS = 250;
/** A booking not confirmed this long after its payment counts as failed. */
const CONFIRM_TIMEOUT_MS = 30_000;

export interface Done {
  bookingId: string;
  paymentIntentId: string;
  seatIds: string[];
}

export interface LevelResult {
  concurrency: number;
  out: Outcomes;
  steps: Outcomes;
  done: Done[];
  errors: string[];
  cpu: string;
  /** CPU of the whole stack (and of the Temporal server alone) per confirmed booking. */
  cpuPerBookingMs: { all: number; temporal: number };
  /** The stack's CPU rate in the quiet just before the level (CPU-ms per second): what it burns doing nothing. */
  idle?: { all: number; temporal: number };
  /** Status polls (`GET /api/v1/bookings/{id}`) per confirmed booking. */
  pollsPerBooking: number;
  /** Server-side, ms: devgw event created (simulate) → webhook received; webhook received → booking confirmed. */
  delivery: number[];
  confirm: number[];
}

/** The stack's CPU rate over `ms` of quiet (CPU-ms per second), all of it and the Temporal dev server's. */
async function idleRate(ms: number): Promise<LevelResult["idle"]> {
  const before = cpuSnapshot();
  await sleep(ms);
  const after = cpuSnapshot();
  return { all: (cpuUsed(before, after) * 1000 * 1000) / ms, temporal: (cpuUsed(before, after, "temporal server") * 1000 * 1000) / ms };
}

/** Seats for booking number `i` of the showtime: SEATS_PER_BOOKING adjacent seats, never reused. */
export function seatsFor(st: BenchShowtime, i: number): string[] {
  const perRow = st.seatRows[0].length;
  const perRowBookings = Math.floor(perRow / SEATS_PER_BOOKING);
  const row = st.seatRows[Math.floor(i / perRowBookings)];
  if (!row) throw new Error(`showtime has no seats left for booking ${i}`);
  const start = (i % perRowBookings) * SEATS_PER_BOOKING;
  return row.slice(start, start + SEATS_PER_BOOKING);
}

/**
 * One customer's booking from reserve to `confirmed` through `rest` (one gateway): "confirmed"
 * with what it booked, or what failed (`fail` records why). `lap(step)` marks each step's end.
 */
export async function bookOnce(
  rest: Rest,
  showtimeId: string,
  user: Session,
  seatIds: string[],
  lap: (step: string) => void,
  fail: (what: string, r: { status: number; body: any }) => string, // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any endpoint
  /** Called before each status poll (`GET /api/v1/bookings/{id}`). */
  onPoll: () => void = () => undefined,
): Promise<Done | string> {
  const held = await rest("POST", `/api/v1/showtimes/${showtimeId}/seats/reserve`, { seatIds }, user.token);
  if (held.status !== 201) return fail("reserve", held);
  lap("reserve");
  const bookingId = held.body.bookingId as string;
  const prepared = await rest("POST", `/api/v1/bookings/${bookingId}/preparePayment`, {}, user.token);
  if (prepared.status !== 200) return fail("preparePayment", prepared);
  lap("preparePayment");
  const paymentIntentId = prepared.body.paymentIntentId as string;
  const paid = await rest("POST", "/api/v1/payments/simulate", { paymentIntentId, outcome: "succeeded" }, user.token);
  if (paid.status !== 202) return fail("simulate", paid);
  lap("simulate");
  const paidAt = performance.now();
  for (;;) {
    await sleep(performance.now() - paidAt < 1000 ? POLL_MS : POLL_SLOW_MS);
    onPoll();
    const b = await rest("GET", `/api/v1/bookings/${bookingId}`, undefined, user.token);
    if (b.status === 200 && b.body.status === "confirmed") break;
    if (b.status !== 200 || b.body.status !== "held") return fail("booking", b);
    if (performance.now() - paidAt > CONFIRM_TIMEOUT_MS) return fail(`not confirmed within ${CONFIRM_TIMEOUT_MS / 1000} s`, b);
  }
  lap("simulate → GET shows confirmed");
  return { bookingId, paymentIntentId, seatIds };
}

/** A recorder of the first few failures: `fail(what, response)` keeps why and returns the outcome's name. */
export function failureRecorder(errors: string[]) {
  return (what: string, r: { status: number; body: any }): string => { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any endpoint
    const said = r.status === 200 && r.body?.bookingId ? `booking ${r.body.bookingId} ${r.body.status}/${r.body.paymentStatus}` : JSON.stringify(r.body).slice(0, 200);
    if (errors.length < 5) errors.push(`${what}: ${r.status} ${said}`);
    return `${what} failed`;
  };
}

/**
 * Server-side, ms, sorted: devgw event created (simulate) → webhook received ("delivery"), and
 * webhook received → booking confirmed ("confirm"), both on Postgres' clock.
 */
export async function serverSideTimes(db: Knex, bookingIds: string[]): Promise<{ delivery: number[]; confirm: number[] }> {
  const { rows } = await db.raw(
    `SELECT extract(epoch FROM w.received_at - e.created_at) * 1000 AS delivery_ms,
            extract(epoch FROM b.confirmed_at - w.received_at) * 1000 AS confirm_ms
     FROM booking.bookings b
     JOIN payments.webhook_events w ON w.booking_id = b.id::text AND w.type = 'payment_intent.succeeded'
     JOIN payments.devgw_events e ON e.id = w.event_id
     WHERE b.id = ANY(?::uuid[])`,
    [bookingIds],
  );
  const sorted = (k: string) => rows.map((r: Record<string, string>) => Number(r[k])).sort((a: number, b: number) => a - b);
  return { delivery: sorted("delivery_ms"), confirm: sorted("confirm_ms") };
}

/** `rests`: the gateways to send through, client w using gateway w mod their number. */
export async function runLevel(
  ctx: BenchContext,
  db: Knex,
  st: BenchShowtime,
  users: Session[],
  concurrency: number,
  total: number,
  firstBooking: number,
  rests: readonly Rest[] = [ctx.rest],
  idle?: LevelResult["idle"],
): Promise<LevelResult> {
  const out = new Outcomes();
  const steps = new Outcomes();
  const done: Done[] = [];
  const errors: string[] = [];
  const fail = failureRecorder(errors);
  let polls = 0;
  const before = cpuSnapshot();
  await closedLoopOutcomes(
    {
      concurrency,
      total,
      maxSeconds: LEVEL_MAX_SECONDS,
      op: async (i, w) => {
        let t = performance.now();
        const lap = (step: string) => {
          const now = performance.now();
          steps.add(step, now - t);
          t = now;
        };
        const booked = await bookOnce(rests[w % rests.length], st.showtimeId, users[w], seatsFor(st, firstBooking + i), lap, fail, () => polls++);
        if (typeof booked === "string") return booked;
        done.push(booked);
        return "confirmed";
      },
    },
    out,
  );
  const after = cpuSnapshot();
  const cpu = cpuBreakdown(before, after, out.seconds);
  const confirmed = Math.max(1, out.count("confirmed"));
  const cpuPerBookingMs = { all: (cpuUsed(before, after) / confirmed) * 1000, temporal: (cpuUsed(before, after, "temporal server") / confirmed) * 1000 };
  progress(`${concurrency} clients: ${out.count("confirmed")} of ${out.count()} confirmed in ${out.seconds.toFixed(1)} s`);
  const { delivery, confirm } = await serverSideTimes(db, done.map((d) => d.bookingId));
  return { concurrency, out, steps, done, errors, cpu, cpuPerBookingMs, idle, pollsPerBooking: polls / confirmed, delivery, confirm };
}

/** Every counted booking: confirmed and paid, its seats booked by it, its payment succeeded and handed to the workflow. */
export async function verify(db: Knex, done: Done[]): Promise<{ ok: boolean; text: string }> {
  const ids = done.map((d) => d.bookingId);
  const { rows } = await db.raw(
    `SELECT
       count(*) FILTER (WHERE b.status = 'confirmed' AND b.payment_status = 'paid')::int AS confirmed_paid,
       count(*) FILTER (WHERE b.payment_intent_id = pi.id AND pi.status = 'succeeded' AND pi.fulfilment = 'signalled')::int AS paid_intent,
       count(*) FILTER (WHERE (SELECT count(*) FROM booking.inventory_seats s
                               WHERE s.showtime_id = b.showtime_id AND s.seat_id = ANY(b.seat_ids)
                                 AND s.status = 'booked' AND s.booking_id = b.id) = cardinality(b.seat_ids))::int AS seats_booked
     FROM booking.bookings b
     LEFT JOIN payments.payment_intents pi ON pi.booking_id = b.id
     WHERE b.id = ANY(?::uuid[])`,
    [ids],
  );
  const r = rows[0];
  const ok = r.confirmed_paid === ids.length && r.paid_intent === ids.length && r.seats_booked === ids.length;
  return {
    ok,
    text:
      `${ids.length} bookings counted: ${r.confirmed_paid} confirmed/paid, ${r.seats_booked} with every seat booked by them, ` +
      `${r.paid_intent} with their payment intent succeeded and signalled to the workflow`,
  };
}

export const bookingsBench: Benchmark = {
  name: "bookings: reserve to confirmed through payment",
  async run(ctx) {
    const adminToken = await adminSession(ctx.rest);
    const db = knexFactory({ client: "pg", connection: ctx.stack.databaseUrl, pool: { min: 0, max: 2 } });
    try {
      const st = await createShowtime(ctx.rest, adminToken, "Bookings", 50, 200); // 10,000 seats
      const users = await registerUsers(ctx.rest, Math.max(...LEVELS), "bookings");
      let next = 0;
      const warm = await runLevel(ctx, db, st, users, Math.min(...LEVELS), WARMUP, next);
      next += WARMUP;
      const results: LevelResult[] = [];
      for (const c of LEVELS) {
        await waitUntilQuiet(); // what the level before left behind (notifications, workflow tasks) is done
        const idle = await idleRate(2000);
        results.push(await runLevel(ctx, db, st, users, c, PER_LEVEL, next, [ctx.rest], idle));
        next += PER_LEVEL;
      }
      const all = [warm, ...results].flatMap((r) => r.done);
      const check = await verify(db, all);
      const integrity = await inventoryIntegrity(db, st.showtimeId);

      const perS = (r: LevelResult) => r.out.count("confirmed") / r.out.seconds;
      const best = results.reduce((a, b) => (perS(b) > perS(a) ? b : a));
      const p95confirm = (r: LevelResult) => percentile(r.confirm, 95);
      const stepNames = ["reserve", "preparePayment", "simulate", "simulate → GET shows confirmed"];
      return [
        `Closed loop: each client is one customer who books ${SEATS_PER_BOOKING} adjacent seats (its own, never contended) and ` +
          "starts the next booking once the last one shows `confirmed`: `POST …/seats/reserve` → `POST /api/v1/bookings/{id}/preparePayment` → " +
          "`POST /api/v1/payments/simulate` (development payment provider, 202) → the gateway's signed `payment_intent.succeeded` webhook to " +
          "`POST /api/v1/payments/webhook` through the public gateway → HandleWebhook signals the booking workflow (run by the booking service) → its local activity confirms " +
          `→ the client's \`GET /api/v1/bookings/{id}\` shows \`confirmed\` (polled every ${POLL_MS} ms for a second, then every ${POLL_SLOW_MS} ms; ` +
          `a booking not confirmed ${CONFIRM_TIMEOUT_MS / 1000} s after its payment counts as failed). All REST through the gateway, one user per ` +
          `client, a 10,000-seat showtime. Up to ${PER_LEVEL} bookings per concurrency level (no new ones after ${LEVEL_MAX_SECONDS} s) after ` +
          `${WARMUP} untimed warm-up bookings; before each level the stack is left until it is quiet (a second under ${QUIET_CORES} cores busy), then 2 s more.`,
        "",
        "| clients | bookings | failed | bookings/s | booking p50 | booking p95 | webhook → confirmed p50 | **p95** | simulate → webhook received p50 / p95 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...results.map(
          (r) =>
            `| ${r.concurrency} | ${r.out.count("confirmed")} | ${r.out.count() - r.out.count("confirmed")} | **${perS(r).toFixed(1)}** | ` +
            `${ms(r.out.p(50, "confirmed"))} | ${ms(r.out.p(95, "confirmed"))} | ${ms(percentile(r.confirm, 50))} | **${ms(p95confirm(r))}** | ` +
            `${ms(percentile(r.delivery, 50))} / ${ms(percentile(r.delivery, 95))} |`,
        ),
        "",
        "\"webhook → confirmed\" is server-side, both ends on Postgres' clock: `payments.webhook_events.received_at` (the start of the " +
          "webhook's transaction, after the signature check) → `booking.bookings.confirmed_at` (the start of the confirming transaction). " +
          "\"simulate → webhook received\" is `payments.devgw_events.created_at` (the simulated payment's transaction) → `received_at`: " +
          "the development payment provider's delivery. Client-side steps (p50 / p95):",
        "",
        "| clients | " + stepNames.join(" | ") + " |",
        "|---:|" + stepNames.map(() => "---:").join("|") + "|",
        ...results.map((r) => `| ${r.concurrency} | ${stepNames.map((s) => `${ms(r.steps.p(50, s))} / ${ms(r.steps.p(95, s))}`).join(" | ")} |`),
        "",
        `Verified afterwards in the database: ${check.text}; the showtime's inventory: ${integrity.doubleBooked} double-booked seats, ` +
          `${integrity.booked} booked + ${integrity.held} held + ${integrity.available} available = ${integrity.capacity} ` +
          `(${integrity.ok ? "consistent" : "INCONSISTENT"}).` +
          (results.some((r) => r.errors.length) ? ` First errors: ${results.flatMap((r) => r.errors).slice(0, 5).join(" · ")}` : ""),
        "",
        "Targets:",
        "",
        `- ≥ 50 bookings/s: ${perS(best) >= 50 ? "**met**" : "**missed**"} (best ${perS(best).toFixed(1)} at ${best.concurrency} clients)`,
        `- p95 webhook → confirmed ≤ 1 s: ${results.every((r) => p95confirm(r) <= 1000) ? "**met**" : "**missed**"} (${results
          .map((r) => `${ms(p95confirm(r))} at ${r.concurrency} clients`)
          .join(", ")})`,
        `- every counted booking confirmed, paid, its seats booked: ${check.ok && integrity.ok ? "**yes**" : "**NO**"}`,
        "",
        "CPU of the stack's processes while the bookings ran (utime + stime from /proc):",
        "",
        ...results.map((r) => `- ${r.concurrency} clients: ${r.cpu}`),
        "",
        `What the machine allows: CPU-seconds per confirmed booking, divided into the machine's ${os.cpus().length} cores, is the most ` +
          "bookings/s it could complete if nothing waited on anything (the load generator's status polling included):",
        "",
        ...results.map(
          (r) =>
            `- ${r.concurrency} clients: ${r.cpuPerBookingMs.all.toFixed(0)} CPU-ms per booking → at most ${((os.cpus().length * 1000) / r.cpuPerBookingMs.all).toFixed(1)} bookings/s; ` +
            `the Temporal dev server's share alone ${r.cpuPerBookingMs.temporal.toFixed(0)} CPU-ms → at most ${((os.cpus().length * 1000) / r.cpuPerBookingMs.temporal).toFixed(1)} bookings/s if it had the machine to itself`,
        ),
        "",
        "Part of that is the stack's cost of doing nothing, which a slower level spreads over fewer bookings. Measured in the last 2 s " +
          "of quiet before each level (CPU-ms per second of the whole stack; of the Temporal dev server, whose workers' long polls keep it busy): " +
          results
            .filter((r): r is LevelResult & { idle: NonNullable<LevelResult["idle"]> } => r.idle !== undefined)
            .map((r) => {
              const perBooking = (rate: number) => (rate * r.out.seconds) / Math.max(1, r.out.count("confirmed"));
              return (
                `${r.concurrency} clients: ${r.idle.all.toFixed(0)} CPU-ms/s (Temporal ${r.idle.temporal.toFixed(0)}), i.e. ` +
                `${perBooking(r.idle.all).toFixed(0)} CPU-ms (Temporal ${perBooking(r.idle.temporal).toFixed(0)}) of each booking's cost`
              );
            })
            .join("; ") +
          `. The load generator's status polls: ${results.map((r) => `${r.pollsPerBooking.toFixed(1)} GETs per booking at ${r.concurrency} clients`).join(", ")}.`,
        "",
        "Targets of cost (issue 15):",
        "",
        `- CPU per confirmed booking ≤ 120 CPU-ms across the stack: ${results.every((r) => r.cpuPerBookingMs.all <= 120) ? "**met**" : "**missed**"} ` +
          `(${results.map((r) => `${r.cpuPerBookingMs.all.toFixed(0)} at ${r.concurrency} clients`).join(", ")})`,
        `- the Temporal server's share ≤ 35 CPU-ms: ${results.every((r) => r.cpuPerBookingMs.temporal <= 35) ? "**met**" : "**missed**"} ` +
          `(${results.map((r) => `${r.cpuPerBookingMs.temporal.toFixed(0)} at ${r.concurrency} clients`).join(", ")})`,
      ].join("\n");
    } finally {
      await db.destroy();
    }
  },
};
