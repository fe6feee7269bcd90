import { NativeConnection, Worker } from "@temporalio/worker";
import type { Logger } from "../../lib/logger.js";
import type { NotificationActivities } from "../../workflows/notification-types.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";

/**
 * `notifications-activities`, or `notifications-activities-<suffix>` (a leading dash in the suffix
 * is optional): the queue workflows on `ticketing-workflows-<suffix>` send their activities to
 * (workflows/task-queues.ts activityQueue). Production uses none; tests use their own.
 */
export function notificationsTaskQueue(suffix = ""): string {
  const s = suffix.replace(/^-+/, "");
  return s ? `${TASK_QUEUES.notifications}-${s}` : TASK_QUEUES.notifications;
}

export interface ActivityWorkerOptions {
  address: string;
  namespace: string;
  /** TASK_QUEUES.notifications, plus the configured suffix (tests use their own). */
  taskQueue: string;
  activities: NotificationActivities;
  logger: Logger;
}

export interface ActivityWorker {
  /** Resolves once the worker polls (tests wait for it); never rejects. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number, stop: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    stop.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Runs the notifications activities' Temporal worker. It connects in the background and
 * reconnects with backoff, so the service starts and serves its message log while Temporal is
 * down. `close()` stops polling, lets running activities finish, then closes the connection.
 */
export function startActivityWorker(opts: ActivityWorkerOptions): ActivityWorker {
  const stop = new AbortController();
  let worker: Worker | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  const loop = async () => {
    let delay = 500;
    while (!stop.signal.aborted) {
      let connection: NativeConnection | undefined;
      try {
        connection = await NativeConnection.connect({ address: opts.address });
        if (stop.signal.aborted) break;
        worker = await Worker.create({
          connection,
          namespace: opts.namespace,
          taskQueue: opts.taskQueue,
          activities: opts.activities,
        });
        const running = worker.run();
        if (stop.signal.aborted) {
          worker.shutdown(); // close() came while we were creating it
        } else {
          opts.logger.info({ taskQueue: opts.taskQueue }, "notifications activity worker running");
          markReady();
          delay = 500;
        }
        await running; // returns after shutdown(); throws when the worker died
      } catch (err) {
        if (!stop.signal.aborted) opts.logger.warn({ err, taskQueue: opts.taskQueue }, "notifications activity worker is down; retrying");
      } finally {
        worker = undefined;
        await connection?.close().catch(() => undefined);
      }
      if (stop.signal.aborted) break;
      await sleep(delay, stop.signal);
      delay = Math.min(delay * 2, 30_000);
    }
  };
  const done = loop();

  return {
    ready,
    async close() {
      stop.abort();
      const w = worker;
      if (w && w.getState() === "RUNNING") w.shutdown();
      await done;
    },
  };
}
