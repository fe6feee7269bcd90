import { startActivityWorker } from "../../lib/activity-worker.js";
import type { Logger } from "../../lib/logger.js";
import type { PaymentActivities } from "../../workflows/booking-types.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";

/**
 * The payments activity queue: `payments-activities`, or `payments-activities-<suffix>` for a
 * test suite whose workflows run on `ticketing-workflows-<suffix>` (see activityQueue).
 */
export function paymentsTaskQueue(suffix = ""): string {
  const s = suffix.replace(/^-+/, "");
  return s ? `${TASK_QUEUES.payments}-${s}` : TASK_QUEUES.payments;
}

export interface PaymentsWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: PaymentActivities;
  logger: Logger;
  /** First delay between connection attempts while Temporal is down; doubles up to 30 s. */
  retryMs?: number;
}

export interface RunningPaymentsWorker {
  /** Resolves once the worker polls its task queue (tests wait for it). */
  readonly running: Promise<void>;
  /** Stops polling, lets running activities finish, closes the connection. */
  close(): Promise<void>;
}

/**
 * Runs the payments activities on their task queue (lib/activity-worker.ts). Like the service's
 * Temporal client, it does not need Temporal at start-up: it connects in the background,
 * retrying with backoff, and reconnects if the worker stops on an error.
 */
export function startPaymentsWorker(opts: PaymentsWorkerOptions): RunningPaymentsWorker {
  const worker = startActivityWorker({ name: "payments", ...opts, retryMs: opts.retryMs ?? 1_000 });
  return { running: worker.ready, close: () => worker.close() };
}
