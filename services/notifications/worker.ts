import { startActivityWorker as startSharedWorker } from "../../lib/activity-worker.js";
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

/**
 * Runs the notifications activities' Temporal worker (lib/activity-worker.ts: it connects in the
 * background and reconnects with backoff, so the service serves its message log while Temporal
 * is down).
 */
export function startActivityWorker(opts: ActivityWorkerOptions): ActivityWorker {
  return startSharedWorker({ name: "notifications", ...opts });
}
