import { NativeConnection, Worker } from "@temporalio/worker";
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
 * Runs the payments activities on their task queue. Like the service's Temporal client, it does
 * not need Temporal at start-up: it connects in the background, retrying with backoff, and
 * reconnects if the worker stops on an error; close() shuts it down gracefully.
 */
export function startPaymentsWorker(opts: PaymentsWorkerOptions): RunningPaymentsWorker {
  let stopping = false;
  let current: { worker: Worker; connection: NativeConnection } | undefined;
  let wake: (() => void) | undefined;
  let markRunning: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (markRunning = resolve));
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const loop = (async () => {
    let delay = opts.retryMs ?? 1_000;
    while (!stopping) {
      let connection: NativeConnection | undefined;
      try {
        connection = await NativeConnection.connect({ address: opts.address });
        const worker = await Worker.create({
          connection,
          namespace: opts.namespace,
          taskQueue: opts.taskQueue,
          activities: opts.activities,
        });
        if (stopping) return;
        current = { worker, connection };
        const run = worker.run();
        await waitRunning(worker);
        if (stopping && worker.getState() === "RUNNING") worker.shutdown(); // close() came meanwhile
        if (worker.getState() === "RUNNING") {
          opts.logger.info({ taskQueue: opts.taskQueue }, "payments activity worker running");
          markRunning();
        }
        delay = opts.retryMs ?? 1_000;
        await run;
        current = undefined;
        if (!stopping) opts.logger.warn("payments activity worker stopped; restarting");
      } catch (err) {
        current = undefined;
        if (stopping) break;
        opts.logger.warn({ err: (err as Error).message, retryInMs: delay }, "payments activity worker cannot run yet (Temporal unreachable?)");
      } finally {
        await connection?.close().catch(() => undefined);
      }
      if (!stopping) {
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  })();

  return {
    running,
    async close() {
      stopping = true;
      wake?.();
      if (current && current.worker.getState() === "RUNNING") current.worker.shutdown();
      await loop;
    },
  };
}

async function waitRunning(worker: Worker): Promise<void> {
  while (worker.getState() === "INITIALIZED") await new Promise((r) => setTimeout(r, 20));
}
