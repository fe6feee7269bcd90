/**
 * Hall creation with a 10,000-seat layout (issue 3's target: well under a second of server
 * time), through the REST gateway and straight to the catalog service over Connect, side by
 * side with the floor: one INSERT of the same JSON into Postgres.
 */
import knexFactory from "knex";
import type { Benchmark } from "./context";
import { ms, percentile } from "./stats";

function layout(rows: number, perRow: number) {
  const rowList = Array.from({ length: rows }, (_, r) => {
    const label = `R${r + 1}`;
    return {
      label,
      seats: Array.from({ length: perRow }, (_, s) => ({
        id: `${label}-${s + 1}`,
        label: `${label}-${s + 1}`,
        coordinates: { x: s * 10, y: r * 10 },
        seatType: r < rows / 5 ? "premium" : "standard",
      })),
    };
  });
  return { sections: [{ id: "main", name: "Main", rows: rowList }] };
}

async function timeMany(n: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  await fn(); // warm-up
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

export const catalogBench: Benchmark = {
  name: "catalog: create a hall",
  async run({ stack, adminToken, rest }) {
    const venue = await rest("POST", "/api/v1/venue", { name: `Bench Arena ${Date.now()}`, address: { city: "Benchville" } }, adminToken);
    if (venue.status !== 201) throw new Error(`venue: ${venue.status} ${JSON.stringify(venue.body)}`);
    const venueId = venue.body.venueId;
    const big = layout(100, 100); // 10,000 seats
    const small = layout(10, 10); // 100 seats
    const N = 10;

    const viaRest = (seatLayout: object) => async () => {
      const r = await rest("POST", `/api/v1/venue/${venueId}/hall`, { hallName: "H", seatLayout }, adminToken);
      if (r.status !== 201) throw new Error(`hall: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    };
    const catalogUrl = `http://127.0.0.1:${stack.ports.CATALOG_PORT}`;
    const direct = (seatLayout: object) => async () => {
      const r = await fetch(`${catalogUrl}/ticketing.catalog.v1.CatalogService/CreateHall`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ venueId, hallName: "H", seatLayout }),
      });
      if (r.status !== 200) throw new Error(`direct hall: ${r.status} ${await r.text()}`);
    };
    const db = knexFactory({ client: "pg", connection: stack.databaseUrl, pool: { min: 1, max: 1 } });
    await db.raw("CREATE TEMP TABLE bench_halls (id serial primary key, layout jsonb)");
    const rawInsert = (seatLayout: object) => async () => {
      await db.raw("INSERT INTO bench_halls (layout) VALUES (?::jsonb)", [JSON.stringify(seatLayout)]);
    };

    const rows: Array<[string, number[]]> = [];
    rows.push(["Postgres: one INSERT of the 10,000-seat layout JSON (floor)", await timeMany(N, rawInsert(big))]);
    rows.push(["catalog over Connect: 10,000 seats", await timeMany(N, direct(big))]);
    rows.push(["gateway REST → catalog: 10,000 seats", await timeMany(N, viaRest(big))]);
    rows.push(["gateway REST → catalog: 100 seats", await timeMany(N, viaRest(small))]);
    await db.destroy();

    const floor = percentile(rows[0][1], 50);
    const bytes = JSON.stringify({ hallName: "H", seatLayout: big }).length;
    return [
      `10,000-seat layout: ${(bytes / 1024).toFixed(0)} KiB of JSON. ${N} sequential requests each after one warm-up; times are client-side on loopback.`,
      "",
      "| operation | p50 | p95 | p50 vs. the Postgres floor |",
      "|---|---|---|---|",
      ...rows.map(([label, t]) => `| ${label} | ${ms(percentile(t, 50))} | ${ms(percentile(t, 95))} | ${(percentile(t, 50) / floor).toFixed(1)}× |`),
    ].join("\n");
  },
};
