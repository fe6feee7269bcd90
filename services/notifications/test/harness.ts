import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { NotificationsService } from "../../../gen/ticketing/notifications/v1/notifications_pb.js";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { serviceCredential } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { createServiceVerifier } from "../../../lib/sessions.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { startCatalog, type CatalogHarness } from "../../catalog/test/harness.js";
import { AUDIENCE, ISSUER, startUsers, TEST_SERVICE_SECRET, type UsersHarness } from "../../users/test/harness.js";
import { LogEmailTransport, SmtpEmailTransport } from "../channels/email.js";
import { LogSmsProvider } from "../channels/sms.js";
import type { EmailTransport } from "../channels/types.js";
import { DEFAULT_MAIL_FROM } from "../config.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import type { RetryPolicy } from "../delivery.js";
import { build, type NotificationsServer } from "../server.js";
import { waitFor as pollUntil } from "../../../test/support/waiting.js";

/**
 * The notifications service in-process on port 0, each instance with its own database, against
 * the REAL users and catalog services (their own test harnesses, in-process on port 0): contacts
 * come from users' GetUser, event/venue/time from catalog's GetShowtimeDetails, over gRPC with
 * the notifications service's credential, and user tokens are checked against the users
 * service's JWKS and session check, exactly as in production.
 */

export interface Upstreams {
  users: UsersHarness;
  catalog: CatalogHarness;
  close(): Promise<void>;
}

export async function startUpstreams(): Promise<Upstreams> {
  const [users, catalog] = await Promise.all([startUsers(), startCatalog()]);
  return {
    users,
    catalog,
    async close() {
      await Promise.all([users.close(), catalog.close()]);
    },
  };
}

export interface NotificationsHarness {
  url: string;
  db: Knex;
  server: NotificationsServer;
  client: Client<typeof NotificationsService>;
  sms: LogSmsProvider;
  email: EmailTransport;
  /** Call options with an internal service credential (SendNotification is internal). */
  service(): Promise<{ headers: Record<string, string> }>;
  close(): Promise<void>;
}

export const FAST_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };

export async function startNotifications(
  up: Upstreams,
  opts: {
    /** An SMTP URL (the test's SMTP server), or undefined for the development log transport. */
    smtpUrl?: string;
    retry?: RetryPolicy;
    temporal?: { address: string; namespace: string; taskQueue: string };
  } = {},
): Promise<NotificationsHarness> {
  const database = await createTestDatabase("notifications");
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 20 });
  const logger = silentLogger();
  const credential = serviceCredential(TEST_SERVICE_SECRET, "notifications");
  const verifier = createServiceVerifier({
    service: "notifications",
    jwtIssuer: ISSUER,
    jwtAudience: AUDIENCE,
    jwksUrl: `${up.users.url}/.well-known/jwks.json`,
    serviceAuthSecret: TEST_SERVICE_SECRET,
    usersUrl: up.users.url,
  });
  const email: EmailTransport = opts.smtpUrl
    ? new SmtpEmailTransport({ url: opts.smtpUrl, from: DEFAULT_MAIL_FROM, timeoutMs: 5_000 })
    : new LogEmailTransport(logger);
  const sms = new LogSmsProvider(logger);
  const server = await build({
    db,
    verifier,
    users: createServiceClient(UsersService, up.users.url, credential),
    catalog: createServiceClient(CatalogService, up.catalog.url, credential),
    email,
    sms,
    logger,
    host: "127.0.0.1",
    port: 0,
    retry: opts.retry ?? FAST_RETRY,
    timeZone: "UTC",
    delivery: { pollMs: 25 },
    temporal: opts.temporal,
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    db,
    server,
    client: createClient(NotificationsService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    sms,
    email,
    service: async () => ({ headers: { authorization: `Bearer ${await serviceCredential(TEST_SERVICE_SECRET, "booking")()}` } }),
    async close() {
      await server.close();
      await email.close();
      await db.destroy();
      await database.drop();
    },
  };
}

export interface TestUser {
  userId: string;
  email: string;
  phone: string;
  displayName: string;
  accessToken: string;
  auth: { headers: Record<string, string> };
}

/** Registers and logs in a user on the real users service. */
export async function registerUser(
  up: Upstreams,
  opts: { phone?: string; displayName?: string; emailPrefix?: string } = {},
): Promise<TestUser> {
  const email = `${opts.emailPrefix ?? "u-"}${randomUUID().slice(0, 8)}@example.com`;
  const displayName = opts.displayName ?? "Ada Lovelace";
  const phone = opts.phone ?? "";
  const reg = await up.users.client.register({ email, password: "correct-horse-1", displayName, phone });
  const login = await up.users.client.login({ email, password: "correct-horse-1" });
  return {
    userId: reg.userId,
    email,
    phone,
    displayName,
    accessToken: login.accessToken,
    auth: { headers: { authorization: `Bearer ${login.accessToken}` } },
  };
}

export interface ShowFixture {
  showtimeId: string;
  eventName: string;
  venueName: string;
  city: string;
  startsAt: Date;
}

const LAYOUT = {
  sections: [
    {
      id: "main",
      name: "Main",
      rows: [
        { label: "A", seats: ["A1", "A2", "A3"].map((id, i) => ({ id, label: id, coordinates: { x: i * 10, y: 0 }, seatType: "standard" })) },
      ],
    },
  ],
};

/** A venue, hall, event and showtime in the real catalog; the show starts `daysAhead` days from now, on the hour. */
export async function createShow(up: Upstreams, daysAhead = 30): Promise<ShowFixture> {
  const c = up.catalog;
  const tag = randomUUID().slice(0, 6);
  const venueName = `Cineplex ${tag}`;
  const city = "Hyderabad";
  const venueId = (await c.client.createVenue({ name: venueName, address: { city, street: "1 Main St" } }, c.admin)).venue!.venueId;
  const hallId = (await c.client.createHall({ venueId, hallName: "Screen 1", seatLayout: LAYOUT }, c.admin)).hall!.hallId;
  const eventName = `Interstellar ${tag}`;
  const eventId = (await c.client.createEvent({ name: eventName, category: "Movie", durationMinutes: 169 }, c.admin)).event!.eventId;
  const startsAt = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + daysAhead * 86_400_000);
  const showtimeId = (
    await c.client.createShowtime(
      { eventId, venueId, hallId, timestamp: timestampFromDate(startsAt), currency: "USD", prices: [{ seatType: "standard", amount: 45 }] },
      c.admin,
    )
  ).showtime!.showtimeId;
  return { showtimeId, eventName, venueName, city, startsAt };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls every 25 ms (this service's background loops are quick); see test/support/waiting.ts. */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, probe, timeoutMs, 25);
}
