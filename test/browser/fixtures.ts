/**
 * What the browser tests set up through the public REST API of the running platform: accounts,
 * and a venue, hall, event and showtime of their own (so that tests never share seats), waited
 * for until the showtime's inventory and search document exist.
 */
import { randomUUID } from "node:crypto";
import type { Rest } from "../../scripts/rest-client";
import { waitFor } from "../support/waiting";

export { restClient, type Rest } from "../../scripts/rest-client";

export interface Account {
  email: string;
  password: string;
  displayName: string;
  userId: string;
  token: string;
}

export async function registerUser(rest: Rest, displayName = "Buyer"): Promise<Account> {
  const email = `${displayName.toLowerCase().replace(/\W+/g, "-")}-${randomUUID().slice(0, 8)}@example.com`;
  const password = "correct-horse-battery";
  const reg = await rest("POST", "/api/v1/auth/register", { email, password, displayName });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  return { email, password, displayName, userId: reg.body.userId, token: await login(rest, email, password) };
}

export async function login(rest: Rest, email: string, password: string): Promise<string> {
  const res = await rest("POST", "/api/v1/auth/login", { email, password });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken as string;
}

export interface Show {
  eventId: string;
  eventName: string;
  venueId: string;
  venueName: string;
  hallId: string;
  showtimeId: string;
}

/** Rows A and B of standard seats, row C premium: 6 seats a row, 30 units apart. */
export function smallLayout() {
  const row = (label: string, y: number, seatType: string) => ({
    label,
    seats: Array.from({ length: 6 }, (_, i) => ({ id: `${label}${i + 1}`, label: `${label}${i + 1}`, coordinates: { x: 20 + i * 30, y }, seatType })),
  });
  return {
    sections: [
      { id: "stalls", name: "Stalls", rows: [row("A", 20, "standard"), row("B", 50, "standard")] },
      { id: "premium", name: "Premium", rows: [row("C", 90, "premium")] },
    ],
  };
}

let showCount = 0;

/**
 * A fresh showtime two days ahead (at a minute of its own, so that no two overlap in a hall),
 * ready to book and findable by `eventName`.
 */
export async function createShow(rest: Rest, adminToken: string, eventName: string, opts: { category?: string; venueName?: string } = {}): Promise<Show> {
  const suffix = randomUUID().slice(0, 8);
  const ok = (what: string, r: { status: number; body: unknown }) => {
    if (r.status !== 201) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, string>;
  };
  const venueName = opts.venueName ?? `Test Hall ${suffix}`;
  const venue = ok(
    "create venue",
    await rest("POST", "/api/v1/venue", { name: venueName, address: { city: "Testville", street: "1 Test Street" }, location: { lat: 12.97, lon: 77.59 } }, adminToken),
  );
  const hall = ok("create hall", await rest("POST", `/api/v1/venue/${venue.venueId}/hall`, { hallName: "Screen 1", seatLayout: smallLayout() }, adminToken));
  const event = ok("create event", await rest("POST", "/api/v1/events", { name: eventName, category: opts.category ?? "Movie", durationMinutes: 90 }, adminToken));
  const startsAt = new Date(Date.now() + 2 * 86_400_000 + ++showCount * 60_000);
  startsAt.setUTCSeconds(0, 0);
  const showtime = ok(
    "create showtime",
    await rest(
      "POST",
      `/api/v1/events/${event.eventId}/showtimes`,
      {
        venueId: venue.venueId,
        hallId: hall.hallId,
        timestamp: startsAt.toISOString(),
        currency: "USD",
        prices: [
          { seatType: "standard", amount: 12.5 },
          { seatType: "premium", amount: 20 },
        ],
      },
      adminToken,
    ),
  );
  const show = { eventId: event.eventId, eventName, venueId: venue.venueId, venueName, hallId: hall.hallId, showtimeId: showtime.showtimeId };
  await waitUntilBookable(rest, show);
  return show;
}

/**
 * The showtime's inventory is initialised and search finds it (both follow its creation
 * asynchronously, through a workflow). The bounds only decide when to give up: the first showtime
 * after a stack's start waited over 30 s on a machine loaded by other suites.
 */
export async function waitUntilBookable(rest: Rest, show: Show): Promise<void> {
  await waitFor("the showtime's inventory", async () => (await rest("GET", `/api/v1/showtimes/${show.showtimeId}/inventory`)).status === 200, 120_000);
  await waitFor(
    "the showtime in search",
    async () => {
      const r = await rest("GET", `/api/v1/search/shows?query=${encodeURIComponent(show.eventName)}&pageSize=50`);
      return r.status === 200 && (r.body.results as Array<{ showtimeId: string }>).some((x) => x.showtimeId === show.showtimeId);
    },
    120_000,
  );
}

export async function holdSeats(rest: Rest, token: string, showtimeId: string, seatIds: string[], holdTimeoutSeconds?: number) {
  const r = await rest("POST", `/api/v1/showtimes/${showtimeId}/seats/reserve`, { seatIds, holdTimeoutSeconds }, token);
  if (r.status !== 201) throw new Error(`hold: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { bookingId: string; heldUntil: string };
}

export async function getBooking(rest: Rest, token: string, bookingId: string) {
  const r = await rest("GET", `/api/v1/bookings/${bookingId}`, undefined, token);
  if (r.status !== 200) throw new Error(`get booking: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { status: string; paymentStatus: string; bookedSeats: string[] };
}
