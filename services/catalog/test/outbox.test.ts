import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { defaultPayloadConverter } from "@temporalio/common";
import type { Client as TemporalClient } from "@temporalio/client";
import { DefaultLogger, Runtime } from "@temporalio/worker";
import { silentLogger } from "../../../lib/logger.js";
import { freePort } from "../../../test/support/ports.js";
import { createWorkflowWorker } from "../../../workflows/worker.js";
import { activityQueue, TASK_QUEUES } from "../../../workflows/task-queues.js";
import { createCatalogRelay } from "../outbox.js";
import { deadTemporal, hoursFromNow, SEEDS_LAYOUT, startCatalog, testTemporal, waitFor, type CatalogHarness } from "./harness.js";

/**
 * The transactional outbox against the real Temporal dev server, with a real workflow worker:
 * a committed change becomes exactly one workflow `<EventType>-<eventId>`, and events written
 * while Temporal is unreachable wait in the outbox and drain in order once it is back.
 */

let temporal: { client: TemporalClient; close(): Promise<void> };
// this suite's own queues (see activityQueue): other suites share the Temporal server
const QUEUE = `${TASK_QUEUES.workflows}-catalog-outbox-${randomUUID().slice(0, 8)}`;
let worker: Awaited<ReturnType<typeof createWorkflowWorker>>;
let workerRun: Promise<void>;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") }); // the worker's INFO lines are noise here
  } catch {
    // already installed in this process by another suite
  }
  temporal = await testTemporal();
  worker = await createWorkflowWorker({ address: process.env.TEST_TEMPORAL_ADDRESS!, namespace: "default", taskQueue: QUEUE });
  workerRun = worker.worker.run();
}, 60_000);

afterAll(async () => {
  worker?.worker.shutdown();
  await workerRun;
  await worker?.connection.close();
  await temporal?.close();
});

const prices = [
  { seatType: "premium", amount: 45 },
  { seatType: "standard", amount: 25 },
];

async function fixtures(h: CatalogHarness) {
  const venueId = (await h.client.createVenue({ name: `V ${randomUUID()}`, address: { city: "Hyderabad" } }, h.admin)).venue!.venueId;
  const hallId = (await h.client.createHall({ venueId, hallName: "H", seatLayout: SEEDS_LAYOUT }, h.admin)).hall!.hallId;
  const eventId = (await h.client.createEvent({ name: "E", durationMinutes: 60 }, h.admin)).event!.eventId;
  return { venueId, hallId, eventId };
}

interface OutboxRow {
  seq: string;
  event_id: string;
  event_type: string;
  aggregate_id: string;
  published_at: Date | null;
  attempts: number;
}

const outboxRows = (h: CatalogHarness, where: Record<string, unknown>): Promise<OutboxRow[]> =>
  h.db("outbox").where(where).orderBy("seq").select("seq", "event_id", "event_type", "aggregate_id", "published_at", "attempts");

async function startedWith(workflowId: string): Promise<unknown> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return input ? defaultPayloadConverter.fromPayload(input) : undefined;
}

describe("outbox → Temporal", () => {
  let h: CatalogHarness;
  beforeAll(async () => {
    h = await startCatalog({ temporal: temporal.client, relay: { pollMs: 50, taskQueue: QUEUE } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("creating a showtime runs showtimeCreatedWorkflow `ShowtimeCreated-<eventId>` with the showtime's ids", async () => {
    const { venueId, hallId, eventId } = await fixtures(h);
    const at = hoursFromNow(24);
    const st = (
      await h.client.createShowtime({ eventId, venueId, hallId, timestamp: timestampFromDate(at), currency: "USD", prices }, h.admin)
    ).showtime!;
    const [row] = await waitFor("the event to be relayed", async () => {
      const rows = await outboxRows(h, { event_type: "ShowtimeCreated", aggregate_id: st.showtimeId });
      return rows.length === 1 && rows[0].published_at ? rows : undefined;
    });
    const workflowId = `ShowtimeCreated-${row.event_id}`;
    const handle = temporal.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe("showtimeCreatedWorkflow");
    expect(description.taskQueue).toBe(QUEUE);
    // the workflow asks the booking service (its queue with this suite's suffix) to initialise
    // the inventory; no booking worker runs here, so it waits for one
    const scheduled = await waitFor("initializeInventory to be scheduled", async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      return events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes ?? undefined;
    });
    expect(scheduled.activityType?.name).toBe("initializeInventory");
    expect(scheduled.taskQueue?.name).toBe(activityQueue("booking", QUEUE));
    await handle.terminate("test done");
    expect(await startedWith(workflowId)).toEqual({
      eventId: row.event_id,
      showtimeId: st.showtimeId,
      catalogEventId: eventId,
      venueId,
      hallId,
      startsAt: at.toISOString(),
    });
  });

  it("PATCH event and PATCH venue run eventUpdatedWorkflow and venueUpdatedWorkflow", async () => {
    const { venueId, eventId } = await fixtures(h);
    await h.client.updateEvent({ eventId, name: "Renamed" }, h.admin);
    await h.client.updateVenue({ venueId, address: { zip: "500081" } }, h.admin);
    const rows = await waitFor("both events to be relayed", async () => {
      const r = [...(await outboxRows(h, { aggregate_id: eventId })), ...(await outboxRows(h, { aggregate_id: venueId }))];
      return r.length === 2 && r.every((x) => x.published_at) ? r : undefined;
    });
    for (const row of rows) {
      const handle = temporal.client.workflow.getHandle(`${row.event_type}-${row.event_id}`);
      const d = await handle.describe();
      expect(d.type).toBe(row.event_type === "EventUpdated" ? "eventUpdatedWorkflow" : "venueUpdatedWorkflow");
      // each asks the search service (this suite's suffixed queue; no search worker here) to re-index
      const scheduled = await waitFor("the re-index to be scheduled", async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        return events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes ?? undefined;
      });
      expect(scheduled.activityType?.name).toBe(row.event_type === "EventUpdated" ? "reindexEvent" : "reindexVenue");
      expect(scheduled.taskQueue?.name).toBe(activityQueue("search", QUEUE));
      await handle.terminate("test done");
    }
    const byType = Object.fromEntries(rows.map((r) => [r.event_type, r]));
    expect(await startedWith(`EventUpdated-${byType.EventUpdated.event_id}`)).toEqual({
      eventId: byType.EventUpdated.event_id,
      catalogEventId: eventId,
    });
    expect(await startedWith(`VenueUpdated-${byType.VenueUpdated.event_id}`)).toEqual({
      eventId: byType.VenueUpdated.event_id,
      venueId,
    });
  });
});

describe("a Temporal outage", () => {
  it("keeps events in the outbox while Temporal is unreachable; a relay pointed at a live server drains them in order", async () => {
    const dead = deadTemporal(await freePort());
    const h = await startCatalog({ temporal: dead.client, relay: { pollMs: 50, taskQueue: QUEUE } });
    try {
      const { venueId, hallId, eventId } = await fixtures(h);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const st = await h.client.createShowtime(
          { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(10 + i * 2)), currency: "USD", prices },
          h.admin,
        );
        ids.push(st.showtime!.showtimeId); // writes keep working during the outage
      }
      // the relay tried (and keeps trying) the oldest event; nothing is published
      await waitFor("the relay to retry", async () => {
        const rows = await outboxRows(h, { event_type: "ShowtimeCreated" });
        return rows.length === 5 && rows[0].attempts >= 2;
      });
      const waiting = await outboxRows(h, { event_type: "ShowtimeCreated" });
      expect(waiting.every((r) => r.published_at === null)).toBe(true);
      expect(waiting.map((r) => r.aggregate_id)).toEqual(ids);
      expect(waiting.slice(1).every((r) => r.attempts === 0)).toBe(true); // none overtook the first
      await h.stop(); // the service (and its relay) go away; the rows stay

      const relay = createCatalogRelay({ db: h.db, temporal: temporal.client, logger: silentLogger(), pollMs: 50, taskQueue: QUEUE });
      relay.start();
      try {
        const drained = await waitFor("the outbox to drain", async () => {
          const rows = await outboxRows(h, { event_type: "ShowtimeCreated" });
          return rows.every((r) => r.published_at) ? rows : undefined;
        });
        const starts: number[] = [];
        for (const row of drained) {
          const d = await temporal.client.workflow.getHandle(`ShowtimeCreated-${row.event_id}`).describe();
          expect(d.type).toBe("showtimeCreatedWorkflow");
          starts.push(d.startTime.getTime());
        }
        // started in commit (seq) order
        expect(starts).toEqual([...starts].sort((a, b) => a - b));
        expect(drained.map((r) => Number(r.seq))).toEqual([...drained.map((r) => Number(r.seq))].sort((a, b) => a - b));
      } finally {
        await relay.stop();
      }
    } finally {
      await h.close();
      await dead.close();
    }
  }, 60_000);
});
