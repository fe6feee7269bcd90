/**
 * An on-sale behind the waiting room (issue 16): 20,000 buyers arrive in the same minute for a
 * 2,000-seat showtime. The room opens half-way through the arrivals, so about half wait in the
 * pre-queue and are shuffled at opening, the rest join at the back. Reports:
 *
 * - the admission rate the room achieved against the one configured (from the places' admission
 *   times in the database, over the first minute after opening);
 * - the position stream's update lag: a sample of buyers watch their place over
 *   WatchMyQueueEntry through the gateway (Connect, as the browser does), and each update is
 *   timed against the moment the serving number's NOTIFY reached a listener of the bench's own;
 * - that no hold without a token got through (a share of the arrivals try one), while admitted
 *   buyers hold with theirs;
 * - the cost of a join, in CPU-ms across the stack.
 */
import { setMaxListeners } from "node:events";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import { AdmissionService } from "../gen/ticketing/admission/v1/admission_pb";
import { syntheticBuyers } from "./buyers";
import type { Benchmark, BenchContext } from "./context";
import { openLoop, scheduleText } from "./open-loop";
import { adminSession, cpuBreakdown, cpuSnapshot, cpuUsed, createShowtime, pool, progress, sleep, type Session } from "./platform";
import { ms, percentile } from "./stats";

const BUYERS = Number(process.env.BENCH_WAITING_ROOM_BUYERS ?? 20_000);
/** The first on-sale's crowd: about what this 2-core machine takes in a minute (~13 CPU-ms a join). */
const FITTING_BUYERS = Math.min(BUYERS, 6_000);
const ARRIVAL_SECONDS = 60;
/** Admissions per minute the room is configured with. */
const RATE_PER_MINUTE = 1_200;
/** Buyers who watch their place over the stream. */
const WATCHERS = 200;
/** Every n-th arrival also tries to hold without a token. */
const TOKENLESS_EVERY = 10;
/** How long the room keeps admitting after the last arrival, to measure a full minute of it. */
const AFTER_SECONDS = 45;
const ROOM_CHANNEL = "admission_rooms";

export const waitingRoomBench: Benchmark = {
  name: "waiting-room: 20,000 buyers in one minute for 2,000 seats",
  async run(ctx: BenchContext): Promise<string> {
    const db = knexFactory({ client: "pg", connection: ctx.stack.databaseUrl, pool: { min: 0, max: 4 } });
    try {
      progress(`signing in ${BUYERS} buyers`);
      const buyers = await syntheticBuyers(db, ctx.rest, BUYERS, "wr", 16);
      // first an arrival rate this machine can take, then the rush, each on a showtime of its own
      const fits = await onSale(ctx, db, buyers.slice(0, FITTING_BUYERS));
      const rush = await onSale(ctx, db, buyers);
      const rows = Object.keys(rush) as Array<keyof Measures>;
      return [
        `Buyers arrive over ${ARRIVAL_SECONDS} s (Poisson) for a 2,000-seat showtime; the room opens ${ARRIVAL_SECONDS / 2} s into the arrivals and admits ${RATE_PER_MINUTE.toLocaleString("en")} per minute. Joins through the REST gateway, and a join the room's door sheds (429) knocks again after Retry-After, doubling its wait each time up to 30 s, as the queue page does; ${WATCHERS} buyers watch their place over WatchMyQueueEntry (Connect through the gateway); every ${TOKENLESS_EVERY}th arrival also tries to hold without a token. Two on-sales in one run: ${FITTING_BUYERS.toLocaleString("en")} buyers (about what this 2-core machine takes in a minute, all of the stack and the load generator on it) and the issue's ${BUYERS.toLocaleString("en")}.`,
        "",
        `| measure | ${FITTING_BUYERS.toLocaleString("en")} in a minute | ${BUYERS.toLocaleString("en")} in a minute | target |`,
        "|---|---|---|---|",
        ...rows.map((k) => `| ${LABELS[k][0]} | ${fits[k]} | ${rush[k]} | ${LABELS[k][1]} |`),
      ].join("\n");
    } finally {
      await db.destroy();
    }
  },
};

interface Measures {
  arrivals: string;
  joins: string;
  prequeue: string;
  admitted: string;
  lag: string;
  tokenless: string;
  admittedHolds: string;
  cpu: string;
  cpuBreakdown: string;
}

const LABELS: Record<keyof Measures, [string, string]> = {
  arrivals: ["arrivals (as sent by the load generator)", "all in the minute"],
  joins: ["joins answered 200 (from arrival to the place, knocks after a 429 included)", "all"],
  prequeue: ["places in the pre-queue at opening (shuffled)", ""],
  admitted: ["admitted in the first minute after opening (5 s to 65 s), of the configured rate", "±10 % while people wait"],
  lag: ["position-stream update lag (the serving number's NOTIFY → the watcher has the update)", ""],
  tokenless: ["holds without a token", "0 accepted"],
  admittedHolds: ["admitted watchers holding 2 best-available seats with their token", "all"],
  cpu: ["CPU per join across the stack (its share of the stream pushes and the gate workflow included)", ""],
  cpuBreakdown: ["CPU during the arrivals", ""],
};

async function onSale(ctx: BenchContext, db: Knex, buyers: Session[]): Promise<Measures> {
  const listener = new pg.Client({ connectionString: ctx.stack.databaseUrl });
  const streams = new AbortController();
  setMaxListeners(WATCHERS + 50, streams.signal);
  const count = buyers.length;
  try {
    {
      progress(`on-sale: ${count.toLocaleString("en")} buyers in ${ARRIVAL_SECONDS} s`);
      const admin = await adminSession(ctx.rest);
      const st = await createShowtime(ctx.rest, admin, "Waiting room", 40, 50);
      // the serving number's moves, as a listener of our own sees them
      const servedAt = new Map<number, number>();
      await listener.connect();
      listener.on("notification", (n) => {
        if (n.channel !== ROOM_CHANNEL || !n.payload) return;
        const m = JSON.parse(n.payload) as { showtimeId: string; servingNumber: number; state: string };
        // only the open room's moves: the configuration's message also says serving number 0
        if (m.showtimeId === st.showtimeId && m.state === "open" && !servedAt.has(m.servingNumber)) servedAt.set(m.servingNumber, performance.now());
      });
      await listener.query(`LISTEN ${ROOM_CHANNEL}`);

      const onSaleAt = new Date(Date.now() + 20_000 + (ARRIVAL_SECONDS / 2) * 1000);
      const configure = await ctx.rest(
        "PUT",
        `/api/v1/showtimes/${st.showtimeId}/waiting-room`,
        { enabled: true, onSaleAt: onSaleAt.toISOString(), admissionRatePerMinute: RATE_PER_MINUTE, admissionWindowSeconds: 600 },
        admin,
      );
      if (configure.status !== 200) throw new Error(`configure the room: ${configure.status} ${JSON.stringify(configure.body)}`);
      await waitFor(async () => Date.now() >= onSaleAt.getTime() - (ARRIVAL_SECONDS / 2) * 1000, 30_000);

      // the watchers: the first WATCHERS buyers of the schedule, each following their place once joined
      const transport = createConnectTransport({ baseUrl: ctx.stack.gateway, httpVersion: "1.1" });
      const client = createClient(AdmissionService, transport);
      const lags: number[] = [];
      let streamErrors = 0;
      const admittedTokens: Array<{ buyer: Session; token: string }> = [];
      const watch = async (buyer: Session) => {
        let first = true;
        try {
          for await (const msg of client.watchMyQueueEntry(
            { showtimeId: st.showtimeId },
            { signal: streams.signal, headers: { authorization: `Bearer ${buyer.token}` } },
          )) {
            const now = performance.now();
            const e = msg.entry;
            if (!e) continue;
            if (!first && e.position > 0n) {
              // the serving number this update reflects, and when its NOTIFY was seen
              const serving = e.status === "admitted" ? Number(e.position) : Number(e.position - e.ahead - 1n);
              const at = firstAtOrAbove(servedAt, serving);
              if (at !== undefined) lags.push(now - at);
            }
            first = false;
            if (e.status === "admitted") {
              admittedTokens.push({ buyer, token: e.admissionToken });
              return;
            }
            if (e.status === "lapsed" || e.status === "closed") return;
          }
        } catch {
          if (!streams.signal.aborted) streamErrors++;
        }
      };
      const watching: Array<Promise<void>> = [];

      // the arrivals
      let tokenless = 0;
      let shed = 0;
      let tokenlessRefused = 0;
      let tokenlessAccepted = 0;
      const joinStatus = new Map<number, number>();
      const cpu0 = cpuSnapshot();
      const t0 = performance.now();
      const arrivals = await openLoop({
        rate: count / ARRIVAL_SECONDS,
        seconds: ARRIVAL_SECONDS,
        seed: 16,
        op: async (i) => {
          const buyer = buyers[i % buyers.length];
          // as the queue page does: a join the room sheds (429) knocks again after its Retry-After
          let r = await ctx.rest("POST", `/api/v1/showtimes/${st.showtimeId}/waiting-room/entries`, {}, buyer.token);
          for (let knock = 1, wait = 0; r.status === 429 && knock < 30; knock++) {
            shed++;
            wait = Math.min(30, Math.max(r.retryAfterSeconds ?? 2, wait * 2));
            await sleep(wait * 1000 * (0.8 + Math.random() * 0.4));
            r = await ctx.rest("POST", `/api/v1/showtimes/${st.showtimeId}/waiting-room/entries`, {}, buyer.token);
          }
          joinStatus.set(r.status, (joinStatus.get(r.status) ?? 0) + 1);
          if (r.status !== 200) return `join ${r.status}`;
          if (i < WATCHERS) watching.push(watch(buyer));
          if (i % TOKENLESS_EVERY === 0) {
            tokenless++;
            const seat = st.seatRows[i % st.seatRows.length][0];
            const hold = await ctx.rest("POST", `/api/v1/showtimes/${st.showtimeId}/seats/reserve`, { seatIds: [seat] }, buyer.token);
            if (hold.status === 403) tokenlessRefused++;
            else if (hold.status === 201) tokenlessAccepted++;
          }
          return "joined";
        },
      });
      const joinWall = (performance.now() - t0) / 1000;
      const cpu1 = cpuSnapshot();
      progress(`arrivals done: ${scheduleText(arrivals)}`);

      // a full minute of admissions after opening, then close the room
      await waitFor(async () => Date.now() >= onSaleAt.getTime() + (ARRIVAL_SECONDS / 2 + AFTER_SECONDS) * 1000, 120_000);
      const room = (await db.raw(`SELECT opened_at, serving_number, last_position FROM admission.rooms WHERE showtime_id = ?`, [st.showtimeId])).rows[0];
      const openedAt = room.opened_at as Date;
      const minute = (
        await db.raw(
          `SELECT count(*)::int AS n FROM admission.entries WHERE showtime_id = ? AND admitted_at >= ?::timestamptz + interval '5 seconds'
             AND admitted_at < ?::timestamptz + interval '65 seconds'`,
          [st.showtimeId, openedAt, openedAt],
        )
      ).rows[0].n as number;
      const waitingAfter = (
        await db.raw(
          `SELECT count(*)::int AS n FROM admission.entries WHERE showtime_id = ? AND joined_at < ?::timestamptz + interval '65 seconds'
             AND (admitted_at IS NULL OR admitted_at >= ?::timestamptz + interval '65 seconds')`,
          [st.showtimeId, openedAt, openedAt],
        )
      ).rows[0].n as number;
      const prequeued = (
        await db.raw(`SELECT count(*)::int AS n FROM admission.entries WHERE showtime_id = ? AND joined_at < ?`, [st.showtimeId, openedAt])
      ).rows[0].n as number;

      // admitted watchers hold two seats each with their token
      let admittedHolds = 0;
      await pool(admittedTokens, 8, async ({ buyer, token }) => {
        const r = await ctx.rest("POST", `/api/v1/showtimes/${st.showtimeId}/seats/best`, { quantity: 2, admissionToken: token }, buyer.token);
        if (r.status === 201) admittedHolds++;
      });

      await ctx.rest("PUT", `/api/v1/showtimes/${st.showtimeId}/waiting-room`, { enabled: false }, await adminSession(ctx.rest));
      streams.abort();
      await Promise.all(watching);

      lags.sort((a, b) => a - b);
      const joins = arrivals.out.count("joined");
      const cpuMs = (cpuUsed(cpu0, cpu1) * 1000) / Math.max(1, joins);
      const failed = [...joinStatus].filter(([code]) => code !== 200).map(([code, n]) => `; ${n.toLocaleString("en")} × ${code}`).join("");
      return {
        arrivals: scheduleText(arrivals),
        joins: `${joins.toLocaleString("en")} (p50 ${ms(arrivals.out.p(50, "joined"))}, p99 ${ms(arrivals.out.p(99, "joined"))})${failed}; ${shed.toLocaleString("en")} knocks shed`,
        prequeue: prequeued.toLocaleString("en"),
        admitted: `${minute.toLocaleString("en")} = **${((minute / RATE_PER_MINUTE) * 100).toFixed(1)} %** of ${RATE_PER_MINUTE.toLocaleString("en")}; ${waitingAfter.toLocaleString("en")} still waiting at 65 s`,
        lag: `${lags.length.toLocaleString("en")} updates: p50 ${ms(percentile(lags, 50))}, p99 **${ms(percentile(lags, 99))}**; ${streamErrors} of ${WATCHERS} streams broke`,
        tokenless: `${tokenless} tried: ${tokenlessRefused} refused (403), **${tokenlessAccepted} accepted**`,
        admittedHolds: `${admittedHolds} of ${admittedTokens.length}`,
        cpu: `**${cpuMs.toFixed(1)} CPU-ms**`,
        cpuBreakdown: cpuBreakdown(cpu0, cpu1, joinWall),
      };
    }
  } finally {
    streams.abort();
    await listener.end().catch(() => undefined);
  }
}

function firstAtOrAbove(servedAt: Map<number, number>, serving: number): number | undefined {
  let best: number | undefined;
  let bestKey = Infinity;
  for (const [k, t] of servedAt) if (k >= serving && k < bestKey) [best, bestKey] = [t, k];
  return best;
}

async function waitFor(cond: () => Promise<boolean>, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(100);
  }
}
