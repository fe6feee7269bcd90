import type { SearchShowsRequest } from "../../../gen/ticketing/search/v1/search_pb.js";
import { invalidArgument } from "../../../lib/errors.js";

/** What an engine searches for: the request, validated and normalised. */
export interface SearchQuery {
  /** The user's position and the radius around it; absent = no location filter or ordering. */
  near?: { lat: number; lon: number; radiusKm: number };
  /** Free text, trimmed; absent = no text match (ordered by distance, then time). */
  text?: string;
  /** Earliest start, inclusive (now unless startDate says otherwise). */
  from: Date;
  /** Latest start, inclusive; absent = no upper bound. */
  to?: Date;
  /** Exact event category, matched case-insensitively. */
  category?: string;
  /** Exact venue city, matched case-insensitively. */
  city?: string;
  offset: number;
  limit: number;
}

export const DEFAULT_RADIUS_KM = 25;
export const MAX_RADIUS_KM = 500;
export const DEFAULT_PAGE_SIZE = 20;

const UNIT_KM: Record<string, number> = { m: 0.001, km: 1, mi: 1.609344 };

/** "10km", "800m", "5mi", "2.5 km" → kilometres; throws a 400 that names `distance`. */
export function parseDistance(raw: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!m) throw invalidArgument("distance", `"${raw}" is not a distance: use a number and a unit among m, km, mi (e.g. 10km)`);
  const unit = m[2].toLowerCase();
  if (!(unit in UNIT_KM)) {
    throw invalidArgument("distance", `unknown unit "${m[2]}" in "${raw}": use m, km or mi (e.g. 10km)`);
  }
  const km = Number(m[1]) * UNIT_KM[unit];
  if (!(km > 0)) throw invalidArgument("distance", `must be greater than 0, got "${raw}"`);
  if (km > MAX_RADIUS_KM + 1e-9) throw invalidArgument("distance", `must be at most ${MAX_RADIUS_KM}km, got "${raw}"`);
  return km;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A date (`2025-09-09`: that day in UTC) or an RFC 3339 time. For a date, `edge` says which end
 * of the day: startDate takes its first instant, endDate its last (the whole day is included).
 */
export function parseDateBound(field: "startDate" | "endDate", raw: string, edge: "start" | "end"): Date {
  const d = DATE_ONLY.exec(raw);
  if (d) {
    const [y, mo, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const date = new Date(Date.UTC(y, mo - 1, day));
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== day) {
      throw invalidArgument(field, `"${raw}" is not a calendar date`);
    }
    return edge === "start" ? date : new Date(date.getTime() + 86_400_000 - 1);
  }
  if (DATE_TIME.test(raw)) {
    const date = new Date(raw);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw invalidArgument(field, `"${raw}" is not a date (YYYY-MM-DD) or an RFC 3339 time (e.g. 2025-09-09T20:00:00Z)`);
}

function checkCoordinate(field: "lat" | "lon", value: number, limit: number): void {
  if (!Number.isFinite(value) || value < -limit || value > limit) {
    throw invalidArgument(field, `must be between -${limit} and ${limit}, got ${value}`);
  }
}

/**
 * Validates and normalises SearchShows' parameters (the contract's rules run before this too;
 * these are the checks it cannot express and the same ones again for callers that bypass it).
 * `now` is the clock: without startDate, past showtimes are excluded.
 */
export function parseSearchRequest(req: SearchShowsRequest, now: Date): SearchQuery {
  const hasLat = req.lat !== undefined;
  const hasLon = req.lon !== undefined;
  if (hasLat !== hasLon) {
    throw invalidArgument(hasLat ? "lon" : "lat", "lat and lon must be given together");
  }
  // checked even without lat/lon: a malformed radius is a client bug worth reporting
  const radiusKm = req.distance ? parseDistance(req.distance) : DEFAULT_RADIUS_KM;
  let near: SearchQuery["near"];
  if (hasLat && hasLon) {
    checkCoordinate("lat", req.lat!, 90);
    checkCoordinate("lon", req.lon!, 180);
    near = { lat: req.lat!, lon: req.lon!, radiusKm };
  }
  const from = req.startDate ? parseDateBound("startDate", req.startDate, "start") : now;
  const to = req.endDate ? parseDateBound("endDate", req.endDate, "end") : undefined;
  if (req.startDate && to && to < from) {
    throw invalidArgument("endDate", `must not be before startDate (${req.startDate}), got ${req.endDate}`);
  }
  if (req.page < 0 || req.page > 1000) throw invalidArgument("page", `must be between 1 and 1000, got ${req.page}`);
  if (req.pageSize < 0 || req.pageSize > 100) throw invalidArgument("pageSize", `must be between 1 and 100, got ${req.pageSize}`);
  const limit = req.pageSize || DEFAULT_PAGE_SIZE;
  const page = req.page || 1;
  const text = req.query.trim();
  const category = req.category.trim();
  const city = req.city.trim();
  return {
    near,
    text: text || undefined,
    from,
    to,
    category: category || undefined,
    city: city || undefined,
    offset: (page - 1) * limit,
    limit,
  };
}
