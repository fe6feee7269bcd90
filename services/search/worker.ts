import { NativeConnection, Worker } from "@temporalio/worker";
import type { Logger } from "../../lib/logger.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";
import type { SearchActivities } from "./activity-types.js";

export interface SearchWorkerOptions {
  address: string;
  namespace: string;
  /** Default `search-activities`; tests use a suffixed queue (see activityQueue). */
  taskQueue?: string;
  activities: SearchActivities;
  logger: Logger;
  /** Pause before reconnecting after Temporal was unreachable or the worker failed. */
  retryMs?: number;
}

export interface SearchWorker {
  readonly taskQueue: string;
  /** Resolves once the worker polls its queue (the first time). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The Temporal worker of the search process: runs the indexer's activities on the search task
 * queue. Temporal being down does not stop the service: the worker connects in the background
 * and reconnects after failures, while searches keep being answered.
 */
export function startSearchWorker(opts: SearchWorkerOptions): SearchWorker {
  const taskQueue = opts.taskQueue ?? TASK_QUEUES.search;
  let stopped = false;
  let current: { worker: Worker; connection: NativeConnection; run: Promise<void> } | undefined;
  let wake: (() => void) | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const loop = (async () => {
    while (!stopped) {
      try {
        const connection = await NativeConnection.connect({ address: opts.address });
        try {
          const worker = await Worker.create({
            connection,
            namespace: opts.namespace,
            taskQueue,
            activities: opts.activities,
            // searches matter more than indexing on a small machine
            maxConcurrentActivityTaskExecutions: 8,
          });
          const run = worker.run();
          current = { worker, connection, run };
          if (stopped) worker.shutdown();
          opts.logger.info({ taskQueue }, "search activity worker running");
          markReady();
          await run;
        } finally {
          current = undefined;
          await connection.close().catch(() => undefined);
        }
      } catch (err) {
        if (stopped) break;
        opts.logger.warn({ err: (err as Error).message, taskQueue }, "search activity worker stopped; reconnecting");
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, opts.retryMs ?? 5_000).unref();
      });
    }
  })();

  return {
    taskQueue,
    ready,
    async close() {
      stopped = true;
      wake?.();
      const c = current;
      if (c && c.worker.getState() === "RUNNING") c.worker.shutdown();
      await loop;
    },
  };
}
