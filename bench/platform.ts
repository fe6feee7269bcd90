/**
 * Set-up shared by the booking benchmarks (holds, bookings): a showtime with its inventory
 * ready, created through the REST catalog API as admin; many signed-in users; a closed-loop
 * load generator that keeps every latency with its outcome; and the CPU each process of the
 * stack used while something ran (where the time goes).
 */
import fs from "node:fs";
import type { BenchContext } from "./context";
import { percentile } from "./stats";

type Rest = BenchContext["rest"];

export interface Session {
  userId: string;
  token: string;
}

/** A fresh admin session (the one run.ts made may be older than the access token's 15 minutes). */
export async function adminSession(rest: Rest): Promise<string> {
  const login = await rest("POST", "/api/v1/auth/login", { email: "admin@ticketing.local", password: "change-me-admin" });
  if (login.status !== 200) throw new Error(`admin login: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.accessToken as string;
}

/** Runs `fn` over `items` with at most `concurrency` at a time. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Registers and signs in `n` users through REST (scrypt makes each ~100 ms of users' CPU). */
export async function registerUsers(rest: Rest, n: number, prefix: string): Promise<Session[]> {
  const run = `${prefix}-${Date.now().toString(36)}`;
  return pool(
    Array.from({ length: n }, (_, i) => i),
    4,
    async (i) => {
      const email = `${run}-${i}@bench.example.com`;
      const password = "bench-password-1";
      const reg = await rest("POST", "/api/v1/auth/register", { email, password, displayName: `Bench ${i}` });
      if (reg.status !== 201) throw new Error(`register ${email}: ${reg.status} ${JSON.stringify(reg.body)}`);
      const login = await rest("POST", "/api/v1/auth/login", { email, password });
      if (login.status !== 200) throw new Error(`login ${email}: ${login.status} ${JSON.stringify(login.body)}`);
      return { userId: login.body.userId as string, token: login.body.accessToken as string };
    },
  );
}

/** Rows `R1`…`Rn` of seats `R<r>-1`…`R<r>-<perRow>`; the first fifth of the rows is premium. */
export function gridLayout(rows: number, perRow: number) {
  const seatRows: string[][] = [];
  const rowList = Array.from({ length: rows }, (_, r) => {
    const label = `R${r + 1}`;
    const ids = Array.from({ length: perRow }, (_, s) => `${label}-${s + 1}`);
    seatRows.push(ids);
    return {
      label,
      seats: ids.map((id, s) => ({ id, label: id, coordinates: { x: s * 10, y: r * 10 }, seatType: r < rows / 5 ? "premium" : "standard" })),
    };
  });
  return { layout: { sections: [{ id: "main", name: "Main", rows: rowList }] }, seatRows };
}

export interface BenchShowtime {
  showtimeId: string;
  capacity: number;
  /** Seat ids per hall row, in order (neighbours are adjacent seats). */
  seatRows: string[][];
  /** From the showtime's 201 to the first 200 of GET …/inventory (the ShowtimeCreated workflow). */
  inventoryReadyMs: number;
}

/**
 * Venue → hall (rows × perRow seats) → event → showtime through the REST catalog API as admin,
 * then waits until the ShowtimeCreated workflow has initialised the inventory (GET …/inventory
 * answers 200). A new hall each time, so showtimes never overlap. The showtime's orphan-seat
 * rule (on by default) is switched off unless `avoidSingleSeats`: the hold benchmarks pick seats
 * at random places, which would otherwise measure the rule's refusals.
 */
export async function createShowtime(
  rest: Rest,
  adminToken: string,
  name: string,
  rows: number,
  perRow: number,
  opts: { avoidSingleSeats?: boolean } = {},
): Promise<BenchShowtime> {
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const expect = (what: string, r: { status: number; body: unknown }, status = 201) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  };
  const venue = await rest("POST", "/api/v1/venue", { name: `${name} ${stamp}`, address: { city: "Benchville" } }, adminToken);
  expect("venue", venue);
  const venueId = venue.body.venueId as string;
  const { layout, seatRows } = gridLayout(rows, perRow);
  const hall = await rest("POST", `/api/v1/venue/${venueId}/hall`, { hallName: `Hall ${stamp}`, seatLayout: layout }, adminToken);
  expect("hall", hall);
  const event = await rest("POST", "/api/v1/events", { name: `${name} ${stamp}`, category: "concert", durationMinutes: 120 }, adminToken);
  expect("event", event);
  const timestamp = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const showtime = await rest(
    "POST",
    `/api/v1/events/${event.body.eventId}/showtimes`,
    {
      venueId,
      hallId: hall.body.hallId,
      timestamp,
      currency: "EUR",
      prices: [
        { seatType: "premium", amount: 80 },
        { seatType: "standard", amount: 45 },
      ],
    },
    adminToken,
  );
  expect("showtime", showtime);
  const showtimeId = showtime.body.showtimeId as string;
  const t0 = performance.now();
  for (;;) {
    const inv = await rest("GET", `/api/v1/showtimes/${showtimeId}/inventory`);
    if (inv.status === 200) {
      const n = (inv.body.seatMap?.seats ?? []).length as number;
      if (n !== rows * perRow) throw new Error(`inventory of ${showtimeId} has ${n} seats, expected ${rows * perRow}`);
      break;
    }
    if (inv.status !== 404) throw new Error(`inventory: ${inv.status} ${JSON.stringify(inv.body).slice(0, 300)}`);
    if (performance.now() - t0 > 60_000) throw new Error(`inventory of ${showtimeId} not ready after 60 s`);
    await sleep(200);
  }
  const inventoryReadyMs = performance.now() - t0;
  if (!opts.avoidSingleSeats) {
    expect("seating policy", await rest("PUT", `/api/v1/showtimes/${showtimeId}/seating-policy`, { avoidSingleSeats: false }, adminToken), 200);
  }
  return { showtimeId, capacity: rows * perRow, seatRows, inventoryReadyMs };
}

/** A progress line on stderr (the report goes to stdout and docs/benchmarks.md). */
export function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Latencies (ms, sorted) per outcome of one or more closed-loop runs, and the time they took. */
export class Outcomes {
  readonly latencies = new Map<string, number[]>();
  seconds = 0;

  add(outcome: string, ms: number): void {
    let list = this.latencies.get(outcome);
    if (!list) this.latencies.set(outcome, (list = []));
    list.push(ms);
  }

  count(outcome?: string): number {
    if (outcome !== undefined) return this.latencies.get(outcome)?.length ?? 0;
    let n = 0;
    for (const l of this.latencies.values()) n += l.length;
    return n;
  }

  /** Sorted latencies of the given outcomes (all when none given). */
  sorted(...outcomes: string[]): number[] {
    const keys = outcomes.length ? outcomes : [...this.latencies.keys()];
    return keys.flatMap((k) => this.latencies.get(k) ?? []).sort((a, b) => a - b);
  }

  p(pct: number, ...outcomes: string[]): number {
    return percentile(this.sorted(...outcomes), pct);
  }
}

/**
 * `concurrency` workers run `op(i, worker)` in a loop until `total` operations were started or
 * `maxSeconds` passed; every latency is kept under the outcome `op` returns (a throw is
 * "error"). Adds to `into` (so rounds accumulate) and returns it.
 */
export async function closedLoopOutcomes(
  opts: { concurrency: number; total: number; maxSeconds: number; op: (i: number, worker: number) => Promise<string> },
  into = new Outcomes(),
): Promise<Outcomes> {
  let next = 0;
  const deadline = Date.now() + opts.maxSeconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, worker) => {
      while (next < opts.total && Date.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        const outcome = await opts.op(i, worker).catch(() => "error");
        into.add(outcome, performance.now() - t0);
      }
    }),
  );
  into.seconds += (performance.now() - started) / 1000;
  return into;
}

// ─── CPU per process of the stack ───

const CLK_TCK = 100; // USER_HZ on Linux

interface Proc {
  pid: number;
  ppid: number;
  cpuTicks: number;
  label: string;
}

function readProcs(): Proc[] {
  const out: Proc[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      const service = /services\/(\w+)\/main\.ts/.exec(cmd)?.[1];
      const label = service
        ? service
        : cmd.includes("workflows/worker.ts")
          ? "workflow worker"
          : cmd.includes("scripts/start.ts")
            ? "start.ts"
            : /postgres/.test(cmd)
              ? "postgres"
              : /temporal/.test(cmd)
                ? "temporal server"
                : cmd.includes("bench/run.ts")
                  ? "load generator (bench)"
                  : "other";
      out.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        // utime + stime, plus cutime + cstime: children that ended and were reaped (postgres backends)
        cpuTicks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
        label,
      });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** CPU seconds per component: this process and every descendant (the stack), grouped by label. */
export function cpuSnapshot(): Map<string, number> {
  const procs = readProcs();
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byLabel = new Map<string, number>();
  const self = procs.find((p) => p.pid === process.pid);
  const stack: Proc[] = self ? [self] : [];
  while (stack.length) {
    const p = stack.pop()!;
    // descendants of a labelled process count towards it (postgres backends, temporal's binary)
    byLabel.set(p.label, (byLabel.get(p.label) ?? 0) + p.cpuTicks / CLK_TCK);
    for (const c of children.get(p.pid) ?? []) stack.push(c.label === "other" ? { ...c, label: p.label } : c);
  }
  return byLabel;
}

/** CPU seconds used per component between two snapshots, largest first, as "name 1.2 s (34%)". */
/** CPU-seconds used between two snapshots, by every process or by the one named. */
export function cpuUsed(before: Map<string, number>, after: Map<string, number>, processName?: string): number {
  let sum = 0;
  for (const [name, v] of after) if (!processName || name === processName) sum += Math.max(0, v - (before.get(name) ?? 0));
  return sum;
}

export function cpuBreakdown(before: Map<string, number>, after: Map<string, number>, wallSeconds: number): string {
  const used = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0.05);
  used.sort((a, b) => b[1] - a[1]);
  const total = used.reduce((s, [, v]) => s + v, 0);
  const parts = used.map(([k, v]) => `${k} ${v.toFixed(1)} s (${((v / total) * 100).toFixed(0)}%)`);
  return `${total.toFixed(1)} CPU-s in ${wallSeconds.toFixed(1)} s wall (${(total / wallSeconds).toFixed(2)} cores busy): ${parts.join(", ")}`;
}

// ─── the inventory's integrity, from the database ───

export interface Integrity {
  ok: boolean;
  /** Seats named by two or more live bookings (held and unexpired, or confirmed). */
  doubleBooked: number;
  available: number;
  held: number;
  booked: number;
  capacity: number;
  /** Seats listed by live bookings. */
  liveBookingSeats: number;
  /** Of those, seats whose row says held/booked by that very booking. */
  matching: number;
}

/**
 * Checks one showtime in the booking schema: no seat listed by two live bookings; every held or
 * booked seat row belongs to a live booking that lists it (held ↔ held booking, booked ↔
 * confirmed booking), and the live bookings list no other seat; available + held + booked =
 * capacity (an expired hold counts as available, as the service reads it).
 */
export async function inventoryIntegrity(db: import("knex").Knex, showtimeId: string): Promise<Integrity> {
  const { rows } = await db.raw(
    `WITH live AS (
       SELECT b.id, b.status, seat_id FROM booking.bookings b, unnest(b.seat_ids) AS seat_id
       WHERE b.showtime_id = :s AND (b.status = 'confirmed' OR (b.status = 'held' AND b.held_until > now()))
     ), seats AS (
       SELECT seat_id, booking_id,
              CASE WHEN status = 'held' AND held_until <= now() THEN 'available' ELSE status END AS st
       FROM booking.inventory_seats WHERE showtime_id = :s
     )
     SELECT
       (SELECT count(*) FROM (SELECT seat_id FROM live GROUP BY seat_id HAVING count(*) > 1) d)::int AS double_booked,
       (SELECT count(*) FILTER (WHERE st = 'available') FROM seats)::int AS available,
       (SELECT count(*) FILTER (WHERE st = 'held') FROM seats)::int AS held,
       (SELECT count(*) FILTER (WHERE st = 'booked') FROM seats)::int AS booked,
       (SELECT total_seats FROM booking.showtime_inventory WHERE showtime_id = :s)::int AS capacity,
       (SELECT count(*) FROM live)::int AS live_seats,
       (SELECT count(*) FROM live l JOIN seats s ON s.seat_id = l.seat_id AND s.booking_id = l.id
          AND s.st = CASE l.status WHEN 'confirmed' THEN 'booked' ELSE 'held' END)::int AS matching`,
    { s: showtimeId },
  );
  const r = rows[0];
  const out = {
    doubleBooked: r.double_booked,
    available: r.available,
    held: r.held,
    booked: r.booked,
    capacity: r.capacity,
    liveBookingSeats: r.live_seats,
    matching: r.matching,
  };
  const ok =
    out.doubleBooked === 0 &&
    out.held + out.booked === out.liveBookingSeats &&
    out.matching === out.liveBookingSeats &&
    out.available + out.held + out.booked === out.capacity;
  return { ok, ...out };
}

/** The stack counts as quiet below this many cores busy (its idle pollers use some). */
export const QUIET_CORES = 0.35;
const QUIET_MAX_SECONDS = 120;

/**
 * Waits until the stack has worked off what the load before left behind (workflow starts, the
 * workflows' first tasks and activities, notifications): a second in which the stack's
 * processes use less than QUIET_CORES, or QUIET_MAX_SECONDS. Returns how long it took.
 */
export async function waitUntilQuiet(): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const before = cpuSnapshot();
    await sleep(1000);
    if (cpuUsed(before, cpuSnapshot()) < QUIET_CORES || Date.now() - t0 > QUIET_MAX_SECONDS * 1000) return Date.now() - t0;
  }
}
