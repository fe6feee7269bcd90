import { getOption, hasOption } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { http as httpRule } from "../../../gen/google/api/annotations_pb.js";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { callerOf } from "../../../lib/context.js";
import { notFound, unauthenticated } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { startServer, type RunningServer } from "../../../lib/server.js";
import { testAuth } from "../../../test/support/auth.js";
import { build, type RunningGateway } from "../server.js";
import { UPSTREAMS } from "../upstreams.js";

/*
 * Connect GET (connect-web's `useHttpGet: true`) through the real gateway: reads marked
 * `idempotency_level = NO_SIDE_EFFECTS` in the contracts are accepted as HTTP GETs, every other
 * method refuses GET. The backends are test doubles built with lib/server.ts (real auth and
 * validation interceptors, stub handlers), as in gateway.test.ts.
 */

const VENUE_ID = "0d9c6a3e-8f0b-4a53-9a1e-3f7e2c1b5a10";
const USER_ID = "6a3e0d9c-8f0b-4a53-9a1e-3f7e2c1b5a10";

let auth: Awaited<ReturnType<typeof testAuth>>;
let backend: RunningServer;
let gateway: RunningGateway;
let base: string;
const calls: string[] = [];

const catalogStub: Partial<ServiceImpl<typeof CatalogService>> = {
  async getVenue(req) {
    calls.push(`GetVenue ${req.venueId}`);
    if (req.venueId !== VENUE_ID) throw notFound("venue", req.venueId);
    return { venue: { venueId: VENUE_ID, name: "Cineplex 101", address: { city: "Hyderabad" } } };
  },
  async createVenue(req) {
    calls.push(`CreateVenue ${req.name}`);
    return { venue: { venueId: VENUE_ID, name: req.name } };
  },
};

const usersStub: Partial<ServiceImpl<typeof UsersService>> = {
  async getMe(_req, ctx) {
    const caller = callerOf(ctx);
    if (caller.kind !== "user") throw unauthenticated("a user token is required");
    calls.push(`GetMe ${caller.userId}`);
    return { userId: caller.userId, email: "ann@example.com", displayName: "Ann", role: caller.role };
  },
};

/** fetch that records each request's method and URL (what a browser would send). */
const sent: Array<{ method: string; url: string }> = [];
const recordingFetch: typeof fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  sent.push({ method: init?.method ?? (input instanceof Request ? input.method : "GET"), url });
  return fetch(input, init);
};

beforeAll(async () => {
  auth = await testAuth();
  backend = await startServer({
    name: "catalog",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    verifier: auth.verifier,
    routes: (router) => {
      router.service(CatalogService, catalogStub);
      router.service(UsersService, usersStub);
    },
  });
  const url = `http://127.0.0.1:${backend.port}`;
  gateway = await build({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [
      { service: CatalogService, backend: "catalog" },
      // one test double serves both; the gateway only knows it by this name
      { service: UsersService, backend: "users" },
    ],
    urls: { catalog: url, users: url },
    corsOrigins: "*",
    maxBodyBytes: 64 * 1024,
    upstreamTimeoutMs: 5_000,
    serviceCredential: () => auth.serviceToken("gateway"),
  });
  base = `http://127.0.0.1:${gateway.port}`;
});

afterAll(async () => {
  await gateway?.close();
  await backend?.close();
});

beforeEach(() => {
  calls.length = 0;
  sent.length = 0;
});

/** A Connect GET as the protocol spells it: the message JSON in the query string. */
function connectGet(procedure: string, message: object, headers: Record<string, string> = {}) {
  const q = new URLSearchParams({ connect: "v1", encoding: "json", message: JSON.stringify(message) });
  return fetch(`${base}/${procedure}?${q}`, { method: "GET", headers });
}

describe("Connect GET through the gateway", () => {
  it("a NO_SIDE_EFFECTS read answers a GET with the message in the query string", async () => {
    const res = await connectGet("ticketing.catalog.v1.CatalogService/GetVenue", { venueId: VENUE_ID });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toMatchObject({ venue: { venueId: VENUE_ID, name: "Cineplex 101" } });
    expect(calls).toEqual([`GetVenue ${VENUE_ID}`]);
  });

  it("a GET carries the caller's Authorization to the backend (GetMe)", async () => {
    const token = await auth.userToken(USER_ID);
    const ok = await connectGet("ticketing.users.v1.UsersService/GetMe", {}, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ userId: USER_ID, role: "user" });
    const anonymous = await connectGet("ticketing.users.v1.UsersService/GetMe", {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "unauthenticated" });
  });

  it("a backend error on a GET keeps its code (404)", async () => {
    const res = await connectGet("ticketing.catalog.v1.CatalogService/GetVenue", { venueId: USER_ID });
    expect(res.status).toBe(404);
    // a Connect error body, not the backend's gRPC response headers
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("grpc-status")).toBeNull();
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });

  it("a method without the option refuses GET (405) and calls nothing", async () => {
    const res = await connectGet("ticketing.catalog.v1.CatalogService/CreateVenue", { name: "X", address: { city: "C" } }, {
      authorization: `Bearer ${await auth.adminToken()}`,
    });
    expect(res.status).toBe(405);
    expect(calls).toEqual([]);
    // the same call as a POST goes through (the refusal is about the HTTP method only)
    const post = await fetch(`${base}/ticketing.catalog.v1.CatalogService/CreateVenue`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await auth.adminToken()}` },
      body: JSON.stringify({ name: "X", address: { city: "C" } }),
    });
    expect(post.status).toBe(200);
    expect(calls).toEqual(["CreateVenue X"]);
  });

  it("connect-web with useHttpGet: GET for marked reads, POST for everything else", async () => {
    const transport = createConnectTransport({ baseUrl: base, useHttpGet: true, fetch: recordingFetch });
    const catalog = createClient(CatalogService, transport);
    const { venue } = await catalog.getVenue({ venueId: VENUE_ID });
    expect(venue?.name).toBe("Cineplex 101");
    const admin = { headers: { authorization: `Bearer ${await auth.adminToken()}` } };
    await catalog.createVenue({ name: "Y", address: { city: "C" } }, admin);
    expect(sent.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      "GET /ticketing.catalog.v1.CatalogService/GetVenue",
      "POST /ticketing.catalog.v1.CatalogService/CreateVenue",
    ]);
  });

  it("connect-web reads a backend's error on a GET (and a POST) with its own code", async () => {
    for (const useHttpGet of [true, false]) {
      const transport = createConnectTransport({ baseUrl: base, useHttpGet, fetch: recordingFetch });
      const err = await createClient(CatalogService, transport)
        .getVenue({ venueId: USER_ID })
        .catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect([useHttpGet, (err as ConnectError).code, (err as ConnectError).rawMessage]).toEqual([
        useHttpGet,
        Code.NotFound,
        `venue ${USER_ID} not found`,
      ]);
    }
    expect(sent.map((s) => s.method)).toEqual(["GET", "POST"]);
  });
});

describe("idempotency levels of the public contracts", () => {
  const methods = UPSTREAMS.flatMap((u) => u.service.methods);
  const noSideEffects = (m: (typeof methods)[number]) => m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;

  it("marks exactly the side-effect-free reads browsers call", () => {
    expect(methods.filter(noSideEffects).map((m) => `${m.parent.name}.${m.name}`).sort()).toEqual(
      [
        "UsersService.GetMe",
        "CatalogService.GetVenue",
        "CatalogService.ListVenues",
        "CatalogService.GetHall",
        "CatalogService.ListHalls",
        "CatalogService.GetEvent",
        "CatalogService.ListEvents",
        "CatalogService.GetShowtime",
        "CatalogService.ListShowtimes",
        "BookingService.GetInventory",
        "BookingService.GetBooking",
        "BookingService.ListMyBookings",
        "SearchService.SearchShows",
        "ReviewsService.ListReviews",
        "NotificationsService.ListMyNotifications",
        "AdmissionService.GetWaitingRoom",
        "AdmissionService.GetMyQueueEntry",
        "TicketsService.ListBookingTickets",
        "TicketsService.GetCheckInStats",
        "TicketsService.ListSigningKeys",
      ].sort(),
    );
  });

  it("a REST route is a GET exactly when its method is marked NO_SIDE_EFFECTS", () => {
    const mismatched = methods
      .filter((m) => hasOption(m, httpRule))
      .filter((m) => (getOption(m, httpRule).pattern.case === "get") !== noSideEffects(m))
      .map((m) => `${m.parent.name}.${m.name}`);
    expect(mismatched).toEqual([]);
  });
});
