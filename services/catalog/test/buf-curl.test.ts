/**
 * The admin flow over gRPC from a client not written here: `buf curl` with the contracts as its
 * schema, venue → hall (the seeds' example layout) → event → showtime.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { fromJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  CreateEventResponseSchema,
  CreateHallResponseSchema,
  CreateShowtimeResponseSchema,
  CreateVenueResponseSchema,
} from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { hoursFromNow, SEEDS_LAYOUT, startCatalog, type CatalogHarness } from "./harness.js";

const root = resolve(__dirname, "../../..");
let h: CatalogHarness;

beforeAll(async () => {
  h = await startCatalog();
});
afterAll(async () => {
  await h?.close();
});

/** Runs buf curl and reads its proto3 JSON output with the response's own schema. */
function bufCurl<D extends DescMessage>(method: string, body: object, schema: D): Promise<MessageShape<D>> {
  const args = ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--schema", "proto"];
  for (const [k, v] of Object.entries(h.admin.headers)) args.push("-H", `${k}: ${v}`);
  args.push("-d", JSON.stringify(body), `${h.url}/ticketing.catalog.v1.CatalogService/${method}`);
  return new Promise((ok, fail) =>
    execFile(resolve(root, "node_modules/.bin/buf"), args, { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(fromJson(schema, JSON.parse(stdout))),
    ),
  );
}

it("creates a venue, a hall, an event and a showtime with buf curl over gRPC", async () => {
  const { venue } = await bufCurl("CreateVenue", {
    name: "Cineplex 101 (buf curl)",
    address: { street: "123 Main St", city: "Hyderabad", district: "Madhapur", country: "IN" },
    location: { lat: 17.4431, lon: 78.4772 },
  }, CreateVenueResponseSchema);
  if (!venue) throw new Error("no venue in the response");
  expect(venue.venueId).toMatch(/^[0-9a-f-]{36}$/);
  const { hall } = await bufCurl("CreateHall", { venueId: venue.venueId, hallName: "Screen 1", seatLayout: SEEDS_LAYOUT }, CreateHallResponseSchema);
  if (!hall) throw new Error("no hall in the response");
  expect(hall.capacity).toBe(6);
  const { event } = await bufCurl("CreateEvent", { name: "The Dark Knight Rises", category: "Movie", durationMinutes: 165 }, CreateEventResponseSchema);
  if (!event) throw new Error("no event in the response");
  const { showtime } = await bufCurl("CreateShowtime", {
    eventId: event.eventId,
    venueId: venue.venueId,
    hallId: hall.hallId,
    timestamp: hoursFromNow(48).toISOString(),
    currency: "USD",
    prices: [
      { seatType: "premium", amount: 45 },
      { seatType: "standard", amount: 25 },
    ],
  }, CreateShowtimeResponseSchema);
  expect(showtime).toMatchObject({ eventId: event.eventId, hallId: hall.hallId, currency: "USD" });
});
