import { randomUUID } from "node:crypto";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { SEEDS_LAYOUT, startCatalog, type CatalogHarness } from "./harness.js";

/**
 * The public REST contract (shared/spec/rest-api.md, "Venues and halls", "Events and
 * showtimes") through the real gateway's transcoder in front of the in-process catalog: status
 * codes, bare resources, PATCH bodies, the error format and Idempotency-Key.
 */

let h: CatalogHarness;
let gateway: RunningGateway;
let base: string;
let admin: string;
beforeAll(async () => {
  h = await startCatalog();
  admin = await h.auth.adminToken();
  gateway = await buildGateway({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [{ service: CatalogService, backend: "catalog" }],
    urls: { catalog: h.url },
    corsOrigins: [],
    maxBodyBytes: 8 * 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: () => h.auth.serviceToken("gateway"),
  });
  base = `http://127.0.0.1:${gateway.port}`;
});
afterAll(async () => {
  await gateway?.close();
  await h?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${admin}`, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe("REST through the gateway", () => {
  it("walks the admin flow with the spec's paths, status codes and bare resources", async () => {
    const venue = await call("POST", "/api/v1/venue", {
      name: "Cineplex 101",
      address: { street: "123 Main St", city: "Hyderabad", district: "Madhapur", state: "Telangana", zip: "500081", country: "IN" },
      location: { lat: 17.4431, lon: 78.4772 },
      imageUrls: ["s3-key-123"],
    });
    expect(venue.status).toBe(201);
    expect(venue.body).toMatchObject({ name: "Cineplex 101", location: { lat: 17.4431, lon: 78.4772 }, imageUrls: ["s3-key-123"] });
    const { venueId } = venue.body;
    expect(venue.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await call("GET", `/api/v1/venue/${venueId}`, undefined, { authorization: "" })).body).toEqual(venue.body);

    const hall = await call("POST", `/api/v1/venue/${venueId}/hall`, { hallName: "Screen 1", seatLayout: SEEDS_LAYOUT });
    expect(hall.status).toBe(201);
    expect(hall.body).toMatchObject({ venueId, hallName: "Screen 1", capacity: 6, seatLayout: SEEDS_LAYOUT });
    const { hallId } = hall.body;
    expect((await call("GET", `/api/v1/venue/${venueId}/hall/${hallId}`)).body).toEqual(hall.body);
    const halls = await call("GET", `/api/v1/venue/${venueId}/halls`);
    // the list leaves the layout out unless asked for (null, as every unset optional value)
    expect(halls.body.halls).toEqual([{ hallId, venueId, hallName: "Screen 1", capacity: 6, seatLayout: null }]);
    // a hall without a focal point (the stage) says so with null, as every unset optional value
    expect((await call("GET", `/api/v1/venue/${venueId}/halls?includeSeatLayout=true`)).body.halls[0].seatLayout).toEqual({
      ...SEEDS_LAYOUT,
      focalPoint: null,
    });

    const event = await call("POST", "/api/v1/events", {
      name: "The Dark Knight Rises",
      category: "Movie",
      description: "d",
      imageUrl: "s3-key-poster",
      keywords: ["batman"],
      durationMinutes: 165,
      metadata: { language: "en" },
    });
    expect(event.status).toBe(201);
    const { eventId } = event.body;
    expect((await call("GET", `/api/v1/events/${eventId}`)).body).toMatchObject({ eventId, metadata: { language: "en" } });

    const timestamp = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
    const showtime = await call("POST", `/api/v1/events/${eventId}/showtimes`, {
      venueId,
      hallId,
      timestamp,
      currency: "USD",
      prices: [
        { seatType: "premium", amount: 45.0 },
        { seatType: "standard", amount: 25.5 },
      ],
    });
    expect(showtime.status).toBe(201);
    expect(showtime.body).toEqual({
      showtimeId: expect.any(String),
      eventId,
      venueId,
      hallId,
      timestamp,
      currency: "USD",
      prices: [
        { seatType: "premium", amount: 45 },
        { seatType: "standard", amount: 25.5 },
      ],
    });
    expect((await call("GET", `/api/v1/showtimes/${showtime.body.showtimeId}`)).body).toEqual(showtime.body);
    expect((await call("GET", `/api/v1/events/${eventId}/showtimes`)).body).toEqual({ showtimes: [showtime.body] });

    // 409 overlap, 400 past, 400 hall not in venue, in the spec's error format
    const overlap = await call("POST", `/api/v1/events/${eventId}/showtimes`, { ...JSON.parse(JSON.stringify(showtime.body)), showtimeId: undefined });
    expect(overlap.status).toBe(409);
    expect(overlap.body).toMatchObject({ code: "already_exists", message: expect.stringMatching(/^timestamp: .*overlaps/) });
    const past = await call("POST", `/api/v1/events/${eventId}/showtimes`, { venueId, hallId, timestamp: "2020-01-01T00:00:00Z", currency: "USD", prices: [{ seatType: "premium", amount: 1 }, { seatType: "standard", amount: 1 }] });
    expect(past.status).toBe(400);
    expect(past.body.message).toMatch(/^timestamp: /);
  });

  it("PATCH takes a partial body; updateMask clears a list", async () => {
    const venue = (await call("POST", "/api/v1/venue", { name: `P ${randomUUID()}`, address: { city: "Pune", zip: "411001" }, imageUrls: ["a"] })).body;
    const zip = await call("PATCH", `/api/v1/venue/${venue.venueId}`, { address: { zip: "411002" } });
    expect(zip.status).toBe(200);
    expect(zip.body.address).toEqual({ ...venue.address, zip: "411002" });
    expect(zip.body.imageUrls).toEqual(["a"]);
    const cleared = await call("PATCH", `/api/v1/venue/${venue.venueId}`, { imageUrls: [], updateMask: "imageUrls" });
    expect(cleared.body.imageUrls ?? []).toEqual([]);
    const event = (await call("POST", "/api/v1/events", { name: "E", keywords: ["x"] })).body;
    const renamed = await call("PATCH", `/api/v1/events/${event.eventId}`, { name: "F", durationMinutes: 95 });
    expect(renamed.body).toMatchObject({ name: "F", durationMinutes: 95, keywords: ["x"] });
  });

  it("answers 401 without a token, 403 with a user token, 404 unknown ids, 409 duplicates", async () => {
    expect((await call("POST", "/api/v1/venue", { name: "X", address: { city: "C" } }, { authorization: "" })).status).toBe(401);
    const user = await h.auth.userToken();
    expect((await call("POST", "/api/v1/events", { name: "X" }, { authorization: `Bearer ${user}` })).status).toBe(403);
    expect((await call("GET", `/api/v1/venue/${randomUUID()}`)).status).toBe(404);
    const name = `Dup ${randomUUID()}`;
    expect((await call("POST", "/api/v1/venue", { name, address: { city: "Goa" } })).status).toBe(201);
    expect((await call("POST", "/api/v1/venue", { name, address: { city: "GOA" } })).status).toBe(409);
    const bad = await call("POST", "/api/v1/venue", { name: "X", address: { city: "C" }, location: { lat: 91, lon: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^location\.lat: /);
  });

  it("a NUL character in any text field is a 400 naming the field, and nothing is written", async () => {
    const venue = {
      name: "Nul Hall",
      address: { street: "1 Main St", city: "Pune", country: "IN" },
      location: { lat: 18.5, lon: 73.8 },
    };
    const cases: [object, string][] = [
      [{ ...venue, name: "a\u0000b" }, "name"],
      [{ ...venue, address: { ...venue.address, city: "\u0000" } }, "address.city"],
      [{ ...venue, imageUrls: ["ok", "bad\u0000"] }, "imageUrls[1]"],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "/api/v1/venue", body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "invalid_argument", message: `${field}: must not contain a NUL character` });
    }
    const event = await call("POST", "/api/v1/events", { name: "Nul", category: "Movie", durationMinutes: 90, metadata: { lang: "e\u0000n" } });
    expect(event.status).toBe(400);
    expect(event.body.message).toBe("metadata.lang: must not contain a NUL character");
    const venues = await call("GET", "/api/v1/venues?pageSize=100");
    expect(venues.body.venues.map((v: { name: string }) => v.name)).not.toContain("a\u0000b");
  });

  it("Idempotency-Key: same key and body → the first response; another body → 409", async () => {
    const key = randomUUID();
    const body = { name: `Idem ${key}`, address: { city: "Delhi" } };
    const first = await call("POST", "/api/v1/venue", body, { "idempotency-key": key });
    const again = await call("POST", "/api/v1/venue", body, { "idempotency-key": key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const other = await call("POST", "/api/v1/venue", { ...body, name: "Other" }, { "idempotency-key": key });
    expect(other.status).toBe(409);
  });
});
