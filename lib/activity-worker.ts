import { Client } from "@temporalio/client";
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from "@temporalio/worker";
import type { Logger } from "./logger.js";

export interface ActivityWorkerOptions {
  /** Who runs it, for logs: "booking", "payments", … */
  name: string;
  address: string;
  namespace: string;
  taskQueue: string;
  activities: object;
  logger: Logger;
  /** First pause before reconnecting while Temporal is unreachable; doubles up to 30 s. Default 500 ms. */
  retryMs?: number;
  /** Further Temporal worker options (e.g. maxConcurrentActivityTaskExecutions). */
  tuning?: Pick<WorkerOptions, "maxConcurrentActivityTaskExecutions">;
  /**
   * Workflow code this worker runs too, on the same task queue: a workflow that calls this
   * service's activities as local activities (bundled once, the first time the worker starts).
   */
  workflows?: { workflowsPath: string } | { workflowBundle: WorkflowBundle };
}

export interface ActivityWorker {
  readonly taskQueue: string;
  /** Resolves once the worker polls its task queue (the first time); never rejects. */
  readonly ready: Promise<void>;
  /**
   * A Temporal client on this worker's own connection while the worker runs, else undefined: a
   * workflow started through it with `requestEagerStart` gets its first task from the start call
   * itself, in this process, without a round trip through the task queue.
   */
  client(): Client | undefined;
  /** Stops polling, lets running activities finish, closes the connection. */
  close(): Promise<void>;
}

const MAX_RETRY_MS = 30_000;
/** How long close() waits for a connection attempt still under way (Temporal down) to give up. */
const CLOSE_WHILE_CONNECTING_MS = 2_000;

/**
 * Runs a service's Temporal activity worker (and the workflows, if any, that call its activities
 * locally). It does not need Temporal at start-up: it connects
 * in the background, retrying with backoff, and reconnects when the worker stops on an error, so
 * the service starts and serves what it can while Temporal is down.
 */
export function startActivityWorker(opts: ActivityWorkerOptions): ActivityWorker {
  const { name, taskQueue, logger } = opts;
  const what = `${name} ${opts.workflows ? "worker" : "activity worker"}`;
  const firstRetryMs = opts.retryMs ?? 500;
  const stop = new AbortController();
  let worker: Worker | undefined;
  let client: Client | undefined;
  let bundle: WorkflowBundle | undefined;
  const workflowCode = async (): Promise<Pick<WorkerOptions, "workflowBundle">> => {
    const w = opts.workflows;
    if (!w) return {};
    if ("workflowBundle" in w) return { workflowBundle: w.workflowBundle };
    bundle ??= await bundleWorkflowCode({ workflowsPath: w.workflowsPath, logger: bundlerLogger(logger) });
    return { workflowBundle: bundle };
  };
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const pause = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });

  const loop = (async () => {
    let delay = firstRetryMs;
    while (!stop.signal.aborted) {
      let connection: NativeConnection | undefined;
      try {
        connection = await NativeConnection.connect({ address: opts.address });
        if (stop.signal.aborted) break;
        const code = await workflowCode();
        if (stop.signal.aborted) break;
        const created = await Worker.create({ connection, namespace: opts.namespace, taskQueue, activities: opts.activities, ...code, ...opts.tuning });
        // close() came while it was being made (and may have returned already): never poll
        if (stop.signal.aborted) break;
        worker = created;
        const running = worker.run();
        while (worker.getState() === "INITIALIZED") await pause(20, stop.signal);
        if (stop.signal.aborted) {
          if (worker.getState() === "RUNNING") worker.shutdown(); // close() came while it was being made
        } else if (worker.getState() === "RUNNING") {
          client = new Client({ connection, namespace: opts.namespace });
          logger.info({ taskQueue }, `${what} running`);
          markReady();
          delay = firstRetryMs;
        }
        await running; // returns after shutdown(); throws when the worker died
        if (!stop.signal.aborted) logger.warn({ taskQueue }, `${what} stopped; restarting`);
      } catch (err) {
        if (!stop.signal.aborted) logger.warn({ err, taskQueue, retryInMs: delay }, `${what} is down (Temporal unreachable?); retrying`);
      } finally {
        worker = undefined;
        client = undefined;
        await connection?.close().catch(() => undefined);
      }
      if (stop.signal.aborted) break;
      await pause(delay, stop.signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  })();

  return {
    taskQueue,
    ready,
    client: () => client,
    async close() {
      stop.abort();
      const w = worker;
      if (w && w.getState() === "RUNNING") {
        w.shutdown();
        await loop; // running activities finish first
      } else {
        // still connecting: an attempt against a Temporal that is down cannot be cut short
        await Promise.race([loop, pause(CLOSE_WHILE_CONNECTING_MS, new AbortController().signal)]);
      }
    },
  };
}

/** The workflow bundler's chatter at debug level (it reports every module it packs). */
function bundlerLogger(logger: Logger) {
  const debug = (message: string) => logger.debug({ component: "workflow bundler" }, message);
  return {
    log: (_level: string, message: string) => debug(message),
    trace: debug,
    debug,
    info: debug,
    warn: (message: string) => logger.warn({ component: "workflow bundler" }, message),
    error: (message: string) => logger.error({ component: "workflow bundler" }, message),
  };
}
