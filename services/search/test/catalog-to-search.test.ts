import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client as TemporalClient } from "@temporalio/client";
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from "@temporalio/worker";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { SearchService } from "../../../gen/ticketing/search/v1/search_pb.js";
import { silentLogger } from "../../../lib/logger.js";
import { workflowIdFor } from "../../../lib/outbox.js";
import { startOpenSearch, type RunningEngine } from "../../../test/support/opensearch.js";
import { activityQueue, TASK_QUEUES } from "../../../workflows/task-queues.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { gridLayout, testTemporal } from "../../catalog/test/harness.js";
import type { EngineName } from "../engine.js";
import { startSearch, type SearchHarness } from "./harness.js";

/**
 * Issue #6's acceptance: a showtime created through the catalog API is findable within 5 s, on
 * the Postgres engine and on OpenSearch 2.19. Nothing is shortcut: the admin creates the
 * venue, hall, event and showtime over REST through the real gateway; the catalog's outbox relay
 * (its production poll interval) starts showtimeCreatedWorkflow on the run's Temporal dev server;
 * the real workflow code (workflows/, on a workflow worker of this suite's queue) calls
 * search.indexShowtime on the search service's own activity worker, which reads the showtime from
 * the catalog over gRPC and writes the index with its production settings (no test refresh);
 * the search API is polled over REST through the gateway until the showtime is in the results.
 *
 * No booking worker runs: the workflow's other activity (booking.initializeInventory) stays
 * queued and the workflows are terminated at the end. Booking's one read (seat counts) is the
 * harness's stub, as in search.test.ts.
 */

const ENGINES: EngineName[] = ["postgres", "opensearch"];
/** The acceptance bound. */
const BOUND_MS = 5_000;
/** How long to keep polling, so that a miss reports the time it actually took. */
const POLL_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
/** Showtimes created (and timed) one after another per engine. */
const SAMPLES = 3;

const RUN = randomUUID().slice(0, 8);
let opensearch: RunningEngine;
let temporal: { client: TemporalClient; close(): Promise<void> };
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") });
  } catch {
    // installed by another suite in this process
  }
  // one bundle of workflows/ for both engines' workflow workers (bundling is the slow part)
  [opensearch, temporal, bundle] = await Promise.all([
    startOpenSearch(),
    testTemporal(),
    bundleWorkflowCode({ workflowsPath: require.resolve("../../../workflows/index"), logger: new DefaultLogger("WARN") }),
  ]);
}, 600_000);

afterAll(async () => {
  await temporal?.close();
  await opensearch?.stop();
});

interface Timing {
  /** From sending CreateShowtime to the first search that returned the showtime. */
  findableMs: number;
  createMs: number;
  /** Where the time went, from the workflow's history (ms after sending CreateShowtime). */
  workflowStartedMs?: number;
  indexActivityStartedMs?: number;
  indexActivityCompletedMs?: number;
}

describe.each(ENGINES)("catalog → outbox → Temporal → search on %s", (engineName) => {
  const workflowQueue = `${TASK_QUEUES.workflows}-c2s-${RUN}-${engineName}`;
  let h: SearchHarness;
  let gateway: RunningGateway;
  let base: string;
  let adminToken: string;
  let workflowWorker: { worker: Worker; connection: NativeConnection; run: Promise<void> } | undefined;
  const workflowIds: string[] = [];

  beforeAll(async () => {
    h = await startSearch(engineName, {
      engineUrl: engineName === "postgres" ? undefined : opensearch.url,
      // the search service's activity worker, on the queue the workflow sends search activities to
      worker: { address: process.env.TEST_TEMPORAL_ADDRESS!, namespace: "default", taskQueue: activityQueue("search", workflowQueue) },
      // the catalog runs its outbox relay (default poll interval) into this suite's workflow queue
      catalog: { temporal: temporal.client, relay: { taskQueue: workflowQueue } },
    });
    const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const worker = await Worker.create({ connection, namespace: "default", taskQueue: workflowQueue, workflowBundle: bundle });
    workflowWorker = { worker, connection, run: worker.run() };
    gateway = await buildGateway({
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger(),
      upstreams: [
        { service: CatalogService, backend: "catalog" },
        { service: SearchService, backend: "search" },
      ],
      urls: { catalog: h.catalog.url, search: `http://127.0.0.1:${h.server.port}` },
      corsOrigins: [],
      maxBodyBytes: 1024 * 1024,
      upstreamTimeoutMs: 10_000,
      serviceCredential: () => h.catalog.auth.serviceToken("gateway"),
    });
    base = `http://127.0.0.1:${gateway.port}`;
    adminToken = await h.catalog.auth.adminToken();
    await h.server.worker!.ready;
  }, 180_000);

  afterAll(async () => {
    // the booking half of each workflow never runs here: end them rather than leave them open
    for (const id of workflowIds) {
      const handle = temporal.client.workflow.getHandle(id);
      if ((await handle.describe()).status.name === "RUNNING") await handle.terminate("test over (no booking worker in this suite)");
    }
    await gateway?.close();
    workflowWorker?.worker.shutdown();
    await workflowWorker?.run;
    await workflowWorker?.connection.close();
    await h?.close();
  });

  async function rest(method: string, path: string, body?: unknown) {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), authorization: `Bearer ${adminToken}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function created(method: string, path: string, body: unknown) {
    const res = await rest(method, path, body);
    if (res.status !== 201) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** The showtime's ShowtimeCreated workflow: what the relay started, when, and when indexShowtime ran. */
  async function pipelineTimes(showtimeId: string, t0: number): Promise<Partial<Timing>> {
    const row = await h.catalog.db("outbox").where({ event_type: "ShowtimeCreated", aggregate_id: showtimeId }).first("event_id");
    const workflowId = workflowIdFor("ShowtimeCreated", row.event_id);
    workflowIds.push(workflowId);
    const handle = temporal.client.workflow.getHandle(workflowId);
    const msOf = (ts: { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined) =>
      ts ? (typeof ts.seconds === "number" ? ts.seconds : (ts.seconds?.toNumber() ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6 - t0 : undefined;
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === "indexShowtime");
    const ofIndex = (e: (typeof events)[number]) =>
      scheduled != null &&
      String((e.activityTaskStartedEventAttributes ?? e.activityTaskCompletedEventAttributes)?.scheduledEventId) === String(scheduled.eventId);
    return {
      workflowStartedMs: msOf(events[0]?.eventTime),
      indexActivityStartedMs: msOf(events.find((e) => e.activityTaskStartedEventAttributes && ofIndex(e))?.eventTime),
      indexActivityCompletedMs: msOf(events.find((e) => e.activityTaskCompletedEventAttributes && ofIndex(e))?.eventTime),
    };
  }

  it("a NUL character in a search filter is a 400 naming the parameter, never a 500", async () => {
    for (const [query, field] of [["city=%00", "city"], ["category=a%00b", "category"], ["query=x%00", "query"]] as const) {
      const res = await rest("GET", `/api/v1/search/shows?${query}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "invalid_argument", message: `${field}: must not contain a NUL character` });
    }
  });

  it("A showtime created through the catalog API is findable within 5 s", async () => {
    const timings: Timing[] = [];
    for (let sample = 0; sample < SAMPLES; sample++) {
      const tag = randomUUID().slice(0, 8);
      const city = `Acceptance City ${tag}`;
      const location = { lat: [17.385, 17.395, 17.405][sample % 3], lon: 78.4867 };
      const venue = await created("POST", "/api/v1/venue", { name: `Acceptance Screens ${tag}`, address: { street: "1 Test Road", city, country: "IN" }, location });
      const hall = await created("POST", `/api/v1/venue/${venue.venueId}/hall`, { hallName: "Screen 1", seatLayout: gridLayout(3, 4) });
      const event = await created("POST", "/api/v1/events", { name: `Acceptance Premiere ${tag}`, category: "Movie", keywords: ["acceptance"], durationMinutes: 120 });
      const timestamp = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
      const searchPath = `/api/v1/search/shows?${new URLSearchParams({ city, lat: String(location.lat), lon: String(location.lon), distance: "5km" })}`;

      // nothing is found before the showtime exists
      const before = await rest("GET", searchPath);
      expect(before.status).toBe(200);
      expect(before.body.results ?? []).toEqual([]);

      const t0 = Date.now();
      const showtime = await created("POST", `/api/v1/events/${event.eventId}/showtimes`, {
        venueId: venue.venueId,
        hallId: hall.hallId,
        timestamp,
        currency: "INR",
        prices: [{ seatType: "standard", amount: 250 }],
      });
      const createMs = Date.now() - t0;
      let found: Record<string, unknown> | undefined;
      let lastStatus = 0;
      while (!found && Date.now() - t0 < POLL_TIMEOUT_MS) {
        const res = await rest("GET", searchPath);
        lastStatus = res.status;
        found = res.status === 200 ? (res.body.results ?? []).find((r: { showtimeId: string }) => r.showtimeId === showtime.showtimeId) : undefined;
        if (!found) await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
      }
      const findableMs = Date.now() - t0;
      if (!found) throw new Error(`showtime not findable ${findableMs} ms after creation (last search answered ${lastStatus})`);

      // the document is the catalog's showtime, denormalised with its event and venue
      expect(found).toMatchObject({
        showtimeId: showtime.showtimeId,
        showtime: timestamp,
        event: { eventId: event.eventId, name: event.name, category: "Movie", keywords: ["acceptance"] },
        venue: { venueId: venue.venueId, name: venue.name, city, location },
        availableSeats: 12,
        priceFrom: 250,
        currency: "INR",
      });
      timings.push({ findableMs, createMs, ...(await pipelineTimes(showtime.showtimeId, t0)) });
    }

    const fmt = (v?: number) => (v === undefined ? "?" : `${Math.round(v)}`);
    process.stdout.write(
      `catalog → search on ${engineName}, ms after sending CreateShowtime ` +
        `(created / workflow started / indexShowtime started / completed / findable):\n` +
        timings
          .map((t) => `  ${fmt(t.createMs)} / ${fmt(t.workflowStartedMs)} / ${fmt(t.indexActivityStartedMs)} / ${fmt(t.indexActivityCompletedMs)} / ${t.findableMs}\n`)
          .join(""),
    );
    for (const t of timings) expect(t.findableMs).toBeLessThan(BOUND_MS);
  }, 180_000);

  it("an event's new review rating reaches every showtime of the event in search (EventUpdated → reindex)", async () => {
    const tag = randomUUID().slice(0, 8);
    const city = `Rating City ${tag}`;
    const location = { lat: 17.45, lon: 78.49 };
    const venue = await created("POST", "/api/v1/venue", { name: `Rating Screens ${tag}`, address: { city, country: "IN" }, location });
    const hall = await created("POST", `/api/v1/venue/${venue.venueId}/hall`, { hallName: "Screen 1", seatLayout: gridLayout(2, 2) });
    const event = await created("POST", "/api/v1/events", { name: `Rated Premiere ${tag}`, category: "Movie", durationMinutes: 100 });
    for (const days of [2, 3]) {
      const timestamp = new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
      await created("POST", `/api/v1/events/${event.eventId}/showtimes`, {
        venueId: venue.venueId,
        hallId: hall.hallId,
        timestamp,
        currency: "INR",
        prices: [{ seatType: "standard", amount: 200 }],
      });
    }
    const searchPath = `/api/v1/search/shows?${new URLSearchParams({ city, lat: String(location.lat), lon: String(location.lon), distance: "5km" })}`;
    type Found = { event: { averageRating: number; reviewCount: number } };
    const results = async (): Promise<Found[]> => {
      const res = await rest("GET", searchPath);
      return res.status === 200 ? (res.body.results ?? []) : [];
    };
    const until = async (what: string, ok: (r: Found[]) => boolean) => {
      const deadline = Date.now() + POLL_TIMEOUT_MS;
      for (;;) {
        const r = await results();
        if (ok(r)) return r;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const indexed = await until("both showtimes", (r) => r.length === 2);
    for (const r of indexed) expect(r.event).toMatchObject({ averageRating: 0, reviewCount: 0 });

    // what the reviews service sends after each review
    const { applied } = await h.catalog.client.updateEventRating(
      { eventId: event.eventId, averageRating: 4.5, reviewCount: 2, computedAt: timestampFromDate(new Date()) },
      h.catalog.service,
    );
    expect(applied).toBe(true);
    await until("the rating on both showtimes", (r) => r.length === 2 && r.every((x) => x.event.averageRating === 4.5 && x.event.reviewCount === 2));
  }, 120_000);
});
