import { Code } from "@connectrpc/connect";
import { BookingService, type WatchInventoryResponse } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { errorOf, holdDirect, seedInventory, startBooking, type BookingHarness, type CallOptions } from "./harness.js";

/**
 * The per-hold seat limit (BOOKING_MAX_SEATS_PER_HOLD, BookingLimits.maxSeatsPerHold) as the
 * inventory reads tell it to a seat picker: `maxSeatsPerHold` on GetInventory and on every
 * WatchInventory message, the default and a configured one, and the same limit that ReserveSeats
 * enforces.
 */

let standard: BookingHarness;
let strict: BookingHarness;
let gateway: RunningGateway;
beforeAll(async () => {
  standard = await startBooking("limit-default");
  strict = await startBooking("limit-3", { limits: { maxSeatsPerHold: 3 } });
  gateway = await buildGateway({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [{ service: BookingService, backend: "booking" }],
    urls: { booking: strict.url },
    corsOrigins: [],
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: () => strict.auth.serviceToken("gateway"),
  });
});
afterAll(async () => {
  await gateway?.close();
  await strict?.close();
  await standard?.close();
});

/** The first `count` messages of a showtime's stream; `between` runs after each but the last. */
async function firstMessages(
  h: BookingHarness,
  showtimeId: string,
  count: number,
  between: () => Promise<unknown> = async () => undefined,
  opts?: CallOptions,
): Promise<WatchInventoryResponse[]> {
  const abort = new AbortController();
  const out: WatchInventoryResponse[] = [];
  try {
    for await (const msg of h.client.watchInventory({ showtimeId }, { ...opts, signal: abort.signal })) {
      out.push(msg);
      if (out.length === count) break;
      await between();
    }
  } finally {
    abort.abort();
  }
  return out;
}

describe("maxSeatsPerHold", () => {
  it("GetInventory tells the default limit, 10, to anybody", async () => {
    const { showtimeId } = await seedInventory(standard.repo);
    expect((await standard.client.getInventory({ showtimeId })).maxSeatsPerHold).toBe(10);
    expect((await standard.client.getInventory({ showtimeId }, await standard.user())).maxSeatsPerHold).toBe(10);
  });

  it("GetInventory tells a configured limit, and ReserveSeats enforces exactly that one", async () => {
    const { showtimeId } = await seedInventory(strict.repo);
    const inventory = await strict.client.getInventory({ showtimeId }, strict.admin);
    expect(inventory.maxSeatsPerHold).toBe(3);
    const user = await strict.user();
    const over = await errorOf(strict.client.reserveSeats({ showtimeId, seatIds: ["R1S1", "R1S2", "R1S3", "R1S4"] }, user));
    expect(over.code).toBe(Code.InvalidArgument);
    expect(over.rawMessage).toBe("seatIds: at most 3 seats per reservation, got 4");
    const held = await strict.client.reserveSeats({ showtimeId, seatIds: ["R1S1", "R1S2", "R1S3"] }, user);
    expect(held.seatIds).toHaveLength(3);
  });

  it("WatchInventory sets it on the snapshot and on every change", async () => {
    for (const [h, limit] of [[standard, 10], [strict, 3]] as const) {
      const { showtimeId } = await seedInventory(h.repo);
      let n = 0;
      const hold = () => holdDirect(h.repo, { showtimeId, seatIds: [`R2S${++n}`] });
      const [snapshot, ...changes] = await firstMessages(h, showtimeId, 3, hold, await h.user());
      expect(snapshot).toMatchObject({ snapshot: true, maxSeatsPerHold: limit });
      expect(changes.map((m) => [m.snapshot, m.seats.map((s) => `${s.seatId} ${s.status}`), m.maxSeatsPerHold])).toEqual([
        [false, ["R2S1 held"], limit],
        [false, ["R2S2 held"], limit],
      ]);
    }
  });

  it("REST: GET /api/v1/showtimes/{showtimeId}/inventory has maxSeatsPerHold", async () => {
    const { showtimeId } = await seedInventory(strict.repo);
    const res = await fetch(`http://127.0.0.1:${gateway.port}/api/v1/showtimes/${showtimeId}/inventory`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { showtimeId: string; maxSeatsPerHold: number; seatMap: { seats: unknown[] } };
    expect(body).toMatchObject({ showtimeId, maxSeatsPerHold: 3 });
    expect(body.seatMap.seats).toHaveLength(40);
  });
});
