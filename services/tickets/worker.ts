import { startActivityWorker, type ActivityWorker } from "../../lib/activity-worker.js";
import type { Logger } from "../../lib/logger.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";
import type { TicketActivities } from "../../workflows/ticket-types.js";

/**
 * `tickets-activities`, or `tickets-activities-<suffix>` (a leading dash in the suffix is
 * optional): the queue workflows on `booking-workflows-<suffix>` or `ticketing-workflows-<suffix>`
 * send the tickets activities to (workflows/task-queues.ts activityQueue). Production uses none;
 * tests use their own.
 */
export function ticketsTaskQueue(suffix = ""): string {
  const s = suffix.replace(/^-+/, "");
  return s ? `${TASK_QUEUES.tickets}-${s}` : TASK_QUEUES.tickets;
}

/**
 * Runs the tickets activities' Temporal worker (lib/activity-worker.ts: it connects in the
 * background and reconnects with backoff, so scanners check tickets in while Temporal is down).
 */
export function startTicketsWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: TicketActivities;
  logger: Logger;
}): ActivityWorker {
  return startActivityWorker({ name: "tickets", ...opts });
}
