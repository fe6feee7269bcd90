import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from "@temporalio/client";
import type { WorkflowBundle } from "@temporalio/worker";
import { startActivityWorker as startSharedWorker, type ActivityWorker } from "../../lib/activity-worker.js";
import type { Logger } from "../../lib/logger.js";
import type { BookingActivities } from "../../workflows/booking-types.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";

/** The schedule that runs the hold reaper, and the workflow it starts (workflows/hold-reaper.ts). */
export const REAPER_SCHEDULE_ID = "booking-hold-reaper";
export const REAPER_WORKFLOW = "holdReaperWorkflow";

/**
 * The queues (and reaper schedule id) of a booking service with a task-queue suffix: its
 * activities on `booking-activities-<suffix>`, the booking workflows it runs itself on
 * `booking-workflows-<suffix>`, the shared workflows (reaper, catalog events) on
 * `ticketing-workflows-<suffix>` (workflows/task-queues.ts `activityQueue` pairs them). No suffix:
 * the production names.
 */
export function bookingQueues(suffix = "") {
  const s = suffix.replace(/^-+/, "");
  const tail = s ? `-${s}` : "";
  return {
    activities: TASK_QUEUES.booking + tail,
    bookingWorkflows: TASK_QUEUES.bookingWorkflows + tail,
    workflows: TASK_QUEUES.workflows + tail,
    reaperScheduleId: REAPER_SCHEDULE_ID + tail,
  };
}

/** The booking workflow's code, which the booking service's own worker bundles and runs. */
export const BOOKING_WORKFLOW_CODE = require.resolve("../../workflows/booking");

/**
 * Runs the booking workflow in this service (docs/adr/0005-booking-workflow-in-the-booking-service.md):
 * a worker on `booking-workflows` whose workflows call the booking activities locally, in this
 * process, and whose client (`client()`) starts workflows eagerly. Connects in the background like
 * the activity worker. `bundle`: workflow code bundled before (tests); default: bundled at start.
 */
export function startBookingWorkflowWorker(opts: ActivityWorkerOptions & { bundle?: WorkflowBundle }): ActivityWorker {
  const { bundle, ...rest } = opts;
  return startSharedWorker({
    name: "booking workflow",
    ...rest,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.bookingWorkflows,
    workflows: bundle ? { workflowBundle: bundle } : { workflowsPath: BOOKING_WORKFLOW_CODE },
  });
}

export interface ActivityWorkerOptions {
  address: string;
  namespace: string;
  /** Default TASK_QUEUES.booking (tests use a suffixed queue). */
  taskQueue?: string;
  activities: BookingActivities;
  logger: Logger;
}

export interface Background {
  /** Resolves once the first attempt succeeded (tests wait for it); never rejects. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number, stop: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    stop.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/**
 * Runs the booking activities' Temporal worker on the booking task queue (lib/activity-worker.ts:
 * it connects in the background and reconnects with backoff, so the service serves reads and
 * takes holds while Temporal is down; their workflows start when it is back).
 */
export function startActivityWorker(opts: ActivityWorkerOptions): Background {
  return startSharedWorker({ name: "booking", ...opts, taskQueue: opts.taskQueue ?? TASK_QUEUES.booking });
}

/**
 * Creates the `booking-hold-reaper` schedule (every minute, `holdReaperWorkflow` on the workflows'
 * queue, overlapping runs skipped) unless it exists; retries in the background while Temporal is
 * down. An existing schedule is left as it is (change it with `temporal schedule update`).
 */
export function ensureReaperSchedule(
  client: Client,
  opts: { logger: Logger; scheduleId?: string; taskQueue?: string; every?: string },
): Background {
  const scheduleId = opts.scheduleId ?? REAPER_SCHEDULE_ID;
  const stop = new AbortController();
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const loop = async () => {
    let delay = 1_000;
    while (!stop.signal.aborted) {
      try {
        // a deadline per attempt, and close() cuts an attempt short
        await client.withAbortSignal(AbortSignal.any([stop.signal, AbortSignal.timeout(10_000)]), () =>
          client.schedule.create({
            scheduleId,
            spec: { intervals: [{ every: opts.every ?? "1 minute" }] },
            action: {
              type: "startWorkflow",
              workflowType: REAPER_WORKFLOW,
              taskQueue: opts.taskQueue ?? TASK_QUEUES.workflows,
              workflowId: scheduleId,
              workflowRunTimeout: "5 minutes",
            },
            policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: "1 minute" },
          }),
        );
        opts.logger.info({ scheduleId }, "hold reaper schedule created");
        break;
      } catch (err) {
        if (err instanceof ScheduleAlreadyRunning || stop.signal.aborted) break;
        opts.logger.warn({ err, scheduleId }, "cannot create the hold reaper schedule yet; retrying");
        await sleep(delay, stop.signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    markReady();
  };
  const done = loop();
  return {
    ready,
    async close() {
      stop.abort();
      // an attempt in flight on a connection that is still being made may not stop at once
      await Promise.race([done, sleep(1_000, new AbortController().signal)]);
    },
  };
}
