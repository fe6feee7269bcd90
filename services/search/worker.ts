import { startActivityWorker } from "../../lib/activity-worker.js";
import type { Logger } from "../../lib/logger.js";
import type { SearchActivities } from "../../workflows/search-types.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";

export interface SearchWorkerOptions {
  address: string;
  namespace: string;
  /** Default `search-activities`; tests use a suffixed queue (see activityQueue). */
  taskQueue?: string;
  activities: SearchActivities;
  logger: Logger;
  /** First pause before reconnecting after Temporal was unreachable or the worker failed (then doubling, up to 30 s). */
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
 * queue (lib/activity-worker.ts). Temporal being down does not stop the service: the worker
 * connects in the background and reconnects after failures, while searches keep being answered.
 */
export function startSearchWorker(opts: SearchWorkerOptions): SearchWorker {
  return startActivityWorker({
    name: "search",
    ...opts,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.search,
    retryMs: opts.retryMs ?? 5_000,
    // searches matter more than indexing on a small machine
    tuning: { maxConcurrentActivityTaskExecutions: 8 },
  });
}
