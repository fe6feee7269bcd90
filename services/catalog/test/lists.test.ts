import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport as createWebTransport } from "@connectrpc/connect-web";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CatalogService, type Event, type Venue } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { containsPattern, pageWindow } from "../domain/listing.js";
import { codeOf, errorOf, startCatalog, type CatalogHarness } from "./harness.js";

/**
 * ListVenues and ListEvents (public browse lists; REST `GET /api/v1/venues` and
 * `GET /api/v1/events`, additions to the shared contract listed in the README): ordering, paging
 * and total, the text and category filters (LIKE wildcards in the query match literally), the
 * contract's bounds; over Connect and gRPC to the service, and over REST and Connect GET through
 * the real gateway. This suite's database holds only the rows created here.
 *
 * Names are chosen so that the asserted orders are the same in every collation (letters and
 * digits in the same case); ties of equal names are ordered by id.
 */

let h: CatalogHarness;
let gateway: RunningGateway;
let base: string;

/** Venues matching "springfield" (name or city), in the expected order once ties are resolved. */
let springfield: Venue[];
/** Every venue created here. */
let allVenues: Venue[];
/** "Film 01" ... "Film 21", category Movie in three spellings. */
let films: Event[];
let jazz: Event[];

/** Postgres orders uuids as their lowercase hex text compares (plain code-unit order, no locale). */
const byId = (a: { venueId?: string; eventId?: string }, b: { venueId?: string; eventId?: string }) => {
  const [x, y] = [a.venueId ?? a.eventId ?? "", b.venueId ?? b.eventId ?? ""];
  return x < y ? -1 : x > y ? 1 : 0;
};

async function venue(name: string, city: string): Promise<Venue> {
  return (await h.client.createVenue({ name, address: { city } }, h.admin)).venue!;
}

async function event(name: string, category: string): Promise<Event> {
  return (await h.client.createEvent({ name, category, description: "springfield jazz film", keywords: ["jazz"] }, h.admin)).event!;
}

beforeAll(async () => {
  h = await startCatalog();
  gateway = await buildGateway({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [{ service: CatalogService, backend: "catalog" }],
    urls: { catalog: h.url },
    corsOrigins: [],
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: () => h.auth.serviceToken("gateway"),
  });
  base = `http://127.0.0.1:${gateway.port}`;

  // created out of order, so that the order asserted comes from the query
  const echo = await venue("Echo Stage", "Springfield");
  const odeon = await venue("Springfield Odeon", "Shelbyville"); // matches by name
  const alpha = await venue("Alpha Cinema", "Springfield");
  const bravos = [await venue("Bravo Hall", "Springfield"), await venue("Bravo Hall", "Springfield Heights")].sort(byId);
  const delta = await venue("Delta Screens", "Springfield");
  const charlie = await venue("Charlie Arena", "Springfield");
  springfield = [alpha, ...bravos, charlie, delta, echo, odeon];
  // LIKE's wildcards and escape character in names, each next to a name the wildcard would match
  const odd = [
    await venue("Deal 100% Off", "Goa"),
    await venue("Deal 1000 Off", "Goa"),
    await venue("Screen_1", "Goa"),
    await venue("ScreenA1", "Goa"),
    await venue("Back\\Slash", "Goa"),
    await venue("BackSlash", "Goa"),
  ];
  allVenues = [...springfield, ...odd];

  films = [];
  for (let i = 21; i >= 1; i--) {
    const category = i === 20 ? "movie" : i === 21 ? "MOVIE" : "Movie";
    films.push(await event(`Film ${String(i).padStart(2, "0")}`, category));
  }
  films.reverse();
  jazz = [await event("Jazz Night", "Concert"), await event("Jazz Night", " concert ")].sort(byId);
  await event("Movies Marathon", "Movies"); // "movie" in its name, not its category
  await event("Rock_On", "Concert");
  await event("RockXOn", "Concert");
  await event("50% Comedy", "Comedy");
  await event("500 Comedy", "Comedy");
  await h.client.updateEventRating(
    { eventId: jazz[0].eventId, averageRating: 4.5, reviewCount: 2, computedAt: timestampFromDate(new Date(0)) },
    h.service,
  );
});

afterAll(async () => {
  await gateway?.close();
  await h?.close();
});

const names = (xs: Array<{ name: string }>) => xs.map((x) => x.name);
const ids = (xs: Venue[]) => xs.map((v) => v.venueId);
const eventIds = (xs: Event[]) => xs.map((e) => e.eventId);

describe("paging and filter helpers", () => {
  it("pageWindow: page 0 is page 1, pageSize 0 is 20", () => {
    expect(pageWindow(0, 0)).toEqual({ limit: 20, offset: 0 });
    expect(pageWindow(1, 0)).toEqual({ limit: 20, offset: 0 });
    expect(pageWindow(3, 7)).toEqual({ limit: 7, offset: 14 });
    expect(pageWindow(10000, 100)).toEqual({ limit: 100, offset: 999_900 });
  });

  it("containsPattern escapes %, _ and the escape character; blank is no filter", () => {
    expect(containsPattern("")).toBeUndefined();
    expect(containsPattern("   ")).toBeUndefined();
    expect(containsPattern(" cine ")).toBe("%cine%");
    expect(containsPattern("100%")).toBe("%100\\%%");
    expect(containsPattern("a_b")).toBe("%a\\_b%");
    expect(containsPattern("k\\s")).toBe("%k\\\\s%");
  });
});

describe("ListVenues", () => {
  it("lists every venue by name then id, with the total", async () => {
    const res = await h.client.listVenues({ pageSize: 100 });
    expect(res.total).toBe(allVenues.length);
    expect(ids(res.venues).sort()).toEqual(ids(allVenues).sort());
    // the springfield venues keep their relative order in the full list
    const wanted = new Set(ids(springfield));
    expect(ids(res.venues).filter((id) => wanted.has(id))).toEqual(ids(springfield));
    expect(res.venues.find((v) => v.venueId === springfield[0].venueId)).toEqual(springfield[0]);
  });

  it("matches the query in the name or the city, ignoring case, and pages through the matches", async () => {
    for (const query of ["springfield", "SpringField", "  springfield "]) {
      const res = await h.client.listVenues({ query, pageSize: 100 });
      expect([query, ids(res.venues)]).toEqual([query, ids(springfield)]);
      expect(res.total).toBe(7);
    }
    expect(names(springfield)).toEqual([
      "Alpha Cinema", "Bravo Hall", "Bravo Hall", "Charlie Arena", "Delta Screens", "Echo Stage", "Springfield Odeon",
    ]);
    const page = (p: number) => h.client.listVenues({ query: "springfield", page: p, pageSize: 3 });
    const [p1, p2, p3, p4] = await Promise.all([page(1), page(2), page(3), page(4)]);
    expect(ids(p1.venues)).toEqual(ids(springfield.slice(0, 3)));
    expect(ids(p2.venues)).toEqual(ids(springfield.slice(3, 6)));
    expect(ids(p3.venues)).toEqual(ids(springfield.slice(6)));
    expect(p4.venues).toEqual([]);
    expect([p1.total, p2.total, p3.total, p4.total]).toEqual([7, 7, 7, 7]);
    expect(ids((await page(0)).venues)).toEqual(ids(p1.venues)); // page 0 = page 1
    expect(ids((await h.client.listVenues({ query: "shelbyville" })).venues)).toEqual([springfield[6].venueId]); // by city
    expect(names((await h.client.listVenues({ query: "bravo" })).venues)).toEqual(["Bravo Hall", "Bravo Hall"]);
    expect(await h.client.listVenues({ query: "nowhere" })).toMatchObject({ venues: [], total: 0 });
  });

  it("matches %, _ and \\ in the query literally", async () => {
    const only = async (query: string) => names((await h.client.listVenues({ query })).venues);
    expect(await only("100%")).toEqual(["Deal 100% Off"]);
    expect(await only("%")).toEqual(["Deal 100% Off"]);
    expect(await only("n_1")).toEqual(["Screen_1"]);
    expect(await only("_")).toEqual(["Screen_1"]);
    expect(await only("k\\s")).toEqual(["Back\\Slash"]);
  });

  it("refuses a pageSize over 100, a page over 10000 and a query over 100 characters", async () => {
    const err = await errorOf(h.client.listVenues({ pageSize: 101 }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/page_?size/i);
    expect(await codeOf(h.client.listVenues({ page: 10001 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.client.listVenues({ query: "x".repeat(101) }))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.client.listVenues({ page: 10000, pageSize: 100, query: "x".repeat(100) }))).toBe("ok");
  });

  it("is public: anonymous callers, users and admins all get the list", async () => {
    for (const opts of [undefined, h.user, h.admin]) expect((await h.client.listVenues({ query: "alpha" }, opts)).total).toBe(1);
  });
});

describe("ListEvents", () => {
  it("pages 20 at a time by default, by name then id", async () => {
    const first = await h.client.listEvents({ query: "film" });
    expect(first.total).toBe(21);
    expect(eventIds(first.events)).toEqual(eventIds(films.slice(0, 20)));
    const second = await h.client.listEvents({ query: "film", page: 2 });
    expect(eventIds(second.events)).toEqual([films[20].eventId]);
    expect(second.total).toBe(21);
    const all = await h.client.listEvents({ pageSize: 100 });
    expect(all.total).toBe(films.length + jazz.length + 5);
    expect(all.events.map((e) => e.name).filter((n) => n.startsWith("Film "))).toEqual(names(films));
  });

  it("filters by category exactly, ignoring case, and combines it with the query", async () => {
    const movies = await h.client.listEvents({ category: "movie", pageSize: 100 });
    expect(eventIds(movies.events)).toEqual(eventIds(films)); // not "Movies Marathon"
    expect(movies.total).toBe(21);
    expect(new Set(movies.events.map((e) => e.category))).toEqual(new Set(["Movie", "movie", "MOVIE"]));
    expect((await h.client.listEvents({ category: " MOVIES " })).events.map((e) => e.name)).toEqual(["Movies Marathon"]);
    const both = await h.client.listEvents({ query: "film 2", category: "MOVIE" });
    expect(names(both.events)).toEqual(["Film 20", "Film 21"]);
    expect(both.total).toBe(2);
    expect(await h.client.listEvents({ category: "opera" })).toMatchObject({ events: [], total: 0 });
  });

  it("matches the query in the name only (not description or keywords), ignoring case", async () => {
    const res = await h.client.listEvents({ query: "JAZZ" });
    expect(eventIds(res.events)).toEqual(eventIds(jazz)); // equal names: by id
    expect(names((await h.client.listEvents({ query: "movie" })).events)).toEqual(["Movies Marathon"]);
    expect((await h.client.listEvents({ query: "springfield" })).total).toBe(0);
  });

  it("matches % and _ in the query literally", async () => {
    expect(names((await h.client.listEvents({ query: "k_o" })).events)).toEqual(["Rock_On"]);
    expect(names((await h.client.listEvents({ query: "50%" })).events)).toEqual(["50% Comedy"]);
  });

  it("comes with averageRating and reviewCount, as GetEvent", async () => {
    const [rated, unrated] = (await h.client.listEvents({ query: "jazz" })).events;
    expect(rated).toMatchObject({ eventId: jazz[0].eventId, averageRating: 4.5, reviewCount: 2 });
    expect(unrated).toMatchObject({ eventId: jazz[1].eventId, averageRating: 0, reviewCount: 0 });
    expect(rated).toEqual((await h.client.getEvent({ eventId: rated.eventId })).event);
  });

  it("refuses a pageSize over 100 and a category over 64 characters", async () => {
    expect(await codeOf(h.client.listEvents({ pageSize: 101 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.client.listEvents({ category: "c".repeat(65) }))).toBe(Code.InvalidArgument);
  });

  it("answers over gRPC (HTTP/2) too", async () => {
    const grpc = createClient(CatalogService, createGrpcTransport({ baseUrl: h.url }));
    const res = await grpc.listEvents({ category: "concert", pageSize: 100 });
    expect(res.total).toBe(4);
    expect(eventIds(res.events.slice(0, 2))).toEqual(eventIds(jazz));
    expect(await codeOf(grpc.listEvents({ pageSize: 101 }))).toBe(Code.InvalidArgument);
  });
});

describe("through the gateway", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- REST JSON, asserted field by field
  async function get(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(base + path); // anonymous
    return { status: res.status, body: await res.json() };
  }

  it("GET /api/v1/venues?query=&page=&pageSize= → {venues, total}", async () => {
    const r = await get("/api/v1/venues?query=Springfield&page=2&pageSize=3");
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(7);
    expect(r.body.venues.map((v: { venueId: string }) => v.venueId)).toEqual(ids(springfield.slice(3, 6)));
    expect(r.body.venues[0]).toMatchObject({ name: springfield[3].name, address: { city: springfield[3].address?.city } });
    expect((await get("/api/v1/venues?query=100%25")).body.venues.map((v: Venue) => v.name)).toEqual(["Deal 100% Off"]);
    expect(await get("/api/v1/venues?query=nowhere")).toEqual({ status: 200, body: { venues: [], total: 0 } });
  });

  it("GET /api/v1/events?query=&category=&page=&pageSize= → {events, total} with ratings", async () => {
    const r = await get("/api/v1/events?query=jazz&category=CONCERT");
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(2);
    expect(r.body.events.map((e: Event) => e.eventId)).toEqual(eventIds(jazz));
    expect(r.body.events[0]).toMatchObject({ name: "Jazz Night", category: expect.stringMatching(/^concert$/i), averageRating: 4.5, reviewCount: 2 });
    const paged = await get("/api/v1/events?category=movie&page=3&pageSize=10");
    expect(paged.body).toEqual({ events: [expect.objectContaining({ name: "Film 21" })], total: 21 });
  });

  it("400 for a pageSize of 101, in the REST error format", async () => {
    for (const path of ["/api/v1/venues?pageSize=101", "/api/v1/events?pageSize=101"]) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, 400]);
      expect(r.body).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/page_?size/i) });
    }
    expect((await get("/api/v1/venues?page=10001")).status).toBe(400);
  });

  it("Connect-Web with useHttpGet sends the lists as GETs", async () => {
    const methods: string[] = [];
    const client = createClient(
      CatalogService,
      createWebTransport({
        baseUrl: base,
        useHttpGet: true,
        fetch: (input, init) => {
          methods.push(init?.method ?? "GET");
          return fetch(input, init);
        },
      }),
    );
    expect((await client.listVenues({ query: "alpha" })).venues.map((v) => v.name)).toEqual(["Alpha Cinema"]);
    expect((await client.listEvents({ query: "rock_on" })).events.map((e) => e.name)).toEqual(["Rock_On"]);
    expect(methods).toEqual(["GET", "GET"]);
  });
});
