import { randomInt, randomUUID } from "node:crypto";
import knexFactory from "knex";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Client as TemporalClient } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { ApplicationFailure } from "@temporalio/common";
import { create, toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { SearchService, SearchShowsRequestSchema, ShowResultSchema } from "../../../gen/ticketing/search/v1/search_pb.js";

type SearchRequest = Omit<MessageInitShape<typeof SearchShowsRequestSchema>, "$typeName">;
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { serviceCredential } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import { silentLogger } from "../../../lib/logger.js";
import { startElasticsearch, startOpenSearch, type RunningEngine } from "../../../test/support/opensearch.js";
import { freePort } from "../../../test/support/ports.js";
import { testAuth, TEST_SERVICE_SECRET } from "../../../test/support/auth.js";
import { TASK_QUEUES } from "../../../workflows/task-queues.js";
import { gridLayout, testTemporal, waitFor } from "../../catalog/test/harness.js";
import type { EngineName, SearchEngine } from "../engine.js";
import { createElasticsearchClient } from "../engines/elasticsearch-clients.js";
import { ElasticsearchEngine } from "../engines/elasticsearch.js";
import { PostgresEngine } from "../engines/postgres.js";
import type { DocumentWrite } from "../domain/document.js";
import { distanceMeters } from "../domain/geo.js";
import { parseDateBound, parseSearchRequest } from "../domain/query.js";
import { createSearchActivities } from "../activities.js";
import { Indexer } from "../indexer.js";
import { build } from "../server.js";
import { CATEGORIES, CITIES, prng, syntheticDocuments } from "./synthetic.js";
import { openPrePricesIndex, openTestEngine, startSearch, type SearchHarness } from "./harness.js";
import type { SearchActivityCall } from "./workflows.js";

/**
 * The search contract, run against every engine, each the real thing: embedded Postgres (schema
 * `search`, pg_trgm, cube + earthdistance), a real OpenSearch 2.19 node through the OpenSearch
 * client and a real Elasticsearch 8.17 node through the Elasticsearch client, both started from
 * Maven Central jars (test/support/opensearch.ts). The indexer's activities run in the search process's
 * real Temporal worker and are called from a workflow on the test run's Temporal dev server.
 */

const ENGINES: EngineName[] = ["postgres", "opensearch", "elasticsearch"];

const engines: Partial<Record<"opensearch" | "elasticsearch", RunningEngine>> = {};
let temporal: { client: TemporalClient; close(): Promise<void> };
let workflowWorker: { worker: Worker; connection: NativeConnection; run: Promise<void> };
const RUN = randomUUID().slice(0, 8);
const WORKFLOW_QUEUE = `${TASK_QUEUES.workflows}-search-${RUN}`;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") });
  } catch {
    // installed by another suite in this process
  }
  const [os, es] = await Promise.all([
    startOpenSearch(),
    startElasticsearch(),
    (async () => {
      temporal = await testTemporal();
      const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
      const worker = await Worker.create({
        connection,
        namespace: "default",
        taskQueue: WORKFLOW_QUEUE,
        workflowsPath: require.resolve("./workflows"),
      });
      workflowWorker = { worker, connection, run: worker.run() };
    })(),
  ]);
  engines.opensearch = os;
  engines.elasticsearch = es;
  // start-up times, for the record (CI logs); both JVMs start side by side
  for (const e of [os, es]) process.stdout.write(`${e.engine} test node: prepared in ${e.prepareMs} ms, started in ${e.startMs} ms\n`);
}, 600_000);

afterAll(async () => {
  workflowWorker?.worker.shutdown();
  await workflowWorker?.run;
  await workflowWorker?.connection.close();
  await temporal?.close();
  await Promise.all([engines.opensearch?.stop(), engines.elasticsearch?.stop()]);
});

const engineUrl = (name: EngineName) => (name === "postgres" ? undefined : engines[name]!.url);

/** Runs one search activity through Temporal on the harness's activity queue. */
async function callActivity<T>(h: SearchHarness, activity: SearchActivityCall["activity"], input: unknown): Promise<T> {
  const call: SearchActivityCall = { taskQueue: h.server.worker!.taskQueue, activity, input };
  return (await temporal.client.workflow.execute("searchActivityTestWorkflow", {
    taskQueue: WORKFLOW_QUEUE,
    workflowId: `search-test-${randomUUID()}`,
    args: [call],
    workflowExecutionTimeout: "60 seconds",
  })) as T;
}

const daysFromNow = (d: number) => new Date(Date.now() + d * 86_400_000);
const search = (h: SearchHarness, req: SearchRequest) => h.client.searchShows(req);

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

/**
 * Resolves once the clock reads later than `ms`. Catalog data read after that is "read later"
 * (indexedAt) than data read before `ms`, however fast the machine: a document never replaces
 * one read later, so a re-index must not share the first read's millisecond.
 */
async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((r) => setImmediate(r));
}

/** A hall with one row of two seats per seat type. */
function tieredLayout(seatTypes: string[]) {
  return {
    sections: seatTypes.map((seatType, i) => ({
      id: seatType,
      name: seatType,
      rows: [
        {
          label: String.fromCharCode(65 + i),
          seats: [1, 2].map((n) => ({ id: `${seatType}-${n}`, label: `${n}`, coordinates: { x: n * 10, y: i * 10 }, seatType })),
        },
      ],
    })),
  };
}

interface Pricing {
  currency: string;
  prices: Array<{ seatType: string; amount: number }>;
}

/** What fixtures' showtimes cost unless a test says otherwise. */
const DEFAULT_PRICING: Pricing = { currency: "USD", prices: [{ seatType: "standard", amount: 10 }] };

/** Catalog fixtures through the real catalog API. */
function fixtures(h: SearchHarness) {
  const admin = h.catalog.admin;
  const c = h.catalog.client;
  let hallSlot = 0;
  return {
    async venue(name: string, city: string, location?: { lat: number; lon: number }, seatLayout: object = gridLayout(2, 5)) {
      const v = await c.createVenue(
        { name, address: { street: "123 Main St", city, district: "Madhapur", state: "Telangana", zip: "500081", country: "IN" }, location },
        admin,
      );
      const hall = await c.createHall({ venueId: v.venue!.venueId, hallName: "Screen 1", seatLayout }, admin);
      return { venueId: v.venue!.venueId, hallId: hall.hall!.hallId };
    },
    async event(name: string, category = "Movie", keywords: string[] = []) {
      const e = await c.createEvent({ name, category, keywords, durationMinutes: 60, imageUrl: `events/${randomUUID()}.jpg` }, admin);
      return e.event!.eventId;
    },
    /** A showtime `days` from now (each one in its own 3-hour slot, so halls never overlap). */
    async showtime(eventId: string, place: { venueId: string; hallId: string }, days: number, pricing: Pricing = DEFAULT_PRICING) {
      const at = new Date(daysFromNow(days).getTime() + ++hallSlot * 3 * 3_600_000);
      const s = await c.createShowtime(
        { eventId, venueId: place.venueId, hallId: place.hallId, timestamp: timestampFromDate(at), ...pricing },
        admin,
      );
      return s.showtime!.showtimeId;
    },
  };
}

describe.each(ENGINES)("search on %s", (engineName) => {
  let h: SearchHarness;
  let f: ReturnType<typeof fixtures>;

  beforeAll(async () => {
    h = await startSearch(engineName, {
      engineUrl: engineUrl(engineName),
      worker: { address: process.env.TEST_TEMPORAL_ADDRESS!, namespace: "default", taskQueue: `${TASK_QUEUES.search}-${RUN}-${engineName}` },
      refresher: { intervalMs: 200 },
    });
    f = fixtures(h);
    await h.server.worker!.ready;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const unique = (s: string) => `${s} ${randomUUID().slice(0, 6)}`;

  /** Indexes showtimes through the activity, then makes them visible. */
  async function indexed(...showtimeIds: string[]) {
    for (const showtimeId of showtimeIds) {
      expect(await callActivity(h, "indexShowtime", { showtimeId })).toEqual({ indexed: true });
    }
    await h.engine.refresh();
  }

  describe("indexing through the activities (catalog over gRPC)", () => {
    it("makes a new showtime findable, in the spec's denormalised shape", async () => {
      const city = unique("Hyderabad");
      const place = await f.venue(unique("Cineplex 101"), city, { lat: 17.4431, lon: 78.4772 });
      const eventId = await f.event("The Dark Knight Rises", "Movie", ["movie", "action", "batman", "superhero"]);
      const showtimeId = await f.showtime(eventId, place, 2);
      h.booking.seats.set(showtimeId, 7);
      await indexed(showtimeId);

      const res = await search(h, { lat: 17.44, lon: 78.47, distance: "10km", city });
      expect(res.total).toBe(1);
      const [r] = res.results;
      const details = (await h.catalog.client.getShowtimeDetails({ showtimeId }, h.catalog.service)).details!;
      expect(r).toMatchObject({
        showtimeId,
        event: { eventId, name: "The Dark Knight Rises", category: "Movie", imageUrl: details.event!.imageUrl, keywords: ["movie", "action", "batman", "superhero"] },
        venue: {
          venueId: place.venueId,
          city,
          address: { street: "123 Main St", city, district: "Madhapur", state: "Telangana", zip: "500081", country: "IN" },
          location: { lat: 17.4431, lon: 78.4772 },
        },
        availableSeats: 7,
        priceFrom: 10,
        currency: "USD",
      });
      expect(timestampDate(r.showtime!).toISOString()).toBe(timestampDate(details.showtime!.timestamp!).toISOString());
      expect(r.distanceKm).toBeCloseTo(distanceMeters({ lat: 17.44, lon: 78.47 }, { lat: 17.4431, lon: 78.4772 }) / 1000, 5);
    });

    it("shows the hall's capacity until booking knows the showtime, then follows booking within seconds", async () => {
      const city = unique("Pune");
      const place = await f.venue(unique("Hall"), city, { lat: 18.52, lon: 73.85 });
      const showtimeId = await f.showtime(await f.event(unique("Play")), place, 3);
      await indexed(showtimeId);
      expect((await search(h, { city })).results[0].availableSeats).toBe(10);
      // a booking takes 3 seats: the refresher (every 200 ms here, 3 s by default) catches up
      h.booking.seats.set(showtimeId, 7);
      const started = Date.now();
      await waitFor("availableSeats = 7", async () => (await search(h, { city })).results[0].availableSeats === 7, 10_000);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it("re-indexes every showtime of an updated event and of an updated venue", async () => {
      const city = unique("Chennai");
      const a = await f.venue(unique("Venue A"), city, { lat: 13.08, lon: 80.27 });
      const b = await f.venue(unique("Venue B"), city, { lat: 13.1, lon: 80.29 });
      const eventId = await f.event(unique("Old Title"));
      const ids = [await f.showtime(eventId, a, 1), await f.showtime(eventId, b, 2), await f.showtime(eventId, a, 3)];
      await indexed(...ids);

      const name = unique("Brand New Title");
      await h.catalog.client.updateEvent({ eventId, name, keywords: ["renamed"] }, h.catalog.admin);
      expect(await callActivity(h, "reindexEvent", { catalogEventId: eventId })).toEqual({ indexed: 3, removed: 0 });
      await h.engine.refresh();
      const found = await search(h, { query: name, city });
      expect(found.results.map((r) => r.showtimeId).sort()).toEqual([...ids].sort());
      expect(found.results.every((r) => r.event!.name === name && r.event!.keywords.join() === "renamed")).toBe(true);

      // venue B moves 300 km away: its showtime leaves the 20 km circle around the old spot
      await h.catalog.client.updateVenue({ venueId: b.venueId, location: { lat: 15.8, lon: 80.29 } }, h.catalog.admin);
      expect(await callActivity(h, "reindexVenue", { venueId: b.venueId })).toEqual({ indexed: 1, removed: 0 });
      await h.engine.refresh();
      const near = await search(h, { lat: 13.09, lon: 80.28, distance: "20km", city });
      expect(near.results.map((r) => r.showtimeId).sort()).toEqual([ids[0], ids[2]].sort());
      const moved = await search(h, { lat: 15.8, lon: 80.29, distance: "1km", city });
      expect(moved.results.map((r) => r.showtimeId)).toEqual([ids[1]]);
    });

    it("carries the cheapest seat type's price and the currency, and the new minimum once changed prices are re-indexed", async () => {
      const city = unique("Mumbai");
      const place = await f.venue(unique("Royal Opera House"), city, { lat: 18.95, lon: 72.82 }, tieredLayout(["box", "premium", "standard"]));
      const eventId = await f.event(unique("Gala"), "Concert");
      const priced = (box: number, premium: number, standard: number): Pricing => ({
        currency: "EUR",
        prices: [
          { seatType: "box", amount: box },
          { seatType: "premium", amount: premium },
          { seatType: "standard", amount: standard },
        ],
      });
      const gala = await f.showtime(eventId, place, 2, priced(80, 45.5, 24.99));
      const free = await f.showtime(eventId, place, 3, priced(0, 0, 0));
      await indexed(gala, free);
      const prices = async () => Object.fromEntries((await search(h, { city })).results.map((r) => [r.showtimeId, [r.priceFrom, r.currency]]));
      // a free show is 0, not unknown
      expect(await prices()).toEqual({ [gala]: [24.99, "EUR"], [free]: [0, "EUR"] });

      // The prices change, and the cheapest seat type with them. The catalog has no API for that
      // yet: the test rewrites the showtime's stored prices (minor units), as such an API would.
      const setPrices = (boxMinor: number, premiumMinor: number, standardMinor: number) =>
        h.catalog.db("showtimes").where({ id: gala }).update({
          prices: JSON.stringify([
            { seatType: "box", amountMinor: boxMinor },
            { seatType: "premium", amountMinor: premiumMinor },
            { seatType: "standard", amountMinor: standardMinor },
          ]),
        });
      await clockPast(Date.now());
      await setPrices(6000, 1950, 2500);
      expect(await callActivity(h, "indexShowtime", { showtimeId: gala })).toEqual({ indexed: true });
      await h.engine.refresh();
      expect(await prices()).toEqual({ [gala]: [19.5, "EUR"], [free]: [0, "EUR"] });

      // and through the event's re-index (ListShowtimeDetails), as after an event update
      await clockPast(Date.now());
      await setPrices(6000, 3000, 2200);
      expect(await callActivity(h, "reindexEvent", { catalogEventId: eventId })).toEqual({ indexed: 2, removed: 0 });
      await h.engine.refresh();
      expect(await prices()).toEqual({ [gala]: [22, "EUR"], [free]: [0, "EUR"] });
    });

    it("reports the price of a document indexed before search carried prices as unknown (unset), not as free", async () => {
      const city = unique("Legacy Town");
      const { priceFrom: _priceFrom, currency: _currency, ...doc } = syntheticDocuments({ count: 1, seed: 2, center: { lat: 10, lon: 10 }, spanDeg: 0.1, now: new Date(), pastDays: 0, futureDays: 5 })[0];
      const legacy: DocumentWrite = { ...doc, showtimeId: randomUUID(), venue: { ...doc.venue, city, address: { ...doc.venue.address, city } }, indexedAt: new Date().toISOString() };
      await h.engine.upsert([legacy]);
      await h.engine.refresh();
      const [r] = (await search(h, { city })).results;
      expect(r.showtimeId).toBe(legacy.showtimeId);
      expect(r.priceFrom).toBeUndefined();
      expect(r.currency).toBe("");
      // REST (the gateway shows every implicit field): no priceFrom at all, an empty currency
      const json = toJson(ShowResultSchema, r, { alwaysEmitImplicit: true }) as Record<string, unknown>;
      expect(json).not.toHaveProperty("priceFrom");
      expect(json.currency).toBe("");
    });

    it("removes the document of a showtime the catalog does not know, and refuses bad ids for good", async () => {
      const city = unique("Ghost Town");
      const ghost = randomUUID();
      const doc = syntheticDocuments({ count: 1, seed: 1, center: { lat: 10, lon: 10 }, spanDeg: 0.1, now: new Date(), pastDays: 0, futureDays: 5 })[0];
      await h.engine.upsert([{ ...doc, showtimeId: ghost, venue: { ...doc.venue, city, address: { ...doc.venue.address, city } }, indexedAt: new Date().toISOString() }]);
      await h.engine.refresh();
      expect((await search(h, { city })).total).toBe(1);
      expect(await callActivity(h, "indexShowtime", { showtimeId: ghost })).toEqual({ indexed: false });
      await h.engine.refresh();
      expect((await search(h, { city })).total).toBe(0);

      const err = await callActivity(h, "indexShowtime", { showtimeId: "not-a-uuid" }).catch((e: unknown) => e);
      const cause = (err as { cause?: { cause?: unknown } }).cause?.cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe("CatalogRefused");
      expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    });

    it("IndexShowtime and ReindexAll are internal RPCs", async () => {
      expect((await errorOf(h.client.indexShowtime({ showtimeId: randomUUID() }))).code).toBe(Code.Unauthenticated);
      expect((await errorOf(h.client.reindexAll({}))).code).toBe(Code.Unauthenticated);
      const user = { headers: { authorization: `Bearer ${await h.catalog.auth.userToken()}` } };
      expect((await errorOf(h.client.reindexAll({}, user))).code).toBe(Code.PermissionDenied);
      expect(await h.client.indexShowtime({ showtimeId: randomUUID() }, h.service)).toMatchObject({ indexed: false });
    });
  });

  describe("the search API", () => {
    let city: string;
    let ids: Record<string, string>;
    const centre = { lat: 12.97, lon: 77.59 };

    beforeAll(async () => {
      city = unique("Bengaluru");
      // venues east of the centre at 1, 3 and 8 km, and one without coordinates
      const kmEast = (km: number) => ({ lat: centre.lat, lon: centre.lon + km / (111.32 * Math.cos((centre.lat * Math.PI) / 180)) });
      const v1 = await f.venue(unique("Batman Hall"), city, kmEast(1));
      const v3 = await f.venue(unique("Orion Mall Screens"), city, kmEast(3));
      const v8 = await f.venue(unique("Forum Cinemas"), city, kmEast(8));
      const vNone = await f.venue(unique("Community Hall"), city);
      const knight = await f.event("The Dark Knight", "Movie", ["dc", "superhero"]);
      const lego = await f.event("Lego Adventures", "Movie", ["batman", "animation"]);
      const jazz = await f.event("Jazz Night", "Concert", ["music", "live"]);
      ids = {
        knightAt8: await f.showtime(knight, v8, 1),
        knightAt3: await f.showtime(knight, v3, 2),
        legoAt1: await f.showtime(lego, v3, 1),
        jazzAt1: await f.showtime(jazz, v1, 4),
        jazzAt1Later: await f.showtime(jazz, v1, 6),
        jazzNoLocation: await f.showtime(jazz, vNone, 1),
      };
      await indexed(...Object.values(ids));
    }, 120_000);

    it("without a query: within the radius only, by distance then time", async () => {
      const res = await search(h, { ...centre, distance: "5km", city });
      expect(res.results.map((r) => r.showtimeId)).toEqual([ids.jazzAt1, ids.jazzAt1Later, ids.legoAt1, ids.knightAt3]);
      expect(res.total).toBe(4);
      const d = res.results.map((r) => r.distanceKm!);
      expect(d[0]).toBeCloseTo(1, 2);
      expect(d[3]).toBeCloseTo(3, 2);
      // default radius 25 km; miles and metres
      expect((await search(h, { ...centre, city })).total).toBe(5);
      expect((await search(h, { ...centre, city, distance: "1.5mi" })).total).toBe(2);
      expect((await search(h, { ...centre, city, distance: "2mi" })).total).toBe(4);
      expect((await search(h, { ...centre, city, distance: "2500m" })).total).toBe(2);
    });

    it("with a query: event name above keywords above venue name, typo-tolerant, proximity as tie-breaker", async () => {
      const batman = await search(h, { ...centre, distance: "10km", city, query: "batman" });
      // keyword "batman" (Lego) above venue name "Batman Hall" (the jazz shows there)
      expect(batman.results.map((r) => r.showtimeId).slice(0, 1)).toEqual([ids.legoAt1]);
      expect(new Set(batman.results.slice(1).map((r) => r.showtimeId))).toEqual(new Set([ids.jazzAt1, ids.jazzAt1Later]));

      const knight = await search(h, { ...centre, distance: "10km", city, query: "dark knight" });
      // the nearer showing of the same event first (engines may add "Jazz Night" further down:
      // "knight" is one edit from "night")
      expect(knight.results.map((r) => r.showtimeId).slice(0, 2)).toEqual([ids.knightAt3, ids.knightAt8]);

      for (const typo of ["dark knigth", "Drak Knight", "batmna"]) {
        const res = await search(h, { ...centre, distance: "10km", city, query: typo });
        expect(res.results.length).toBeGreaterThan(0);
        expect(res.results[0].showtimeId).toBe(typo === "batmna" ? ids.legoAt1 : ids.knightAt3);
      }
      // name beats keyword: "superhero" is a keyword of the Dark Knight only; "jazz" is a name
      const jazz = await search(h, { city, query: "jazz" });
      expect(jazz.results.map((r) => r.event!.name)).toEqual(["Jazz Night", "Jazz Night", "Jazz Night"]);
      // two letters swapped in a short word is one edit, though "jzaz" shares no trigram with "jazz"
      const swapped = await search(h, { city, query: "jzaz" });
      expect(swapped.results.map((r) => r.event!.name)).toEqual(["Jazz Night", "Jazz Night", "Jazz Night"]);
      expect((await search(h, { city, query: "zzzqqq" })).total).toBe(0);
    });

    it("city is the fallback without a location: by time, venues without coordinates included", async () => {
      const res = await search(h, { city: city.toUpperCase() });
      expect(res.total).toBe(6);
      const times = res.results.map((r) => timestampDate(r.showtime!).getTime());
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(res.results.find((r) => r.showtimeId === ids.jazzNoLocation)?.distanceKm).toBeUndefined();
      expect(res.results.find((r) => r.showtimeId === ids.jazzNoLocation)?.venue?.location).toBeUndefined();
    });

    it("filters by category (case-insensitive) and by date; pages cover every result once", async () => {
      expect((await search(h, { city, category: "concert" })).results.map((r) => r.showtimeId).sort()).toEqual(
        [ids.jazzAt1, ids.jazzAt1Later, ids.jazzNoLocation].sort(),
      );
      // from an hour before jazzAt1 to the end of its day (UTC), whatever the time of day now:
      // the showtimes before it are a day or more earlier, jazzAt1Later is over a day later
      const all = await search(h, { city });
      const at = timestampDate(all.results.find((r) => r.showtimeId === ids.jazzAt1)!.showtime!);
      const from = new Date(at.getTime() - 3_600_000).toISOString();
      const to = at.toISOString().slice(0, 10); // a date: the whole day
      expect((await search(h, { city, startDate: from, endDate: to })).results.map((r) => r.showtimeId)).toEqual([ids.jazzAt1]);
      const seen: string[] = [];
      for (let page = 1; page <= 3; page++) {
        const res = await search(h, { city, page, pageSize: 2 });
        expect(res.total).toBe(6);
        seen.push(...res.results.map((r) => r.showtimeId));
      }
      expect(new Set(seen).size).toBe(6);
      expect((await search(h, { city, page: 4, pageSize: 2 })).results).toEqual([]);
      expect((await search(h, { city, page: 4, pageSize: 2 })).total).toBe(6);
    });

    it("excludes past showtimes unless startDate asks for them", async () => {
      const pastCity = unique("Mysuru");
      const doc = (n: number, hoursFromNow: number): DocumentWrite => ({
        ...syntheticDocuments({ count: 1, seed: n, center: centre, spanDeg: 0.01, now: new Date(), pastDays: 0, futureDays: 1 })[0],
        showtimeId: randomUUID(),
        showtime: new Date(Date.now() + hoursFromNow * 3_600_000).toISOString(),
        indexedAt: new Date().toISOString(),
      });
      const past = doc(1, -48);
      const future = doc(2, 48);
      for (const d of [past, future]) d.venue = { ...d.venue, city: pastCity, address: { ...d.venue.address, city: pastCity } };
      await h.engine.upsert([past, future]);
      await h.engine.refresh();
      expect((await search(h, { city: pastCity })).results.map((r) => r.showtimeId)).toEqual([future.showtimeId]);
      const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
      expect((await search(h, { city: pastCity, startDate: threeDaysAgo })).results.map((r) => r.showtimeId)).toEqual([
        past.showtimeId,
        future.showtimeId,
      ]);
    });

    it("finds a typo of a word first indexed after that very typo was searched for", async () => {
      const typoCity = unique("Hampi");
      const letters = "bcdfghjklmnpqrstvwxz";
      const word = Array.from({ length: 9 }, (_, i) => (i % 2 ? "aeiou"[randomInt(5)] : letters[randomInt(letters.length)])).join("");
      const typo = word.slice(0, 4) + word[5] + word[4] + word.slice(6);
      expect((await search(h, { city: typoCity, query: typo })).total).toBe(0);
      const d: DocumentWrite = {
        ...syntheticDocuments({ count: 1, seed: 5, center: centre, spanDeg: 0.01, now: new Date(), pastDays: 0, futureDays: 1 })[0],
        showtimeId: randomUUID(),
        showtime: new Date(Date.now() + 24 * 3_600_000).toISOString(),
        indexedAt: new Date().toISOString(),
      };
      d.event = { ...d.event, name: `The ${word} Show` };
      d.venue = { ...d.venue, city: typoCity, address: { ...d.venue.address, city: typoCity } };
      await h.engine.upsert([d]);
      await h.engine.refresh();
      expect((await search(h, { city: typoCity, query: typo })).results.map((r) => r.showtimeId)).toEqual([d.showtimeId]);
    });

    it.each([
      [{ lat: 12.9 }, "lon"],
      [{ lon: 77.5 }, "lat"],
      [{ lat: 91, lon: 0 }, "lat"],
      [{ lat: -90.5, lon: 0 }, "lat"],
      [{ lat: 0, lon: 180.01 }, "lon"],
      [{ lat: 0, lon: -181 }, "lon"],
      [{ lat: 0, lon: 0, distance: "10parsecs" }, "distance"],
      [{ lat: 0, lon: 0, distance: "10" }, "distance"],
      [{ lat: 0, lon: 0, distance: "km" }, "distance"],
      [{ lat: 0, lon: 0, distance: "501km" }, "distance"],
      [{ lat: 0, lon: 0, distance: "311mi" }, "distance"],
      [{ lat: 0, lon: 0, distance: "0km" }, "distance"],
      [{ startDate: "2030-05-02", endDate: "2030-05-01" }, "endDate"],
      [{ startDate: "2030-05-02T10:00:00Z", endDate: "2030-05-02T09:59:59Z" }, "endDate"],
      [{ startDate: "yesterday" }, "startDate"],
      [{ startDate: "2030-02-30" }, "startDate"],
      [{ endDate: "2030-13-01" }, "endDate"],
      [{ pageSize: 101 }, "pageSize"],
      [{ page: -1 }, "page"],
    ] as Array<[SearchRequest, string]>)("400 for %j, naming %s", async (req, field) => {
      const err = await errorOf(search(h, req));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(field);
    });

    it("accepts a date range within one day and startDate == endDate", async () => {
      const day = daysFromNow(4).toISOString().slice(0, 10);
      expect((await search(h, { city, startDate: day, endDate: day })).total).toBeGreaterThanOrEqual(0);
    });
  });

  describe("full re-index from the catalog (services/search/reindex.ts)", () => {
    it("rebuilds without downtime: searches keep answering, writes made meanwhile survive, stale documents go", async () => {
      const city = unique("Kochi");
      const place = await f.venue(unique("Lulu Screens"), city, { lat: 9.93, lon: 76.26 });
      const eventId = await f.event(unique("Malayalam Night"));
      const showtimeIds = [await f.showtime(eventId, place, 1), await f.showtime(eventId, place, 2)];
      await indexed(...showtimeIds);
      // a document the catalog does not have (left over from a removed showtime)
      const stale = syntheticDocuments({ count: 1, seed: 9, center: { lat: 9.93, lon: 76.26 }, spanDeg: 0.01, now: new Date(), pastDays: 0, futureDays: 2 })[0];
      stale.showtimeId = randomUUID();
      stale.venue = { ...stale.venue, city, address: { ...stale.venue.address, city } };
      stale.indexedAt = new Date(Date.now() - 3_600_000).toISOString();
      await h.engine.upsert([stale]);
      await h.engine.refresh();
      expect((await search(h, { city })).total).toBe(3);

      let stop = false;
      let searches = 0;
      const failures: unknown[] = [];
      const load = (async () => {
        while (!stop) {
          try {
            const res = await search(h, { city, lat: 9.93, lon: 76.26 });
            if (!showtimeIds.every((id) => res.results.some((r) => r.showtimeId === id))) failures.push(res.total);
            searches++;
          } catch (err) {
            failures.push(err);
          }
        }
      })();
      const rebuilt = await h.client.reindexAll({}, h.service);
      stop = true;
      await load;
      expect(failures).toEqual([]);
      expect(searches).toBeGreaterThan(0);
      expect(rebuilt.removed).toBeGreaterThanOrEqual(1);
      expect(rebuilt.indexed).toBeGreaterThanOrEqual(2);
      await h.engine.refresh();
      const after = (await search(h, { city })).results;
      expect(after.map((r) => r.showtimeId).sort()).toEqual([...showtimeIds].sort());
      // the rebuilt documents carry the catalog's prices (the fixtures' 10 USD)
      expect(after.map((r) => [r.priceFrom, r.currency])).toEqual([[10, "USD"], [10, "USD"]]);
      // activities keep working on the new index
      const third = await f.showtime(eventId, place, 3);
      await indexed(third);
      expect((await search(h, { city })).total).toBe(3);
    });
  });

  describe("an index made by the version before prices", () => {
    const query = (city: string) => parseSearchRequest(create(SearchShowsRequestSchema, { city }), new Date());
    const priceless = (city: string, seed: number): DocumentWrite => {
      const { priceFrom: _priceFrom, currency: _currency, ...doc } = syntheticDocuments({ count: 1, seed, center: { lat: 51.5, lon: -0.12 }, spanDeg: 0.01, now: new Date(), pastDays: 0, futureDays: 3 })[0];
      return { ...doc, showtimeId: randomUUID(), venue: { ...doc.venue, city, address: { ...doc.venue.address, city } } };
    };
    const pricesOf = async (engine: SearchEngine, city: string) =>
      Object.fromEntries((await engine.search(query(city))).documents.map((d) => [d.showtimeId, [d.priceFrom, d.currency]]));

    it("upgrades in place (migration 0006 / mapping update): old documents unknown until re-indexed, prices stored queryably", async () => {
      const old = await openPrePricesIndex(engineName, engineUrl(engineName));
      try {
        const city = unique("London");
        const legacy = priceless(city, 1);
        await old.previous.upsert([legacy]);
        const engine = await old.upgrade();
        const fresh: DocumentWrite = { ...priceless(city, 2), priceFrom: 15, currency: "GBP" };
        await engine.upsert([fresh]);
        await engine.refresh();
        expect(await pricesOf(engine, city)).toEqual({ [legacy.showtimeId]: [undefined, undefined], [fresh.showtimeId]: [15, "GBP"] });
        expect(await old.pricedIds(0, 1000, "GBP")).toEqual([fresh.showtimeId]);
        // the old showtime's next re-index (catalog data read later) stores its price
        await engine.upsert([{ ...legacy, priceFrom: 7.5, currency: "GBP", indexedAt: new Date(Date.parse(legacy.indexedAt) + 1_000).toISOString() }]);
        await engine.refresh();
        expect((await pricesOf(engine, city))[legacy.showtimeId]).toEqual([7.5, "GBP"]);
        expect(await old.pricedIds(0, 10, "GBP")).toEqual([legacy.showtimeId]);
        expect((await old.pricedIds(0, 1000, "GBP")).sort()).toEqual([legacy.showtimeId, fresh.showtimeId].sort());
      } finally {
        await old.close();
      }
    });

    it("takes this version's priced documents when an older version rebuilt it after this one started", async () => {
      const old = await openPrePricesIndex(engineName, engineUrl(engineName));
      try {
        const city = unique("Leeds");
        const doc: DocumentWrite = { ...priceless(city, 3), priceFrom: 12, currency: "GBP" };
        // Postgres: no write names the price columns; engines: the strict mapping refuses the
        // new fields at first, the engine adds them and writes again
        await old.previous.upsert([doc]);
        await old.previous.refresh();
        expect(await pricesOf(old.previous, city)).toEqual({ [doc.showtimeId]: [12, "GBP"] });
        // this version's next start: the price is stored queryably
        await old.upgrade();
        expect(await old.pricedIds(10, 20, "GBP")).toEqual([doc.showtimeId]);
      } finally {
        await old.close();
      }
    });
  });

  describe("when the index is down", () => {
    it("search answers 503 quickly with a clear message; indexing activities fail retryably", async () => {
      let dead: SearchEngine;
      let closeDead: () => Promise<void>;
      const port = await freePort();
      if (engineName === "postgres") {
        const quiet = () => undefined;
        const db = knexFactory({
          client: "pg",
          connection: `postgres://postgres:postgres@127.0.0.1:${port}/none`,
          pool: { min: 0, max: 2 },
          log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
        });
        const pg = new PostgresEngine({ db, logger: silentLogger() });
        (pg as unknown as { ext: object }).ext = { cube: "public", earthdistance: "public", pg_trgm: "public" };
        dead = pg;
        closeDead = () => db.destroy();
      } else {
        dead = new ElasticsearchEngine({ client: createElasticsearchClient({ engine: engineName, url: `http://127.0.0.1:${port}` }), alias: "showtimes", logger: silentLogger() });
        closeDead = () => dead.close();
      }
      const credential = serviceCredential(TEST_SERVICE_SECRET, "search");
      const server = await build({
        engine: dead,
        catalog: createServiceClient(CatalogService, h.catalog.url, credential),
        booking: null,
        verifier: h.catalog.auth.verifier,
        logger: silentLogger(),
        host: "127.0.0.1",
        port: 0,
      });
      try {
        const client = createClient(SearchService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "1.1" }));
        const started = Date.now();
        const err = await errorOf(client.searchShows({ lat: 1, lon: 1 }));
        expect(Date.now() - started).toBeLessThan(3_500);
        expect(err.code).toBe(Code.Unavailable);
        expect(err.rawMessage).toMatch(/search is temporarily unavailable/);
        // 400s are still 400s
        expect((await errorOf(client.searchShows({ lat: 1 }))).code).toBe(Code.InvalidArgument);

        // an indexing activity throws a plain (retryable) error: Temporal retries until the index is back
        const place = await f.venue(unique("Retry Hall"), unique("Retry City"), { lat: 1, lon: 1 });
        const showtimeId = await f.showtime(await f.event(unique("Retry")), place, 1);
        const activities = createSearchActivities(new Indexer({ engine: dead, catalog: createServiceClient(CatalogService, h.catalog.url, credential), booking: null, logger: silentLogger() }), silentLogger());
        const failure = await activities.indexShowtime({ showtimeId }).catch((e: unknown) => e);
        expect(failure).toBeTruthy();
        expect(failure instanceof ApplicationFailure).toBe(false);
      } finally {
        await server.close();
        await closeDead();
      }
    });
  });
});

/**
 * Correctness against a brute-force oracle: 2,000 showtimes over a region, 1,000 random queries
 * (centre, radius, date range, sometimes category or city), every page read. Each engine must
 * return exactly the showtimes the oracle finds within the radius (haversine) and the date range:
 * 100% recall over all pages and nothing outside. Showtimes within 1 m of the radius are
 * tolerated either way (floating point and the engines' coordinate encoding) and counted.
 */
describe.each(ENGINES)("oracle on %s", (engineName) => {
  const NOW = new Date("2030-06-01T12:00:00Z");
  const CENTER = { lat: 17.4, lon: 78.45 };
  const docs = syntheticDocuments({ count: 2_000, seed: 42, center: CENTER, spanDeg: 0.6, now: NOW, pastDays: 10, futureDays: 60 });
  let opened: { engine: SearchEngine; close(): Promise<void> };
  let server: Awaited<ReturnType<typeof build>>;
  let client: ReturnType<typeof createClient<typeof SearchService>>;

  beforeAll(async () => {
    opened = await openTestEngine(engineName, engineUrl(engineName));
    for (let i = 0; i < docs.length; i += 500) await opened.engine.upsert(docs.slice(i, i + 500));
    await opened.engine.refresh();
    const credential = serviceCredential(TEST_SERVICE_SECRET, "search");
    server = await build({
      engine: opened.engine,
      catalog: createServiceClient(CatalogService, "http://127.0.0.1:1", credential),
      booking: null,
      verifier: (await testAuth()).verifier,
      logger: silentLogger(),
      host: "127.0.0.1",
      port: 0,
      now: () => NOW,
    });
    client = createClient(SearchService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "2" }));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await opened?.close();
  });

  it("1,000 random queries: every showtime in the radius and date range, over all pages, and none outside", async () => {
    const rand = prng(7);
    let queries = 0;
    let expectedTotal = 0;
    let borderline = 0;
    let pages = 0;
    for (let i = 0; i < 1_000; i++) {
      const centre = { lat: CENTER.lat + (rand() * 2 - 1) * 0.7, lon: CENTER.lon + (rand() * 2 - 1) * 0.7 };
      const radiusKm = [0.5, 2, 5, 10, 25, 40][Math.floor(rand() * 6)] * (0.5 + rand());
      const distance = rand() < 0.5 ? `${radiusKm.toFixed(3)}km` : `${Math.round(radiusKm * 1000)}m`;
      const radiusM = distance.endsWith("km") ? Number(distance.slice(0, -2)) * 1000 : Number(distance.slice(0, -1));
      const req: SearchRequest = { lat: centre.lat, lon: centre.lon, distance, pageSize: 100 };
      const r = rand();
      if (r < 0.25) {
        // no startDate: from now on
      } else if (r < 0.5) {
        req.startDate = new Date(NOW.getTime() + (rand() * 70 - 10) * 86_400_000).toISOString().slice(0, 10);
      } else if (r < 0.75) {
        const a = NOW.getTime() + (rand() * 70 - 10) * 86_400_000;
        req.startDate = new Date(a).toISOString().replace(/\.\d+Z$/, "Z");
        req.endDate = new Date(a + rand() * 20 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
      } else {
        req.endDate = new Date(NOW.getTime() + rand() * 30 * 86_400_000).toISOString().slice(0, 10);
      }
      if (rand() < 0.15) req.category = CATEGORIES[Math.floor(rand() * CATEGORIES.length)].toLowerCase();
      if (rand() < 0.1) req.city = CITIES[Math.floor(rand() * CITIES.length)];

      const from = req.startDate ? parseDateBound("startDate", req.startDate, "start").getTime() : NOW.getTime();
      const to = req.endDate ? parseDateBound("endDate", req.endDate, "end").getTime() : Infinity;
      const must = new Set<string>();
      const may = new Set<string>();
      for (const d of docs) {
        const t = new Date(d.showtime).getTime();
        if (t < from || t > to || !d.venue.location) continue;
        if (req.category && d.event.category.toLowerCase() !== req.category.toLowerCase()) continue;
        if (req.city && d.venue.city !== req.city) continue;
        const dm = distanceMeters(centre, d.venue.location);
        if (dm <= radiusM - 1) must.add(d.showtimeId);
        else if (dm <= radiusM + 1) may.add(d.showtimeId);
      }
      const got: string[] = [];
      let total: number;
      let lastDistance = -1;
      for (let page = 1; ; page++) {
        const res = await client.searchShows({ ...req, page });
        pages++;
        total = res.total;
        for (const x of res.results) {
          got.push(x.showtimeId);
          // ordered by distance
          expect(x.distanceKm! + 1e-6).toBeGreaterThanOrEqual(lastDistance);
          lastDistance = x.distanceKm!;
        }
        if (res.results.length < 100) break;
      }
      queries++;
      const gotSet = new Set(got);
      expect(gotSet.size).toBe(got.length); // no duplicates across pages
      const missing = [...must].filter((id) => !gotSet.has(id));
      const extra = got.filter((id) => !must.has(id) && !may.has(id));
      if (missing.length || extra.length) {
        throw new Error(`query ${i} ${JSON.stringify(req)}: ${missing.length} missing, ${extra.length} outside (${extra.slice(0, 3).join()})`);
      }
      expect(total).toBe(got.length);
      borderline += [...may].length;
      expectedTotal += must.size;
    }
    process.stdout.write(
      `oracle ${engineName}: ${queries} queries, ${pages} pages, ${expectedTotal} expected hits, all found; none outside; ${borderline} within 1 m of the radius\n`,
    );
    expect(expectedTotal).toBeGreaterThan(10_000);
  }, 300_000);
});
