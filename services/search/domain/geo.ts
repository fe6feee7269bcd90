/**
 * Great-circle distance as Elasticsearch and OpenSearch compute it (haversine on a sphere of the
 * mean Earth radius, Lucene's value). The Postgres backend scales earthdistance's own radius to
 * this one, so both backends and the results' `distanceKm` agree to the millimetre.
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
