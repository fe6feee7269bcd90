import { distanceMeters, EARTH_RADIUS_M, gridCellOf, gridCover } from "../domain/geo.js";
import { prng } from "../synthetic.js";

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
