import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { SearchShowsRequestSchema } from "../../../gen/ticketing/search/v1/search_pb.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { PostgresEngine } from "../engines/postgres.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { distanceMeters, EARTH_RADIUS_M, gridCellOf, gridCover } from "../domain/geo.js";
import { parseSearchRequest } from "../domain/query.js";
import { prng, syntheticDocuments } from "./synthetic.js";

/** A point `distanceM` from the centre on bearing `bearing` (radians), on the haversine sphere. */
function destination(c: { lat: number; lon: number }, distanceM: number, bearing: number): { lat: number; lon: number } {
  const rad = Math.PI / 180;
  const d = distanceM / EARTH_RADIUS_M;
  const lat1 = c.lat * rad;
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(bearing));
  const lon2 = c.lon * rad + Math.atan2(Math.sin(bearing) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
  let lon = lon2 / rad;
  lon = ((((lon + 180) % 360) + 360) % 360) - 180;
  return { lat: lat2 / rad, lon };
}

describe("grid cover (Postgres radius prefilter)", () => {
  it("holds every point within the radius, wherever the centre is (poles and antimeridian included)", () => {
    const rand = prng(11);
    const centres = [
      { lat: 17.4, lon: 78.45 },
      { lat: 0, lon: 179.99 },
      { lat: 0, lon: -179.99 },
      { lat: 89.95, lon: 10 },
      { lat: -89.9, lon: -120 },
      { lat: 64.1, lon: -21.9 },
      { lat: -33.9, lon: 151.2 },
    ];
    for (let i = 0; i < 200; i++) centres.push({ lat: rand() * 178 - 89, lon: rand() * 360 - 180 });
    let checked = 0;
    for (const c of centres) {
      for (const radiusM of [500, 5_000, 25_000, 60_000]) {
        const cover = gridCover(c.lat, c.lon, radiusM, 1_000_000)!;
        const cells = new Set(cover.cells);
        for (let k = 0; k < 200; k++) {
          // the rim, where a miss would be, and inside
          const p = destination(c, radiusM * (k < 100 ? 0.999999 : rand()), rand() * 2 * Math.PI);
          if (distanceMeters(c, p) > radiusM) continue;
          checked++;
          if (!cells.has(gridCellOf(p.lat, p.lon))) throw new Error(`${JSON.stringify(p)} at ${distanceMeters(c, p)} m of ${JSON.stringify(c)} is outside the cover of ${radiusM} m`);
          expect(p.lat).toBeGreaterThanOrEqual(cover.latMin);
          expect(p.lat).toBeLessThanOrEqual(cover.latMax);
          if (cover.lon) {
            expect(p.lon).toBeGreaterThanOrEqual(cover.lon.min);
            expect(p.lon).toBeLessThanOrEqual(cover.lon.max);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });

  it("lists a point on the antimeridian at +180° and −180° alike", () => {
    const cover = gridCover(10, 179.98, 5_000, 1_000)!;
    expect(cover.lon).toBeUndefined();
    expect(cover.cells).toContain(gridCellOf(10, 180));
    expect(cover.cells).toContain(gridCellOf(10, -180));
    expect(cover.cells).toContain(gridCellOf(10, -179.97));
  });

  it("is tight: a 25 km circle needs a few dozen cells, and too wide a circle none (the R-tree's turn)", () => {
    const cover = gridCover(17.4, 78.45, 25_000, 400)!;
    expect(cover.cells.length).toBeGreaterThanOrEqual(16);
    expect(cover.cells.length).toBeLessThanOrEqual(36);
    expect(new Set(cover.cells).size).toBe(cover.cells.length);
    expect(gridCover(17.4, 78.45, 500_000, 400)).toBeUndefined();
    // at a pole every longitude is in reach
    expect(gridCover(89.99, 0, 5_000, 1_000_000)!.cells.length).toBeGreaterThanOrEqual(3600);
  });
});

describe("the grid column in Postgres", () => {
  let database: { url: string; drop(): Promise<void> };
  let db: Knex;
  let engine: PostgresEngine;
  const now = new Date();
  const docAt = () => ({
    ...syntheticDocuments({ count: 1, seed: 3, center: { lat: 0, lon: 0 }, spanDeg: 1, now, pastDays: 0, futureDays: 1, noLocationShare: 0 })[0],
    showtimeId: randomUUID(),
    showtime: new Date(now.getTime() + 86_400_000).toISOString(),
    indexedAt: now.toISOString(),
  });
  const withLocation = (lat: number, lon: number) => {
    const d = docAt();
    d.venue = { ...d.venue, location: { lat, lon } };
    return d;
  };

  beforeAll(async () => {
    database = await createTestDatabase("grid");
    db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 4 });
    engine = new PostgresEngine({ db, logger: silentLogger() });
    await engine.init();
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it("computes the very cell gridCellOf computes, on cell edges, at the poles and on the antimeridian", async () => {
    const points: Array<[number, number]> = [
      [0, 0], [-0.05, -0.05], [0.1, 0.1], [-0.1, -0.1], [0.3, 0.7], [-0.3, -0.7], [17.4, 78.45], [-33.86, 151.21],
      [89.999999, 179.999999], [90, 180], [-90, -180], [45, 180], [45, -180], [12.3, -45.6], [-12.3, 45.6], [1e-7, -1e-7],
    ];
    const rand = prng(5);
    for (let i = 0; i < 200; i++) points.push([+(rand() * 180 - 90).toFixed(6), +(rand() * 360 - 180).toFixed(6)]);
    const docs = points.map(([lat, lon]) => withLocation(lat, lon));
    await engine.upsert(docs);
    const rows: Array<{ showtime_id: string; cell: number; lat: number; lon: number }> = await db
      .withSchema(SCHEMA)
      .table("showtimes")
      .whereIn("showtime_id", docs.map((d) => d.showtimeId))
      .select("showtime_id", "cell", "lat", "lon");
    expect(rows).toHaveLength(points.length);
    for (const r of rows) expect({ at: [r.lat, r.lon], cell: r.cell }).toEqual({ at: [r.lat, r.lon], cell: gridCellOf(r.lat, r.lon) });
  });

  it("a live table without the grid column (rebuilt by an older version) still answers radius searches, through the R-tree", async () => {
    const centre = { lat: -20.5, lon: 57.5 };
    const docs = Array.from({ length: 60 }, (_, i) => withLocation(centre.lat + ((i % 11) - 5) * 0.02, centre.lon + ((i % 7) - 3) * 0.02));
    await engine.upsert(docs);
    const query = parseSearchRequest(create(SearchShowsRequestSchema, { ...centre, distance: "6km", pageSize: 100 }), now);
    const viaGrid = (await engine.search(query)).documents.map((d) => d.showtimeId).sort();
    const expected = docs.filter((d) => distanceMeters(centre, d.venue.location!) <= 6_000).map((d) => d.showtimeId).sort();
    expect(viaGrid).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
    await db.raw(`ALTER TABLE ${SCHEMA}.showtimes DROP COLUMN cell`); // its index goes with it
    expect((await engine.search(query)).documents.map((d) => d.showtimeId).sort()).toEqual(expected);
    expect((await engine.search(query)).documents.map((d) => d.showtimeId).sort()).toEqual(expected);
  });
});
