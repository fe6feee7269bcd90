/**
 * The admin flow over gRPC from a client not written here: `buf curl` with the contracts as its
 * schema, venue → hall (the seeds' example layout) → event → showtime. And the same client with
 * no schema at hand, through the gRPC server reflection every service serves (v1 and v1alpha).
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

function buf(args: string[]): Promise<string> {
  return new Promise((ok, fail) =>
    execFile(resolve(root, "node_modules/.bin/buf"), args, { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(stdout),
    ),
  );
}

/**
 * Runs buf curl and reads its proto3 JSON output with the response's own schema. The schema
 * comes from proto/ unless `reflect` names a reflection protocol.
 */
async function bufCurl<D extends DescMessage>(
  method: string,
  body: object,
  schema: D,
  reflect?: "grpc-v1" | "grpc-v1alpha",
): Promise<MessageShape<D>> {
  const args = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
  args.push(...(reflect ? ["--reflect-protocol", reflect] : ["--schema", "proto"]));
  for (const [k, v] of Object.entries(h.admin.headers)) args.push("-H", `${k}: ${v}`);
  args.push("-d", JSON.stringify(body), `${h.url}/ticketing.catalog.v1.CatalogService/${method}`);
  return fromJson(schema, JSON.parse(await buf(args)));
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

describe("gRPC server reflection, read by buf curl with no schema", () => {
  it("lists the service, health and reflection itself, with no token", async () => {
    const out = await buf(["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", h.url]);
    expect(out.trim().split("\n").sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "ticketing.catalog.v1.CatalogService",
    ]);
  });

  it.each(["grpc-v1", "grpc-v1alpha"] as const)("calls an RPC whose schema it learnt over %s", async (protocol) => {
    const { event } = await bufCurl("CreateEvent", { name: `Reflected (${protocol})`, category: "Concert", durationMinutes: 90 }, CreateEventResponseSchema, protocol);
    expect(event).toMatchObject({ name: `Reflected (${protocol})`, category: "Concert", durationMinutes: 90 });
  });

  it("answers 'not found' for a service the server does not have", async () => {
    const err = await buf(["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}", `${h.url}/ticketing.catalog.v1.NoSuchService/Get`]).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`failed to find service named "ticketing.catalog.v1.NoSuchService"`);
  });
});
