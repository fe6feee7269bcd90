/**
 * Seat holds under contention (issue 4): POST /api/v1/showtimes/{id}/seats/reserve through the
 * REST gateway on one hot showtime, 64 concurrent clients, a 1,000-seat and a 20,000-seat hall,
 * and as the floor the same holds as one SQL statement each, straight to the stack's Postgres.
 * Targets: ≥ 300 holds/s, p99 ≤ 250 ms, 20,000-seat p50 within 2× of the 1,000-seat p50, and
 * never a seat held or booked twice (checked in the database after every round).
 */
import os from "node:os";
import knexFactory, { type Knex } from "knex";
import type { Benchmark, BenchContext, Rest } from "./context";
import { ms } from "./stats";
import {
  adminSession,
  closedLoopOutcomes,
  cpuBreakdown,
  cpuSnapshot,
  cpuUsed,
  createShowtime,
  inventoryIntegrity,
  Outcomes,
  pool,
  progress,
  registerUsers,
  sleep,
  type BenchShowtime,
  type Integrity,
  type Session,
} from "./platform";
import {
  addDelta,
  CONCURRENCY,
  MAX_HELD_PER_USER,
  MAX_SEATS,
  PER_ROUND,
  pickSeats,
  rawScenario,
  ROUNDS,
  temporalScenario,
  USERS_PER_CLIENT,
  WARMUP,
  type ScenarioResult,
} from "./holds-scenarios";


/**
 * Holds answer before their workflow starts (docs/adr/0002): how many starts were still queued
 * when the round ended, and how long the booking service's starter took to start them all.
 */
export async function startBacklog(db: Knex): Promise<{ pending: number; drainMs: number }> {
  const t0 = Date.now();
  const count = async () => Number((await db.raw(`SELECT count(*)::int AS n FROM booking.workflow_starts`)).rows[0].n);
  const pending = await count();
  let left = pending;
  while (left > 0 && Date.now() - t0 < 300_000) {
    await sleep(50);
    left = await count();
  }
  return { pending, drainMs: left > 0 ? Number.NaN : Date.now() - t0 };
}

export function startsText(starts: Array<{ pending: number; drainMs: number }>): string {
  if (!starts.length) return "–";
  const worst = starts.reduce((m, s) => (s.pending > m.pending ? s : m), starts[0]);
  return `${worst.pending} / ${Number.isNaN(worst.drainMs) ? "> 300 s" : ms(worst.drainMs)}`;
}

export function integrityText(checks: Integrity[]): string {
  const bad = checks.filter((c) => !c.ok);
  const worst = checks.reduce((m, c) => Math.max(m, c.doubleBooked), 0);
  const peak = checks.reduce((m, c) => Math.max(m, c.held + c.booked), 0);
  const base = `${checks.length - bad.length}/${checks.length} checks OK, ${worst} double-booked seats, up to ${peak} seats held at a check`;
  return bad.length ? `${base}; FAILED: ${JSON.stringify(bad[0])}` : base;
}

/**
 * Holds through the REST gateway, in rounds; every hold is cancelled (REST) after its round.
 * `rests`: the gateways to send through, client w using gateway w mod their number (the stack's
 * one gateway unless given).
 */
export async function restScenario(
  ctx: BenchContext,
  db: Knex,
  label: string,
  st: BenchShowtime,
  users: Session[],
  rests: readonly Rest[] = [ctx.rest],
): Promise<ScenarioResult> {
  const out = new Outcomes();
  const integrity: Integrity[] = [];
  const errors: string[] = [];
  let clientOverlaps = 0;
  let cancelFailures = 0;
  let cancelRetries = 0;
  const cpuBefore = new Map<string, number>();
  const cpuAfter = new Map<string, number>();
  const fullBefore = new Map<string, number>();
  const fullAfter = new Map<string, number>();

  const round = async (total: number, into: Outcomes, warmUp = false) => {
    const heldSeats = new Map<number, number>(); // user index → seats held this round
    const cursor = new Array<number>(CONCURRENCY).fill(0);
    const held: Array<{ bookingId: string; token: string; seatIds: string[] }> = [];
    await closedLoopOutcomes(
      {
        concurrency: CONCURRENCY,
        total,
        maxSeconds: 300,
        op: async (_i, w) => {
          const seatIds = pickSeats(st);
          // this client's next user with room under the per-user cap
          let u = w * USERS_PER_CLIENT + cursor[w];
          for (let k = 0; k < USERS_PER_CLIENT && (heldSeats.get(u) ?? 0) + seatIds.length > MAX_HELD_PER_USER; k++) {
            cursor[w] = (cursor[w] + 1) % USERS_PER_CLIENT;
            u = w * USERS_PER_CLIENT + cursor[w];
          }
          const user = users[u];
          const r = await rests[w % rests.length]("POST", `/api/v1/showtimes/${st.showtimeId}/seats/reserve`, { seatIds, holdTimeoutSeconds: 600 }, user.token);
          if (r.status === 201) {
            heldSeats.set(u, (heldSeats.get(u) ?? 0) + seatIds.length);
            held.push({ bookingId: r.body.bookingId, token: user.token, seatIds: r.body.seatIds });
            return "held";
          }
          if (r.status === 409) return "taken";
          if (errors.length < 5) errors.push(`${warmUp ? "(warm-up) " : ""}${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          return `http ${r.status}`;
        },
      },
      into,
    );
    return held;
  };

  const starts: Array<{ pending: number; drainMs: number }> = [];
  const settle = async (held: Array<{ bookingId: string; token: string; seatIds: string[] }>, check: boolean) => {
    if (check) {
      integrity.push(await inventoryIntegrity(db, st.showtimeId));
      const seen = new Set<string>();
      for (const h of held) {
        for (const s of h.seatIds) {
          if (seen.has(s)) clientOverlaps++;
          seen.add(s);
        }
      }
    }
    // release the round's holds outside the timed section, through the API as a customer would
    await pool(held, 16, async (h, i) => {
      for (let attempt = 1; ; attempt++) {
        const r = await rests[i % rests.length]("PUT", `/api/v1/bookings/${h.bookingId}/cancel`, {}, h.token);
        if (r.status === 200 && r.body.status === "cancelled") return;
        cancelRetries++;
        if (attempt === 3) {
          cancelFailures++;
          if (errors.length < 5) errors.push(`cancel ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          return;
        }
        await sleep(1000);
      }
    });
    await sleep(1000); // let the cancellations' workflow tails (notifications) finish
  };

  await settle(await round(WARMUP, new Outcomes(), true), false);
  for (let r = 0; r < ROUNDS; r++) {
    const before = cpuSnapshot();
    const held = await round(PER_ROUND, out);
    addDelta(cpuBefore, cpuAfter, before, cpuSnapshot());
    progress(`${label}: round ${r + 1}/${ROUNDS}, ${out.count("held")} holds of ${out.count()} requests in ${out.seconds.toFixed(1)} s`);
    starts.push(await startBacklog(db));
    addDelta(fullBefore, fullAfter, before, cpuSnapshot()); // the round and its queued workflow starts
    await settle(held, true);
  }
  integrity.push(await inventoryIntegrity(db, st.showtimeId)); // after the last cancel: all free again
  return {
    label,
    out,
    integrity,
    clientOverlaps,
    cancelFailures,
    errors,
    cpu: cpuBreakdown(cpuBefore, cpuAfter, out.seconds),
    starts,
    cpuPerRequestMs: (cpuUsed(fullBefore, fullAfter) / out.count()) * 1000,
    note:
      `inventory ready ${(st.inventoryReadyMs / 1000).toFixed(1)} s after the showtime's 201` +
      (cancelRetries ? `; ${cancelRetries} cancellations answered 503 and were retried` : ""),
  };
}

const f1 = (v: number) => v.toFixed(1);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
const yes = (ok: boolean) => (ok ? "**met**" : "**missed**");

export const holdsBench: Benchmark = {
  name: "holds: seat holds on a hot showtime",
  async run(ctx) {
    const adminToken = await adminSession(ctx.rest);
    const db = knexFactory({ client: "pg", connection: ctx.stack.databaseUrl, pool: { min: 0, max: 2 } });
    try {
      const small = await createShowtime(ctx.rest, adminToken, "Holds 1k", 20, 50);
      const big = await createShowtime(ctx.rest, adminToken, "Holds 20k", 100, 200);
      const floorShow = await createShowtime(ctx.rest, adminToken, "Holds floor", 20, 50);
      progress(`showtimes ready; registering ${CONCURRENCY * USERS_PER_CLIENT} users`);
      const users = await registerUsers(ctx.rest, CONCURRENCY * USERS_PER_CLIENT, "holds");

      const results: ScenarioResult[] = [];
      results.push(await restScenario(ctx, db, "REST: 1,000-seat showtime", small, users));
      results.push(await restScenario(ctx, db, "REST: 20,000-seat showtime", big, users));
      const floor = await rawScenario(ctx, db, floorShow);
      results.push(floor);
      const temporal = await temporalScenario(ctx);
      results.push(temporal);
      const [r1k, r20k] = results;

      const holdsPerS = (r: ScenarioResult) => r.out.count("held") / r.out.seconds;
      const reqPerS = (r: ScenarioResult) => r.out.count() / r.out.seconds;
      const table = results.map((r) => {
        const o = r.out;
        const other = o.count() - o.count("held") - o.count("taken");
        const seats = r !== temporal;
        return (
          `| ${r.label} | ${o.count()} | ${o.count("held")} | ${seats ? pct(o.count("taken"), o.count()) : "–"}${other ? ` (+${other} other)` : ""} | ` +
          `${f1(reqPerS(r))} | **${f1(holdsPerS(r))}** | ${ms(o.p(50, "held"))} | ${ms(o.p(95, "held"))} | **${ms(o.p(99, "held"))}** | ` +
          `${seats ? ms(o.p(50, "taken")) : "–"} | ${ms(o.p(50))} / ${ms(o.p(99))} | ${startsText(r.starts)} |`
        );
      });
      const checked = results.filter((r) => r.integrity.length);
      const integrityOk = checked.every((r) => r.integrity.every((c) => c.ok) && r.clientOverlaps === 0);
      const p50ratio = r20k.out.p(50, "held") / r1k.out.p(50, "held");
      const restHolds = Math.min(holdsPerS(r1k), holdsPerS(r20k));
      const p99worst = Math.max(r1k.out.p(99, "held"), r20k.out.p(99, "held"));

      return [
        `${CONCURRENCY} concurrent clients, closed loop (each sends its next request when the last one answered). A request holds 1–${MAX_SEATS} ` +
          `adjacent seats of a random row at a random place in the hall, so clients contend for the same seats; 409 (seats taken) is an ` +
          `expected answer: it counts as a completed request, not as a hold. ${CONCURRENCY * USERS_PER_CLIENT} users registered through REST, ` +
          `${USERS_PER_CLIENT} per client: a client moves to its next user before one would pass the per-user cap of ${MAX_HELD_PER_USER} held seats per showtime.`,
        "",
        `Each scenario runs ${ROUNDS} timed rounds of ${PER_ROUND} requests after one untimed warm-up round of ${WARMUP}. Between rounds, untimed, ` +
          `the database is checked and every hold of the round is cancelled through \`PUT /api/v1/bookings/{id}/cancel\` (the booking ` +
          `workflow releases the seats), then 1 s of quiet; so each round starts with the hall empty and fills it as it goes (the 409 share ` +
          `is the average contention of a hall filling from 0 to its end-of-round occupancy). Rates are over the timed rounds only, ramp-down ` +
          `at each round's end included. Latencies are client-side, loopback, through the gateway (REST → Connect → booking: advisory lock, cap ` +
          `query, seat rows locked, UPDATE + INSERT + NOTIFY, the workflow start queued in \`workflow_starts\`, commit). The booking workflow ` +
          `starts after the answer (docs/adr/0002-hold-before-workflow-start.md): the last column is the worst round's backlog of starts ` +
          `when its last hold answered, and how long the booking service's starter then took to start them all (untimed).`,
        "",
        "| scenario | requests | holds | 409 share | requests/s | holds/s | hold p50 | hold p95 | hold p99 | 409 p50 | all p50 / p99 | starts queued at round end / drained in |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...table,
        "",
        `Two floors. Postgres (${floor.note}): one statement in autocommit per hold, which locks the requested seat rows in seat_id order and ` +
          "`UPDATE`s them to held `WHERE status = 'available'` only if all were free (all or nothing), same rounds on a third 1,000-seat " +
          "showtime, reset with one UPDATE instead of cancellations; no booking row, no NOTIFY, no workflow, no HTTP. Temporal: the stack's " +
          "Temporal dev server starting booking-like workflows (same search attributes) at the same concurrency in rounds of the same size, " +
          "on a task queue no worker polls (the start alone, not the workflow's first task), terminated afterwards.",
        "",
        "Integrity, from the database after every round (before the cancellations) and once after the last one: no seat listed by two live " +
          "bookings; every held/booked seat row belongs to a live booking that lists it and the live bookings list nothing else; " +
          "available + held + booked = capacity. Also client-side: no seat in two successful responses of one round.",
        "",
        ...results.map(
          (r) =>
            `- ${r.label}: ${r.integrity.length ? `${integrityText(r.integrity)}; client-side overlaps ${r.clientOverlaps}` : "nothing to check"}` +
            `${r.cancelFailures ? `; ${r.cancelFailures} cancellations FAILED` : ""}${r.errors.length ? `; first errors: ${r.errors.join(" · ")}` : ""}` +
            ` (${r.note})`,
        ),
        "",
        "Ratios:",
        "",
        `- hold p50, 20,000 seats / 1,000 seats: **${p50ratio.toFixed(2)}×** (${ms(r20k.out.p(50, "held"))} / ${ms(r1k.out.p(50, "held"))})`,
        `- holds/s, Postgres floor / REST: ${(holdsPerS(floor) / holdsPerS(r1k)).toFixed(1)}× (1,000 seats), ${(holdsPerS(floor) / holdsPerS(r20k)).toFixed(1)}× (20,000 seats); ` +
          `hold p50, REST / Postgres floor: ${(r1k.out.p(50, "held") / floor.out.p(50, "held")).toFixed(1)}× (1,000 seats)`,
        `- REST holds/s / bare Temporal starts/s: ${(holdsPerS(r1k) / holdsPerS(temporal)).toFixed(2)} (1,000 seats), ${(holdsPerS(r20k) / holdsPerS(temporal)).toFixed(2)} (20,000 seats); ` +
          `REST 409 p50 vs hold p50: ${ms(r1k.out.p(50, "taken"))} vs ${ms(r1k.out.p(50, "held"))} (1,000 seats)`,
        "",
        `What the machine allows: CPU-seconds of the whole stack (every process, the load generator included) per request, ` +
          `divided into the machine's ${os.cpus().length} cores, is the most requests/s it could serve if nothing waited on anything:`,
        "",
        ...results.map((r) => {
          const per = r.cpuPerRequestMs ?? Number.NaN;
          return `- ${r.label}: ${per.toFixed(1)} CPU-ms per request${r.starts.length ? " (its workflow start included)" : ""} → at most ${f1((os.cpus().length * 1000) / per)} requests/s`;
        }),
        "",
        "Targets:",
        "",
        `- ≥ 300 holds/s through REST: ${yes(restHolds >= 300)} (${f1(holdsPerS(r1k))} on 1,000 seats, ${f1(holdsPerS(r20k))} on 20,000 seats)`,
        `- hold p99 ≤ 250 ms: ${yes(p99worst <= 250)} (${ms(r1k.out.p(99, "held"))} on 1,000 seats, ${ms(r20k.out.p(99, "held"))} on 20,000 seats)`,
        `- 20,000-seat p50 within 2× of the 1,000-seat p50: ${yes(p50ratio <= 2)} (${p50ratio.toFixed(2)}×)`,
        `- zero double-booked seats: ${yes(integrityOk)}`,
        "",
        "CPU of the stack's processes during the timed rounds (utime + stime from /proc; the machine's other load is not included):",
        "",
        ...results.map((r) => `- ${r.label}: ${r.cpu}`),
      ].join("\n");
    } finally {
      await db.destroy();
    }
  },
};
