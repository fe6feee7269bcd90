/**
 * The holds bench's shared shape (bench/holds.bench.ts) and its floors, measured in the same run:
 * the same holds as one SQL statement each, straight to the stack's Postgres, and bare Temporal
 * workflow starts with the booking workflow's options.
 */
import { randomUUID } from "node:crypto";
import { Client, Connection } from "@temporalio/client";
import knexFactory, { type Knex } from "knex";
import { SA_BOOKING_STATUS, SA_SHOWTIME_ID, SA_USER_ID } from "../workflows/search-attributes";
import type { BenchContext } from "./context";
import {
  closedLoopOutcomes,
  cpuBreakdown,
  cpuSnapshot,
  cpuUsed,
  Outcomes,
  pool,
  progress,
  sleep,
  type BenchShowtime,
  type Integrity,
} from "./platform";

export const CONCURRENCY = 64;
/** Timed rounds per scenario, requests per round, and one untimed warm-up round first. */
export const ROUNDS = 3;
export const PER_ROUND = 320;
export const WARMUP = 128;
/** services/booking/config.ts: BOOKING_MAX_HELD_SEATS_PER_USER's default (the stack runs with it). */
export const MAX_HELD_PER_USER = 10;
/** Each client has its own users; it moves to the next when the cap would be exceeded. */
export const USERS_PER_CLIENT = 3;
/** Seats per hold: 1 to MAX_SEATS adjacent seats of one row. */
export const MAX_SEATS = 4;

/** 1–4 adjacent seats of a random row, at a random place. */
export function pickSeats(st: BenchShowtime): string[] {
  const row = st.seatRows[Math.floor(Math.random() * st.seatRows.length)];
  const n = 1 + Math.floor(Math.random() * MAX_SEATS);
  const start = Math.floor(Math.random() * (row.length - n + 1));
  return row.slice(start, start + n);
}

export interface ScenarioResult {
  label: string;
  out: Outcomes;
  integrity: Integrity[];
  /** Seats two successful holds of one round both claimed (client-side view): must be 0. */
  clientOverlaps: number;
  cancelFailures: number;
  errors: string[];
  cpu: string;
  note: string;
  /** Per timed round: booking workflows not yet started when the round's last hold answered, and how long until all were. */
  starts: Array<{ pending: number; drainMs: number }>;
  /** CPU of the whole stack per request (hold or 409), the round's queued workflow starts included. */
  cpuPerRequestMs?: number;
}

/** Accumulates the difference of two CPU snapshots into before/after totals. */
export function addDelta(accBefore: Map<string, number>, accAfter: Map<string, number>, before: Map<string, number>, after: Map<string, number>) {
  for (const [k, v] of after) {
    accAfter.set(k, (accAfter.get(k) ?? 0) + v - (before.get(k) ?? 0));
    if (!accBefore.has(k)) accBefore.set(k, 0);
  }
}

/**
 * The floor: the same rounds of random 1–4-seat holds on another 1,000-seat showtime, each one
 * SQL statement in autocommit from a pool of up to 64 connections: lock the requested seat rows
 * in seat_id order, then `UPDATE … SET status = 'held' … WHERE status = 'available'` only if all
 * of them were free (all or nothing, like the service). No booking row, no NOTIFY, no workflow.
 */
export async function rawScenario(ctx: BenchContext, db: Knex, st: BenchShowtime): Promise<ScenarioResult & { poolSize: number }> {
  const { rows } = await db.raw(
    `SELECT current_setting('max_connections')::int AS max, (SELECT count(*) FROM pg_stat_activity)::int AS used`,
  );
  const poolSize = Math.max(8, Math.min(CONCURRENCY, rows[0].max - rows[0].used - 10));
  const raw = knexFactory({ client: "pg", connection: ctx.stack.databaseUrl, pool: { min: 0, max: poolSize } });
  const out = new Outcomes();
  const integrity: Integrity[] = [];
  const errors: string[] = [];
  let clientOverlaps = 0;
  const cpuBefore = new Map<string, number>();
  const cpuAfter = new Map<string, number>();
  try {
    await Promise.all(Array.from({ length: poolSize }, () => raw.raw("SELECT 1"))); // open the connections
    const round = async (total: number, into: Outcomes) => {
      const held: string[][] = [];
      await closedLoopOutcomes(
        {
          concurrency: CONCURRENCY,
          total,
          maxSeconds: 300,
          op: async () => {
            const seatIds = pickSeats(st);
            const r = await raw.raw(
              `WITH locked AS (
                 SELECT seat_id, status = 'available' OR (status = 'held' AND held_until <= now()) AS free
                 FROM booking.inventory_seats WHERE showtime_id = :s AND seat_id = ANY(:ids::text[])
                 ORDER BY seat_id FOR UPDATE
               )
               UPDATE booking.inventory_seats
               SET status = 'held', holder_id = :holder, booking_id = :booking, held_until = now() + interval '10 minutes', changed_at = now()
               WHERE showtime_id = :s AND seat_id = ANY(:ids::text[]) AND status = 'available'
                 AND (SELECT bool_and(free) AND count(*) = :n FROM locked)
               RETURNING seat_id`,
              { s: st.showtimeId, ids: seatIds, holder: randomUUID(), booking: randomUUID(), n: seatIds.length },
            );
            if (r.rows.length === seatIds.length) {
              held.push(seatIds);
              return "held";
            }
            if (r.rows.length === 0) return "taken";
            if (errors.length < 5) errors.push(`partial hold: ${r.rows.length} of ${seatIds.length}`);
            return "partial";
          },
        },
        into,
      );
      return held;
    };
    const reset = async (held: string[][], check: boolean) => {
      if (check) {
        const { rows: c } = await db.raw(
          `SELECT count(*) FILTER (WHERE status = 'held')::int AS held, count(*)::int AS seats
           FROM booking.inventory_seats WHERE showtime_id = ?`,
          [st.showtimeId],
        );
        const claimed = held.reduce((s, h) => s + h.length, 0);
        const seen = new Set<string>();
        for (const h of held) {
          for (const s of h) {
            if (seen.has(s)) clientOverlaps++;
            seen.add(s);
          }
        }
        // no booking rows here: "live seats" are the seats the successful statements claimed
        integrity.push({
          ok: c[0].held === claimed && clientOverlaps === 0 && c[0].seats === st.capacity,
          doubleBooked: clientOverlaps,
          available: c[0].seats - c[0].held,
          held: c[0].held,
          booked: 0,
          capacity: st.capacity,
          liveBookingSeats: claimed,
          matching: c[0].held,
        });
      }
      await db.raw(
        `UPDATE booking.inventory_seats SET status = 'available', holder_id = NULL, booking_id = NULL, held_until = NULL, changed_at = now()
         WHERE showtime_id = ? AND status <> 'available'`,
        [st.showtimeId],
      );
    };
    await reset(await round(WARMUP, new Outcomes()), false);
    for (let r = 0; r < ROUNDS; r++) {
      const before = cpuSnapshot();
      const held = await round(PER_ROUND, out);
      addDelta(cpuBefore, cpuAfter, before, cpuSnapshot());
      progress(`floor: round ${r + 1}/${ROUNDS}, ${out.count("held")} holds of ${out.count()} in ${out.seconds.toFixed(1)} s`);
      await reset(held, true);
    }
  } finally {
    await raw.destroy();
  }
  return {
    label: "Postgres floor: one statement per hold, 1,000 seats",
    out,
    integrity,
    clientOverlaps,
    cancelFailures: 0,
    errors,
    cpu: cpuBreakdown(cpuBefore, cpuAfter, out.seconds),
    starts: [],
    cpuPerRequestMs: (cpuUsed(cpuBefore, cpuAfter) / out.count()) * 1000,
    note: `pool of ${poolSize} connections`,
    poolSize,
  };
}

/**
 * The other floor: what the stack's Temporal dev server alone does with the last step of every
 * successful hold, a booking workflow's start (same search attributes), at the same 64
 * concurrency, in rounds of the same size. The workflows go to a task queue no worker polls, so
 * this is the start alone, without the workflow's first task; they are terminated afterwards.
 */
export async function temporalScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const connection = await Connection.connect({ address: ctx.stack.temporalAddress });
  const client = new Client({ connection, namespace: "default" });
  const run = `bench-start-${Date.now().toString(36)}`;
  const started: string[] = [];
  const errors: string[] = [];
  const out = new Outcomes();
  const cpuBefore = new Map<string, number>();
  const cpuAfter = new Map<string, number>();
  const round = (total: number, into: Outcomes) =>
    closedLoopOutcomes(
      {
        concurrency: CONCURRENCY,
        total,
        maxSeconds: 300,
        op: async () => {
          const workflowId = `${run}-${randomUUID()}`;
          try {
            await client.workflow.start("benchNoWorkerWorkflow", {
              taskQueue: `${run}-no-worker`,
              workflowId,
              args: [{ bookingId: workflowId }],
              typedSearchAttributes: [
                { key: SA_SHOWTIME_ID, value: randomUUID() },
                { key: SA_USER_ID, value: randomUUID() },
                { key: SA_BOOKING_STATUS, value: "held" },
              ],
            });
          } catch (err) {
            if (errors.length < 5) errors.push(String(err).slice(0, 200));
            return "error";
          }
          started.push(workflowId);
          return "held";
        },
      },
      into,
    );
  try {
    await round(WARMUP, new Outcomes());
    for (let r = 0; r < ROUNDS; r++) {
      const before = cpuSnapshot();
      await round(PER_ROUND, out);
      addDelta(cpuBefore, cpuAfter, before, cpuSnapshot());
      progress(`temporal: round ${r + 1}/${ROUNDS}, ${out.count("held")} starts in ${out.seconds.toFixed(1)} s`);
      await sleep(1000);
    }
    let cleanupFailures = 0;
    await pool(started, 16, (id) =>
      client.workflow
        .getHandle(id)
        .terminate("benchmark clean-up")
        .catch(() => {
          cleanupFailures++;
        }),
    );
    if (cleanupFailures) errors.push(`${cleanupFailures} of the started workflows could not be terminated`);
  } finally {
    await connection.close();
  }
  return {
    label: "Temporal dev server alone: workflow start",
    out,
    integrity: [],
    clientOverlaps: 0,
    cancelFailures: 0,
    errors,
    cpu: cpuBreakdown(cpuBefore, cpuAfter, out.seconds),
    starts: [],
    cpuPerRequestMs: (cpuUsed(cpuBefore, cpuAfter) / out.count()) * 1000,
    note: "no seats involved",
  };
}
