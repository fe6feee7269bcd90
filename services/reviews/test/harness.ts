import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { ReviewsService } from "../../../gen/ticketing/reviews/v1/reviews_pb.js";
import { serviceCredential, type TokenVerifier } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { startServer, type RunningServer } from "../../../lib/server.js";
import { testAuth, TEST_SERVICE_SECRET } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { startCatalog, type CatalogHarness } from "../../catalog/test/harness.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { build, type ReviewsServer } from "../server.js";
import { waitFor as pollUntil } from "../../../test/support/waiting.js";

const DAY = 86_400_000;

/**
 * A stand-in for the booking service's CheckEventAttendance only, served with lib's startServer
 * (the real RPC and its rule, a confirmed booking of a started showtime, are tested in the booking
 * service's own suite). The suite says who attended what; every call is recorded.
 */
export interface BookingStandIn {
  url: string;
  /** Marks the user as having a confirmed booking of a started showtime of the event. */
  attend(userId: string, eventId: string): string;
  calls: Array<{ userId: string; eventId: string }>;
  close(): Promise<void>;
}

export async function startBookingStandIn(verifier: TokenVerifier): Promise<BookingStandIn> {
  const attended = new Map<string, string>();
  const calls: BookingStandIn["calls"] = [];
  const server: RunningServer = await startServer({
    name: "booking",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    verifier,
    routes: (router) =>
      router.service(BookingService, {
        async checkEventAttendance(req) {
          calls.push({ userId: req.userId, eventId: req.eventId });
          const bookingId = attended.get(`${req.userId}:${req.eventId}`);
          return { attended: bookingId !== undefined, bookingId: bookingId ?? "" };
        },
      }),
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    attend(userId, eventId) {
      const bookingId = randomUUID();
      attended.set(`${userId}:${eventId}`, bookingId);
      return bookingId;
    },
    calls,
    close: () => server.close(),
  };
}

export type Auth = Awaited<ReturnType<typeof testAuth>>;

export interface ReviewsStack {
  /** The REAL catalog service (its own harness and database). */
  catalog: CatalogHarness;
  booking: BookingStandIn;
  auth: Auth;
  db: Knex;
  url: string;
  server: ReviewsServer;
  client: Client<typeof ReviewsService>;
  /** A new user and call options with their token. */
  user(): Promise<{ userId: string; headers: Record<string, string> }>;
  /** An event in the catalog with showtimes that started `past` days ago and start `future` days ahead (one hall per event). */
  event(opts?: { past?: number; future?: number }): Promise<{ eventId: string; showtimeIds: string[] }>;
  /** A user who attended the event (per the booking stand-in). */
  attendee(eventId: string): Promise<{ userId: string; headers: Record<string, string> }>;
  close(): Promise<void>;
}

export async function startReviewsStack(): Promise<ReviewsStack> {
  const catalog = await startCatalog();
  const auth = await testAuth();
  const booking = await startBookingStandIn(auth.verifier);
  const database = await createTestDatabase("reviews");
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 20 });
  const credential = serviceCredential(TEST_SERVICE_SECRET, "reviews");
  const server = await build({
    db,
    verifier: auth.verifier,
    catalog: createServiceClient(CatalogService, catalog.url, credential),
    booking: createServiceClient(BookingService, booking.url, credential),
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    ratingPush: { pollMs: 25, baseDelayMs: 100, maxDelayMs: 400 },
  });
  const url = `http://127.0.0.1:${server.port}`;
  const venueId = (await catalog.client.createVenue({ name: `Venue ${randomUUID()}`, address: { city: "Hyderabad" } }, catalog.admin)).venue!.venueId;
  const layout = { sections: [{ id: "s", name: "S", rows: [{ label: "A", seats: [{ id: "A1", label: "A1", coordinates: { x: 0, y: 0 }, seatType: "standard" }] }] }] };

  const stack: ReviewsStack = {
    catalog,
    booking,
    auth,
    db,
    url,
    server,
    client: createClient(ReviewsService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    async user() {
      const userId = randomUUID();
      return { userId, headers: { authorization: `Bearer ${await auth.userToken(userId)}` } };
    },
    async event({ past = 1, future = 0 } = {}) {
      const hallId = (await catalog.client.createHall({ venueId, hallName: `Hall ${randomUUID()}`, seatLayout: layout }, catalog.admin)).hall!.hallId;
      const eventId = (await catalog.client.createEvent({ name: `Event ${randomUUID()}`, durationMinutes: 120 }, catalog.admin)).event!.eventId;
      const showtimeIds: string[] = [];
      for (let i = 0; i < past + future; i++) {
        const res = await catalog.client.createShowtime(
          {
            eventId,
            venueId,
            hallId,
            timestamp: timestampFromDate(new Date(Date.now() + (i + 1) * DAY)),
            currency: "USD",
            prices: [{ seatType: "standard", amount: 10 }],
          },
          catalog.admin,
        );
        const showtimeId = res.showtime!.showtimeId;
        showtimeIds.push(showtimeId);
        if (i < past) {
          // The contract only takes future showtimes; time passing is simulated by moving this
          // one into the past in the catalog's own (test) database: it started i+1 days ago.
          await catalog
            .db("showtimes")
            .where({ id: showtimeId })
            .update({ starts_at: new Date(Date.now() - (i + 1) * DAY), ends_at: new Date(Date.now() - (i + 1) * DAY + 2 * 3_600_000) });
        }
      }
      return { eventId, showtimeIds };
    },
    async attendee(eventId) {
      const u = await stack.user();
      booking.attend(u.userId, eventId);
      return u;
    },
    async close() {
      await server.close();
      await db.destroy();
      await database.drop();
      await booking.close();
      await catalog.close();
    },
  };
  return stack;
}

/** Polls every 25 ms (this service's background loops are quick); see test/support/waiting.ts. */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, probe, timeoutMs, 25);
}
