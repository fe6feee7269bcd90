import type { DocumentWrite } from "../domain/document.js";

/**
 * Deterministic synthetic documents over a region, for the correctness oracle and the benchmark
 * (the search index only, no catalog behind them).
 */

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CATEGORIES = ["Movie", "Concert", "Theatre", "Comedy", "Sports"];
export const CITIES = ["Hyderabad", "Secunderabad", "Warangal", "Nizamabad"];
const WORDS = ["dark", "knight", "rises", "jazz", "night", "symphony", "comedy", "live", "summer", "festival", "rock", "opera", "magic", "dance", "story", "legend", "batman", "galaxy", "river", "mountain"];

/** A showtime id that sorts like a UUID and is one. */
export function uuidOf(n: number, prefix = 0): string {
  const hex = n.toString(16).padStart(12, "0");
  return `${prefix.toString(16).padStart(8, "0")}-0000-4000-8000-${hex}`;
}

export interface SyntheticOptions {
  count: number;
  seed: number;
  /** Centre of the region and its half-size in degrees. */
  center: { lat: number; lon: number };
  spanDeg: number;
  /** Showtimes spread over [now - pastDays, now + futureDays]. */
  now: Date;
  pastDays: number;
  futureDays: number;
  /** Share of venues without coordinates (found by city only). */
  noLocationShare?: number;
  /** Venues; showtimes are spread over them (several showtimes per venue, as in reality). */
  venues?: number;
}

export function syntheticDocuments(opts: SyntheticOptions): DocumentWrite[] {
  const rand = prng(opts.seed);
  const venueCount = opts.venues ?? Math.max(1, Math.floor(opts.count / 10));
  const venues = Array.from({ length: venueCount }, (_, i) => {
    const hasLocation = rand() >= (opts.noLocationShare ?? 0.02);
    const city = CITIES[Math.floor(rand() * CITIES.length)];
    return {
      venueId: uuidOf(i, 1),
      name: `${WORDS[Math.floor(rand() * WORDS.length)]} hall ${i}`,
      city,
      address: { street: `${i} Main St`, city, district: "", state: "Telangana", zip: "", country: "IN" },
      ...(hasLocation
        ? {
            location: {
              lat: +(opts.center.lat + (rand() * 2 - 1) * opts.spanDeg).toFixed(6),
              lon: +(opts.center.lon + (rand() * 2 - 1) * opts.spanDeg).toFixed(6),
            },
          }
        : {}),
    };
  });
  const eventCount = Math.max(1, Math.floor(opts.count / 20));
  const events = Array.from({ length: eventCount }, (_, i) => {
    const w = () => WORDS[Math.floor(rand() * WORDS.length)];
    return {
      eventId: uuidOf(i, 2),
      name: `${w()} ${w()} ${i}`,
      category: CATEGORIES[Math.floor(rand() * CATEGORIES.length)],
      imageUrl: `events/${i}/poster.jpg`,
      keywords: [w(), w()],
    };
  });
  const span = (opts.pastDays + opts.futureDays) * 86_400_000;
  const start = opts.now.getTime() - opts.pastDays * 86_400_000;
  const indexedAt = new Date(opts.now.getTime() - 60_000).toISOString();
  return Array.from({ length: opts.count }, (_, i) => {
    const venue = venues[Math.floor(rand() * venues.length)];
    const event = events[Math.floor(rand() * events.length)];
    // whole minutes, as the catalog stores them
    const showtime = new Date(Math.floor((start + rand() * span) / 60_000) * 60_000).toISOString();
    const total = 50 + Math.floor(rand() * 250);
    return {
      showtimeId: uuidOf(i, 3),
      showtime,
      event: { ...event, keywords: [...event.keywords] },
      venue: { ...venue, address: { ...venue.address } },
      availableSeats: Math.floor(rand() * total),
      totalSeats: total,
      // from the index alone (the other fields' random sequence stays as it was): free shows too
      priceFrom: (i % 40) * 2.5,
      currency: "INR",
      indexedAt,
    };
  });
}
