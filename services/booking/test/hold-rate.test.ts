import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { RateLimitedSchema } from "../../../gen/ticketing/common/v1/errors_pb.js";
import { openDatabase, openSidePool } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import type { HoldRateSettings } from "../hold-limits.js";
import { build, type BookingServer } from "../server.js";
import { seedInventory, startBooking, type BookingHarness, type CallOptions } from "./harness.js";

/*
 * Hold requests per user and per showtime (BOOKING_HOLDS_PER_*), on real Postgres: two
 * instances of the booking service over one database share the counters; the clock is moved by
 * the test, so a window ends without waiting.
 */

const RATES: HoldRateSettings = { holdsPerUser: 3, holdsPerUserWindowSeconds: 60, holdsPerShowtime: 5, holdsPerShowtimeWindowSeconds: 10 };
let now = Date.parse("2026-12-03T12:00:00Z");
const clock = () => new Date(now);

let a: BookingHarness;
let b: { server: BookingServer; client: Client<typeof BookingService> };
let gateway: RunningGateway;

beforeAll(async () => {
  a = await startBooking("hold-rate", { holdRates: RATES, clock });
  // a second replica: its own server and connection pool over the same database
  const server = await build({
    db: a.db,
    databaseUrl: a.databaseUrl,
    verifier: a.auth.verifier,
    temporal: a.temporal,
    workflowTaskQueue: a.queues.bookingWorkflows,
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    holdRates: RATES,
    clock,
  });
  b = { server, client: createClient(BookingService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "1.1" })) };
  gateway = await buildGateway({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [{ service: BookingService, backend: "booking" }],
    urls: { booking: a.url },
    corsOrigins: [],
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: () => a.auth.serviceToken("gateway"),
  });
});
afterAll(async () => {
  await gateway?.close();
  await b?.server.close();
  await a?.close();
});

async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

const reserve = (client: Client<typeof BookingService>, showtimeId: string, seatId: string, as: CallOptions) =>
  client.reserveSeats({ showtimeId, seatIds: [seatId] }, as);

describe("hold requests per user", () => {
  it("counts a user's holds on both replicas together; past the limit 429 with Retry-After; the next window lets them in", async () => {
    const { showtimeId, seatIds } = await seedInventory(a.repo);
    const { seatIds: otherSeats, showtimeId: other } = await seedInventory(a.repo);
    const ann = await a.user();
    await reserve(a.client, showtimeId, seatIds[0], ann);
    await reserve(b.client, showtimeId, seatIds[1], ann);
    await reserve(a.client, other, otherSeats[0], ann); // per user, over every showtime
    const e = await refusal(reserve(b.client, showtimeId, seatIds[2], ann));
    expect(e.code).toBe(Code.ResourceExhausted);
    expect(e.findDetails(RateLimitedSchema)[0]).toMatchObject({ limit: "hold.user" });
    const wait = Number(e.metadata.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    // nothing was held by the refused request
    const seat = (await a.client.getInventory({ showtimeId })).seatMap!.seats.find((s) => s.seatId === seatIds[2]);
    expect(seat?.status).toBe("available");
    // another user is not held back
    await reserve(a.client, showtimeId, seatIds[3], await a.user());

    now += wait * 1000;
    expect((await reserve(b.client, showtimeId, seatIds[2], ann)).status).toBe("held");
  });
});

describe("hold requests per showtime without an admission token", () => {
  it("meters a showtime's rush over all users; other showtimes are not affected; REST answers 429 with Retry-After", async () => {
    now += 60_000; // fresh windows
    const { showtimeId, seatIds } = await seedInventory(a.repo);
    // one user over their own limit does not spend the showtime's: 3 holds count, 4 refusals do not
    const greedy = await a.user();
    for (let i = 0; i < 3; i++) await reserve(a.client, showtimeId, seatIds[10 + i], greedy);
    for (let i = 0; i < 4; i++) {
      expect((await refusal(reserve(b.client, showtimeId, seatIds[20 + i], greedy))).findDetails(RateLimitedSchema)[0]?.limit).toBe("hold.user");
    }
    for (let i = 0; i < 2; i++) await reserve(i % 2 ? a.client : b.client, showtimeId, seatIds[i], await a.user());
    const late = await a.user();
    const e = await refusal(reserve(a.client, showtimeId, seatIds[5], late));
    expect(e.code).toBe(Code.ResourceExhausted);
    expect(e.findDetails(RateLimitedSchema)[0]).toMatchObject({ limit: "hold.showtime" });

    const res = await fetch(`http://127.0.0.1:${gateway.port}/api/v1/showtimes/${showtimeId}/seats/reserve`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: late.headers.authorization },
      body: JSON.stringify({ seatIds: [seatIds[6]] }),
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(await res.json()).toMatchObject({
      code: "resource_exhausted",
      details: [{ type: "ticketing.common.v1.RateLimited", debug: { limit: "hold.showtime", retryAfterSeconds: retryAfter } }],
    });

    const { showtimeId: quiet, seatIds: quietSeats } = await seedInventory(a.repo);
    expect((await reserve(a.client, quiet, quietSeats[0], late)).status).toBe("held");

    // an admitted buyer (a valid admission token) is counted per user only
    const admitted = (await a.user()).userId;
    await expect(a.server.holdLimits.checkHold(admitted, showtimeId, { admitted: true })).resolves.toBeUndefined();
    await expect(a.server.holdLimits.checkHold(admitted, showtimeId, { admitted: false })).rejects.toMatchObject({ limit: "hold.showtime" });

    now += retryAfter * 1000;
    expect((await reserve(a.client, showtimeId, seatIds[5], await a.user())).status).toBe("held");
  });
});

describe("the checks' own pool", () => {
  it("holds with an Idempotency-Key, more at once than the main pool has connections, all go through", async () => {
    now += 60_000; // fresh windows
    // each such hold keeps a connection of the main pool in its transaction while it checks
    const db = await openDatabase({ url: a.databaseUrl, schema: SCHEMA, migrations, poolMax: 2 });
    const limitsDb = openSidePool({ url: a.databaseUrl, schema: SCHEMA, poolMax: 2 });
    const server = await build({
      db,
      limitsDb,
      databaseUrl: a.databaseUrl,
      verifier: a.auth.verifier,
      temporal: a.temporal,
      workflowTaskQueue: a.queues.bookingWorkflows,
      logger: silentLogger(),
      host: "127.0.0.1",
      port: 0,
      holdRates: RATES,
      clock,
    });
    try {
      const client = createClient(BookingService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "1.1" }));
      const { showtimeId, seatIds } = await seedInventory(a.repo);
      const held = await Promise.all(
        seatIds.slice(0, 5).map(async (seatId, i) => {
          const as = await a.user();
          return client.reserveSeats({ showtimeId, seatIds: [seatId] }, { headers: { ...as.headers, "idempotency-key": `pool-${i}` } });
        }),
      );
      expect(held.map((h) => h.status)).toEqual(["held", "held", "held", "held", "held"]);
    } finally {
      await server.close();
      await limitsDb.destroy();
      await db.destroy();
    }
  });
});
