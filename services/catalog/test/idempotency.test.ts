import { randomUUID } from "node:crypto";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { errorOf, hoursFromNow, SEEDS_LAYOUT, startCatalog, type CatalogHarness } from "./harness.js";

let h: CatalogHarness;
beforeAll(async () => {
  h = await startCatalog();
});
afterAll(async () => {
  await h?.close();
});

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number((await h.db(table).where(where).count<{ count: string }[]>("* as count"))[0].count);

const prices = [
  { seatType: "premium", amount: 45 },
  { seatType: "standard", amount: 25 },
];

async function fixtures() {
  const venueId = (await h.client.createVenue({ name: `V ${randomUUID()}`, address: { city: "Hyderabad" } }, h.admin)).venue!.venueId;
  const hallId = (await h.client.createHall({ venueId, hallName: "H", seatLayout: SEEDS_LAYOUT }, h.admin)).hall!.hallId;
  const eventId = (await h.client.createEvent({ name: "E", durationMinutes: 90 }, h.admin)).event!.eventId;
  return { venueId, hallId, eventId };
}

describe("Idempotency-Key on every create", () => {
  it("same key and body: the first response again (same ids), marked as replayed, and nothing new", async () => {
    const key = randomUUID();
    const body = { name: `Idem ${key}`, address: { city: "Hyderabad" } };
    const first = await h.client.createVenue(body, h.adminWithKey(key));
    let replayed: string | null = null;
    const again = await h.client.createVenue(body, { ...h.adminWithKey(key), onHeader: (hd) => (replayed = hd.get("idempotent-replayed")) });
    expect(again).toEqual(first);
    expect(replayed).toBe("true");
    expect(await count("venues", { name: body.name })).toBe(1);
  });

  it("same key, another body: 409 and nothing written", async () => {
    const key = randomUUID();
    await h.client.createEvent({ name: "First", durationMinutes: 60 }, h.adminWithKey(key));
    const before = await count("events");
    const err = await errorOf(h.client.createEvent({ name: "Second", durationMinutes: 60 }, h.adminWithKey(key)));
    expect(err.code).toBe(Code.AlreadyExists);
    expect(err.rawMessage).toMatch(/Idempotency-Key/);
    expect(await count("events")).toBe(before);
  });

  it("halls, events and showtimes replay too; a replayed showtime publishes no second event", async () => {
    const { venueId, hallId, eventId } = await fixtures();
    const hallKey = randomUUID();
    const hall1 = await h.client.createHall({ venueId, hallName: "Screen", seatLayout: SEEDS_LAYOUT }, h.adminWithKey(hallKey));
    const hall2 = await h.client.createHall({ venueId, hallName: "Screen", seatLayout: SEEDS_LAYOUT }, h.adminWithKey(hallKey));
    expect(hall2.hall?.hallId).toBe(hall1.hall?.hallId);
    expect(await count("halls", { venue_id: venueId })).toBe(2);

    const eventKey = randomUUID();
    const e1 = await h.client.createEvent({ name: "Replay me", keywords: ["a"] }, h.adminWithKey(eventKey));
    const e2 = await h.client.createEvent({ name: "Replay me", keywords: ["a"] }, h.adminWithKey(eventKey));
    expect(e2.event?.eventId).toBe(e1.event?.eventId);

    const stKey = randomUUID();
    const body = { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(24)), currency: "USD", prices };
    const s1 = await h.client.createShowtime(body, h.adminWithKey(stKey));
    const s2 = await h.client.createShowtime(body, h.adminWithKey(stKey));
    expect(s2).toEqual(s1);
    expect(await count("showtimes", { hall_id: hallId })).toBe(1);
    expect(await count("outbox", { event_type: "ShowtimeCreated", aggregate_id: s1.showtime!.showtimeId })).toBe(1);
  });

  it("concurrent duplicates with one key create exactly one row and all get its id", async () => {
    const { venueId, hallId, eventId } = await fixtures();
    const key = randomUUID();
    const body = { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(48)), currency: "USD", prices };
    const results = await Promise.all(Array.from({ length: 10 }, () => h.client.createShowtime(body, h.adminWithKey(key))));
    expect(new Set(results.map((r) => r.showtime!.showtimeId)).size).toBe(1);
    expect(await count("showtimes", { hall_id: hallId })).toBe(1);
    expect(await count("outbox", { event_type: "ShowtimeCreated", aggregate_id: results[0].showtime!.showtimeId })).toBe(1);
  });

  it("a request that failed stored nothing: the same key works once the body is fixed", async () => {
    const { venueId, hallId, eventId } = await fixtures();
    const key = randomUUID();
    const bad = { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(72)), currency: "USD", prices: prices.slice(0, 1) };
    expect((await errorOf(h.client.createShowtime(bad, h.adminWithKey(key)))).code).toBe(Code.InvalidArgument);
    const ok = await h.client.createShowtime({ ...bad, prices }, h.adminWithKey(key));
    expect(ok.showtime?.showtimeId).toBeTruthy();
  });

  it("keys are scoped to the caller: another admin's same key is a new request", async () => {
    const key = randomUUID();
    const other = { headers: { authorization: `Bearer ${await h.auth.adminToken()}`, "idempotency-key": key } };
    const a = await h.client.createEvent({ name: "Scoped" }, h.adminWithKey(key));
    const b = await h.client.createEvent({ name: "Scoped" }, other);
    expect(b.event?.eventId).not.toBe(a.event?.eventId);
  });

  it("replays over gRPC, gRPC-Web and Connect JSON as well as Connect binary", async () => {
    const transports = {
      grpc: createGrpcTransport({ baseUrl: h.url }),
      grpcWeb: createGrpcWebTransport({ baseUrl: h.url, httpVersion: "1.1" }),
      connectJson: createConnectTransport({ baseUrl: h.url, httpVersion: "1.1", useBinaryFormat: false }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      const client = createClient(CatalogService, transport);
      const key = randomUUID();
      const first = await client.createEvent({ name: `Over ${name}` }, h.adminWithKey(key));
      let replayed: string | null = null;
      const again = await client.createEvent(
        { name: `Over ${name}` },
        { ...h.adminWithKey(key), onHeader: (hd) => (replayed = hd.get("idempotent-replayed")) },
      );
      expect([name, again.event?.eventId, replayed]).toEqual([name, first.event?.eventId, "true"]);
    }
  });

  it("keys are durable: a restarted service replays the stored response", async () => {
    const key = randomUUID();
    const body = { name: `Durable ${key}`, address: { city: "Bengaluru" } };
    const first = await h.client.createVenue(body, h.adminWithKey(key));
    await h.stop();
    await h.restart();
    const again = await h.client.createVenue(body, h.adminWithKey(key));
    expect(again.venue?.venueId).toBe(first.venue?.venueId);
  });
});
