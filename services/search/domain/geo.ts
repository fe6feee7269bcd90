/**
 * Great-circle distance as Elasticsearch and OpenSearch compute it (haversine on a sphere of the
 * mean Earth radius, Lucene's value). The Postgres engine scales earthdistance's own radius to
 * this one, so every engine and the results' `distanceKm` agree to the millimetre.
 */
export const EARTH_RADIUS_M = 6_371_008.7714;

export function distanceMeters(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  return distanceMeters(a, b) / 1000;
}

/**
 * The Postgres engine's grid: cells of 0.1° × 0.1° (11 km north–south), numbered
 * (⌊lat·10⌋ + 900) · 3601 + (⌊lon·10⌋ + 1800). A btree over (cell, start) finds a radius's
 * showtimes by a few dozen short range scans, several times cheaper than the R-tree for the
 * radii people search with. `GRID_CELL_COLUMN` (db/migrations.ts) is the same formula in SQL:
 * both floor the same float8 products, so they agree on every point.
 */
export const GRID_CELLS_PER_DEGREE = 10;
const LON_CELLS = 360 * GRID_CELLS_PER_DEGREE + 1;

export function gridCellOf(lat: number, lon: number): number {
  return (Math.floor(lat * GRID_CELLS_PER_DEGREE) + 90 * GRID_CELLS_PER_DEGREE) * LON_CELLS + (Math.floor(lon * GRID_CELLS_PER_DEGREE) + 180 * GRID_CELLS_PER_DEGREE);
}

/** The cells around a circle, and the circle's bounding box (longitudes only when they do not wrap). */
export interface GridCover {
  cells: number[];
  latMin: number;
  latMax: number;
  lon?: { min: number; max: number };
}

/**
 * The grid cells that together hold every point within `radiusM` (haversine on EARTH_RADIUS_M)
 * of the centre, sorted, with the circle's bounding box; undefined when there would be more than
 * `maxCells` (the caller then uses the R-tree). The circle's latitude span is exact
 * (±radius/R); its longitude span is the spherical cap's, asin(sin(radius/R) / cos(lat)), or all
 * longitudes when the cap reaches a pole. Both get 0.1 % of slack. Longitudes wrap at the
 * antimeridian; a point at exactly 180° has its own cell, listed whenever −180°'s is.
 */
export function gridCover(lat: number, lon: number, radiusM: number, maxCells: number): GridCover | undefined {
  const deg = 180 / Math.PI;
  const angle = (radiusM / EARTH_RADIUS_M) * 1.001;
  const dLat = angle * deg;
  const latMin = Math.max(-90, lat - dLat);
  const latMax = Math.min(90, lat + dLat);
  const capReachesPole = Math.abs(lat) / deg + angle >= Math.PI / 2;
  const sinRatio = Math.sin(angle) / Math.cos(lat / deg);
  const dLon = capReachesPole || sinRatio >= 1 ? 180 : Math.min(180, Math.asin(sinRatio) * deg * 1.001);
  const n = GRID_CELLS_PER_DEGREE;
  let colLo = Math.floor((lon - dLon) * n);
  let colHi = Math.floor((lon + dLon) * n);
  if (colHi - colLo + 1 >= 360 * n) {
    colLo = -180 * n;
    colHi = 180 * n - 1;
  }
  const cols = new Set<number>();
  for (let c = colLo; c <= colHi && cols.size <= maxCells; c++) {
    const wrapped = ((((c + 180 * n) % (360 * n)) + 360 * n) % (360 * n)) - 180 * n;
    cols.add(wrapped);
    if (wrapped === -180 * n) cols.add(180 * n);
  }
  const rowLo = Math.floor(latMin * n);
  const rowHi = Math.floor(latMax * n);
  if ((rowHi - rowLo + 1) * cols.size > maxCells) return undefined;
  const cells: number[] = [];
  for (let r = rowLo; r <= rowHi; r++) {
    for (const c of cols) cells.push((r + 90 * n) * LON_CELLS + (c + 180 * n));
  }
  const wraps = dLon >= 180 || lon - dLon < -180 || lon + dLon > 180;
  return {
    cells: cells.sort((a, b) => a - b),
    latMin,
    latMax,
    ...(wraps ? {} : { lon: { min: lon - dLon, max: lon + dLon } }),
  };
}
