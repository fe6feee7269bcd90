/**
 * Seat inventory storage benchmark (docs/adr/0001-seat-inventory-storage.md): what one hold costs
 * as the hall grows, for the seeds' single-JSONB-document design and the alternatives.
 *
 *   npx tsx bench/seat-storage.ts [--database-url=postgres://...] [--iterations=100] [--only=B-rows,C-chunks] [--help]
 *
 * Not part of `npm run bench` (bench/run.ts), which measures the running platform: this one needs
 * only Postgres. Without --database-url it starts a throw-away embedded Postgres (default settings: fsync and
 * synchronous_commit on). Each design gets fresh showtimes of 1,000 and 20,000 seats (rows of 50
 * seats); a hold takes 4 adjacent available seats (as a user picking seats does), atomically.
 *
 *   A-jsonb-sql   seeds' design: one row per showtime, seat_map JSONB {seats: [...]}; one UPDATE
 *                 with nested jsonb_set at known array positions, guarded by each seat's status
 *   A-jsonb-rmw   the same row, read FOR UPDATE, changed in the app, written back whole
 *   B-rows        one row per seat (showtime_id, seat_id): lock the 4 rows ORDER BY seat_id FOR
 *                 UPDATE, UPDATE them; nothing else
 *   B-rows+header B-rows plus `UPDATE header SET last_updated = now()` in the same transaction
 *   B-rows+notify B-rows plus the NOTIFY (showtime + seat ids) that live seat maps need
 *   B-service     the booking service's real hold (HoldsRepo.hold): header read + advisory lock
 *                 (per-user cap), count, row locks, seats + booking row + NOTIFY in one statement
 *   C-chunks      JSONB chunk per hall row (50 seats): jsonb_set within the chunk(s), locked in order
 *
 * Measured: single-client hold latency (p50/p95 ms), WAL bytes per hold, the table's size after
 * the run, 16 concurrent clients on disjoint seats of one 20,000-seat showtime (holds/s, p95;
 * each round after a CHECKPOINT, best of two),
 * and the full seat-map read that GetInventory does.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knexFactory, { type Knex } from "knex";
import { openDatabase } from "../lib/db.js";
import { startEmbeddedPostgres, type RunningPostgres } from "../scripts/dev-infra.js";
import { freePort } from "../scripts/ports.js";
import { migrations, SCHEMA } from "../services/booking/db/migrations.js";
import { bookingRepos, type BookingRepos } from "../services/booking/db/repos.js";

const ROW = 50;
const HOLD = 4;
const CONCURRENCY = 16;
const PER_CLIENT = 40;

interface Design {
  name: string;
  /** Creates a showtime of `n` seats; returns its id. */
  create(n: number): Promise<string>;
  /** Holds seats [first, first + HOLD) of the showtime; throws when one is not available. */
  hold(showtimeId: string, first: number): Promise<void>;
  /** Reads the whole map in the seeds' shape (number of seats read). */
  read(showtimeId: string): Promise<number>;
  /** Relations whose size to report. */
  tables: string[];
}

const seatId = (i: number) => `R${Math.floor(i / ROW) + 1}S${(i % ROW) + 1}`;
const seatIds = (n: number) => Array.from({ length: n }, (_, i) => seatId(i));
const heldSeat = (id: string, user: string, booking: string) => ({
  seatId: id,
  status: "held",
  holderId: user,
  heldUntil: new Date(Date.now() + 600_000).toISOString(),
  bookingId: booking,
});
const freeSeat = (id: string) => ({ seatId: id, status: "available", holderId: null, heldUntil: null, bookingId: null });

const USAGE = `Seat inventory storage benchmark (docs/adr/0001-seat-inventory-storage.md).

  npx tsx bench/seat-storage.ts [--database-url=postgres://...] [--iterations=100] [--only=B-rows,C-chunks]

  --database-url  a Postgres to use (default: a throw-away embedded Postgres)
  --iterations    holds per single-client run (default 100)
  --only          designs to run, comma-separated: A-jsonb-sql, A-jsonb-rmw, B-rows, B-rows+header,
                  B-rows+notify, B-service, C-chunks (default: all)
`;

function args(): { databaseUrl?: string; iterations: number; only?: string[] } {
  const get = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return { databaseUrl: get("database-url"), iterations: Number(get("iterations") ?? 100), only: get("only")?.split(",") };
}

async function setupBenchSchema(k: Knex): Promise<void> {
  await k.raw(`CREATE SCHEMA bench`);
  await k.raw(`CREATE TABLE bench.doc (showtime_id uuid PRIMARY KEY, last_updated timestamptz NOT NULL, seat_map jsonb NOT NULL)`);
  await k.raw(`CREATE TABLE bench.header (showtime_id uuid PRIMARY KEY, last_updated timestamptz NOT NULL)`);
  await k.raw(`CREATE TABLE bench.seats (
    showtime_id uuid NOT NULL, seat_id text NOT NULL, ordinal int NOT NULL, status text NOT NULL DEFAULT 'available',
    holder_id uuid, booking_id uuid, held_until timestamptz, changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (showtime_id, seat_id)) WITH (fillfactor = 90)`);
  await k.raw(`CREATE UNIQUE INDEX ON bench.seats (showtime_id, ordinal)`);
  await k.raw(`CREATE TABLE bench.chunks (showtime_id uuid NOT NULL, chunk int NOT NULL, seats jsonb NOT NULL, PRIMARY KEY (showtime_id, chunk))`);
}

function designs(k: Knex, repo: BookingRepos): Design[] {
  const createRows = async (n: number) => {
    const id = randomUUID();
    await k.raw(`INSERT INTO bench.header VALUES (?, now())`, [id]);
    await k.raw(
      `INSERT INTO bench.seats (showtime_id, seat_id, ordinal) SELECT ?, s, o FROM unnest(?::text[]) WITH ORDINALITY AS t(s, o)`,
      [id, seatIds(n)],
    );
    return id;
  };
  const readRows = async (id: string) => {
    const { rows } = await k
      .raw(`SELECT seat_id, status, holder_id, booking_id, held_until FROM bench.seats WHERE showtime_id = ? ORDER BY ordinal`, [id])
      .options({ rowMode: "array" });
    return rows.length;
  };
  const rowsHold = (withHeader: boolean, withNotify = false) => async (id: string, first: number) => {
    const ids = Array.from({ length: HOLD }, (_, i) => seatId(first + i));
    await k.transaction(async (trx) => {
      const { rows } = await trx.raw(
        `SELECT seat_id, status FROM bench.seats WHERE showtime_id = ? AND seat_id = ANY(?::text[]) ORDER BY seat_id FOR UPDATE`,
        [id, ids],
      );
      if (rows.some((r: { status: string }) => r.status !== "available")) throw new Error("taken");
      await trx.raw(
        `UPDATE bench.seats SET status = 'held', holder_id = ?, booking_id = ?, held_until = now() + interval '10 minutes', changed_at = now()
         WHERE showtime_id = ? AND seat_id = ANY(?::text[])`,
        [randomUUID(), randomUUID(), id, ids],
      );
      if (withHeader) await trx.raw(`UPDATE bench.header SET last_updated = now() WHERE showtime_id = ?`, [id]);
      if (withNotify) await trx.raw(`SELECT pg_notify('bench_seats', ?)`, [JSON.stringify({ s: id, ids })]);
    });
  };

  return [
    {
      name: "A-jsonb-sql",
      tables: ["bench.doc"],
      async create(n) {
        const id = randomUUID();
        await k.raw(`INSERT INTO bench.doc VALUES (?, now(), ?::jsonb)`, [id, JSON.stringify({ seats: seatIds(n).map(freeSeat) })]);
        return id;
      },
      async hold(id, first) {
        // positions are known (the app would cache seatId → index); nested jsonb_set, one statement
        let expr = "seat_map";
        const bindings: string[] = [];
        const user = randomUUID();
        const booking = randomUUID();
        for (let i = 0; i < HOLD; i++) {
          expr = `jsonb_set(${expr}, ?::text[], ?::jsonb)`;
          bindings.push(`{seats,${first + i}}`, JSON.stringify(heldSeat(seatId(first + i), user, booking)));
        }
        const guards = Array.from({ length: HOLD }, (_, i) => `seat_map #>> '{seats,${first + i},status}' = 'available'`).join(" AND ");
        const r = await k.raw(`UPDATE bench.doc SET seat_map = ${expr}, last_updated = now() WHERE showtime_id = ? AND ${guards}`, [
          ...bindings,
          id,
        ]);
        if (r.rowCount !== 1) throw new Error("taken");
      },
      async read(id) {
        const { rows } = await k.raw(`SELECT last_updated, seat_map FROM bench.doc WHERE showtime_id = ?`, [id]);
        return rows[0].seat_map.seats.length;
      },
    },
    {
      name: "A-jsonb-rmw",
      tables: ["bench.doc"],
      async create(n) {
        const id = randomUUID();
        await k.raw(`INSERT INTO bench.doc VALUES (?, now(), ?::jsonb)`, [id, JSON.stringify({ seats: seatIds(n).map(freeSeat) })]);
        return id;
      },
      async hold(id, first) {
        await k.transaction(async (trx) => {
          const { rows } = await trx.raw(`SELECT seat_map FROM bench.doc WHERE showtime_id = ? FOR UPDATE`, [id]);
          const map = rows[0].seat_map as { seats: Array<{ seatId: string; status: string }> };
          const user = randomUUID();
          const booking = randomUUID();
          for (let i = first; i < first + HOLD; i++) {
            if (map.seats[i].status !== "available") throw new Error("taken");
            map.seats[i] = heldSeat(map.seats[i].seatId, user, booking);
          }
          await trx.raw(`UPDATE bench.doc SET seat_map = ?::jsonb, last_updated = now() WHERE showtime_id = ?`, [JSON.stringify(map), id]);
        });
      },
      async read(id) {
        const { rows } = await k.raw(`SELECT last_updated, seat_map FROM bench.doc WHERE showtime_id = ?`, [id]);
        return rows[0].seat_map.seats.length;
      },
    },
    { name: "B-rows", tables: ["bench.seats"], create: createRows, hold: rowsHold(false), read: readRows },
    { name: "B-rows+header", tables: ["bench.seats", "bench.header"], create: createRows, hold: rowsHold(true), read: readRows },
    { name: "B-rows+notify", tables: ["bench.seats"], create: createRows, hold: rowsHold(false, true), read: readRows },
    {
      name: "B-service",
      tables: [`${SCHEMA}.inventory_seats`, `${SCHEMA}.bookings`],
      async create(n) {
        const id = randomUUID();
        await repo.inventory.createInventory(
          {
            showtimeId: id,
            eventId: randomUUID(),
            venueId: randomUUID(),
            hallId: randomUUID(),
            startsAt: new Date(Date.now() + 86_400_000),
            currency: "USD",
            prices: { standard: 2500 },
          },
          seatIds(n).map((s) => ({ seatId: s, seatType: "standard" })),
        );
        return id;
      },
      async hold(id, first) {
        // through the service's own pool (search_path = booking)
        await repo.holds.db.transaction((trx) =>
          repo.holds.hold(trx, {
            bookingId: randomUUID(),
            showtimeId: id,
            userId: randomUUID(),
            seatIds: Array.from({ length: HOLD }, (_, i) => seatId(first + i)),
            holdSeconds: 600,
            maxHeldPerUser: 10,
          }),
        );
      },
      async read(id) {
        return (await repo.inventory.seatMap(id))!.seats.length;
      },
    },
    {
      name: "C-chunks",
      tables: ["bench.chunks"],
      async create(n) {
        const id = randomUUID();
        const chunks = [];
        for (let c = 0; c * ROW < n; c++) {
          chunks.push(JSON.stringify(seatIds(Math.min(n, (c + 1) * ROW)).slice(c * ROW).map(freeSeat)));
        }
        await k.raw(`INSERT INTO bench.chunks SELECT ?, o - 1, s::jsonb FROM unnest(?::text[]) WITH ORDINALITY AS t(s, o)`, [id, chunks]);
        return id;
      },
      async hold(id, first) {
        const byChunk = new Map<number, number[]>();
        for (let i = first; i < first + HOLD; i++) {
          const c = Math.floor(i / ROW);
          byChunk.set(c, [...(byChunk.get(c) ?? []), i % ROW]);
        }
        const user = randomUUID();
        const booking = randomUUID();
        await k.transaction(async (trx) => {
          const chunks = [...byChunk.keys()].sort((a, b) => a - b);
          await trx.raw(`SELECT 1 FROM bench.chunks WHERE showtime_id = ? AND chunk = ANY(?::int[]) ORDER BY chunk FOR UPDATE`, [id, chunks]);
          for (const c of chunks) {
            let expr = "seats";
            const bindings: string[] = [];
            for (const pos of byChunk.get(c)!) {
              expr = `jsonb_set(${expr}, ?::text[], ?::jsonb)`;
              bindings.push(`{${pos}}`, JSON.stringify(heldSeat(seatId(c * ROW + pos), user, booking)));
            }
            const guards = byChunk.get(c)!.map((pos) => `seats #>> '{${pos},status}' = 'available'`).join(" AND ");
            const r = await trx.raw(`UPDATE bench.chunks SET seats = ${expr} WHERE showtime_id = ? AND chunk = ? AND ${guards}`, [
              ...bindings,
              id,
              c,
            ]);
            if (r.rowCount !== 1) throw new Error("taken");
          }
        });
      },
      async read(id) {
        const { rows } = await k.raw(`SELECT seats FROM bench.chunks WHERE showtime_id = ? ORDER BY chunk`, [id]);
        return rows.reduce((n: number, r: { seats: unknown[] }) => n + r.seats.length, 0);
      },
    },
  ];
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const fmt = (ms: number) => ms.toFixed(2);

async function walBytes(k: Knex, fn: () => Promise<void>): Promise<number> {
  const before = (await k.raw(`SELECT pg_current_wal_lsn() AS l`)).rows[0].l;
  await fn();
  const { rows } = await k.raw(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?) AS d`, [before]);
  return Number(rows[0].d);
}

async function relSize(k: Knex, tables: string[]): Promise<number> {
  let total = 0;
  for (const t of tables) total += Number((await k.raw(`SELECT pg_total_relation_size(?::regclass) AS s`, [t])).rows[0].s);
  return total;
}

async function singleClient(k: Knex, d: Design, seats: number, iterations: number) {
  const id = await d.create(seats);
  const warmup = 10;
  for (let i = 0; i < warmup; i++) await d.hold(id, i * HOLD);
  const times: number[] = [];
  const wal = await walBytes(k, async () => {
    for (let i = warmup; i < warmup + iterations; i++) {
      const t0 = performance.now();
      await d.hold(id, i * HOLD);
      times.push(performance.now() - t0);
    }
  });
  times.sort((a, b) => a - b);
  const readTimes: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const n = await d.read(id);
    readTimes.push(performance.now() - t0);
    if (n !== seats) throw new Error(`${d.name} read ${n} of ${seats} seats`);
  }
  readTimes.sort((a, b) => a - b);
  return { p50: pct(times, 50), p95: pct(times, 95), walPerHold: wal / iterations, readP50: pct(readTimes, 50) };
}

async function concurrent(k: Knex, d: Design, seats: number, perClient: number) {
  const id = await d.create(seats);
  await k.raw(`CHECKPOINT`); // every design starts from the same state of the WAL
  const times: number[] = [];
  // what the holding backends wait on, sampled every 10 ms (the top ones are printed)
  const waits = new Map<string, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await k.raw(
        `SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') AS w FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`,
      );
      for (const r of rows as Array<{ w: string }>) waits.set(r.w, (waits.get(r.w) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const first = (c * perClient + i) * HOLD; // disjoint seats per client
        const s = performance.now();
        await d.hold(id, first);
        times.push(performance.now() - s);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  sampling = false;
  await sampler;
  times.sort((a, b) => a - b);
  const total = [...waits.values()].reduce((a, b) => a + b, 0) || 1;
  const top = [...waits]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([w, n]) => `${w} ${Math.round((100 * n) / total)}%`)
    .join(", ");
  return { perSecond: (CONCURRENCY * perClient) / (elapsed / 1000), p95: pct(times, 95), top };
}

async function main() {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(USAGE);
    return;
  }
  const { databaseUrl, iterations, only } = args();
  let pg: RunningPostgres | undefined;
  let dir: string | undefined;
  let url = databaseUrl;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), "seat-bench-"));
    chmodSync(dir, 0o755);
    pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port: await freePort(), database: "seatbench" });
    url = pg.url;
  }
  const k = knexFactory({ client: "pg", connection: url, pool: { min: 0, max: CONCURRENCY + 4 } });
  const serviceDb = await openDatabase({ url, schema: SCHEMA, migrations, poolMax: CONCURRENCY + 4 });
  try {
    await k.raw(`DROP SCHEMA IF EXISTS bench CASCADE`);
    await setupBenchSchema(k);
    const version = (await k.raw(`SHOW server_version`)).rows[0].server_version;
    console.log(`Postgres ${version}; hold = ${HOLD} adjacent seats; ${iterations} holds per run after 10 warm-up holds\n`);
    const all = designs(k, bookingRepos(serviceDb)).filter((d) => !only || only.includes(d.name));
    console.log("| design | seats | hold p50 ms | hold p95 ms | WAL/hold | full read p50 ms | size after run |");
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const d of all) {
      for (const seats of [1_000, 20_000]) {
        const before = await relSize(k, d.tables);
        const r = await singleClient(k, d, seats, iterations);
        const size = (await relSize(k, d.tables)) - before;
        console.log(
          `| ${d.name} | ${seats.toLocaleString("en")} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${(r.walPerHold / 1024).toFixed(1)} KiB | ` +
            `${fmt(r.readP50)} | +${(size / 1024 / 1024).toFixed(1)} MiB |`,
        );
      }
    }
    console.log(`\n${CONCURRENCY} concurrent clients, disjoint seats, one 20,000-seat showtime (best of 2 rounds, the second in reverse order):\n`);
    console.log("| design | holds | holds/s | p95 ms | backends mostly wait on |");
    console.log("|---|---:|---:|---:|---|");
    // the single-document designs serialise every hold: fewer of them, or this takes minutes
    const perClient = (d: Design) => (d.name.startsWith("A-") ? 5 : PER_CLIENT);
    const best = new Map<string, { perSecond: number; p95: number; top: string }>();
    for (const order of [all, [...all].reverse()]) {
      for (const d of order) {
        const r = await concurrent(k, d, 20_000, perClient(d));
        if (!best.has(d.name) || best.get(d.name)!.perSecond < r.perSecond) best.set(d.name, r);
      }
    }
    for (const d of all) {
      const r = best.get(d.name)!;
      console.log(`| ${d.name} | ${CONCURRENCY * perClient(d)} | ${r.perSecond.toFixed(0)} | ${fmt(r.p95)} | ${r.top} |`);
    }
  } finally {
    await k.destroy();
    await serviceDb.destroy();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
