/**
 * The workflow worker: runs the workflows in workflows/ on the `ticketing-workflows` task queue:
 * catalog events, the hold reaper, and booking workflows started there before the booking service
 * ran its own (docs/adr/0005-booking-workflow-in-the-booking-service.md; new bookings run on
 * `booking-workflows` in the booking service). Activities are not here: each service runs its own
 * on its own queue.
 */
import { NativeConnection, Worker, type WorkflowBundle } from "@temporalio/worker";
import { installTemporalRuntime } from "../lib/bootstrap.js";
import { createLogger } from "../lib/logger.js";
import { runMain } from "../lib/server.js";
import { readWorkerConfig } from "./config.js";
import { TASK_QUEUES } from "./task-queues.js";

export async function createWorkflowWorker(opts: {
  address: string;
  namespace: string;
  taskQueue?: string;
  /** Workflow code bundled before (tests that start several workers bundle once); default: bundle now. */
  bundle?: WorkflowBundle;
}) {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.workflows,
    ...(opts.bundle ? { workflowBundle: opts.bundle } : { workflowsPath: require.resolve("./index") }),
  });
  return { worker, connection };
}

if (require.main === module) {
  const config = readWorkerConfig();
  const logger = createLogger("workflows", config.logLevel);
  installTemporalRuntime(config.logLevel);
  runMain(logger, async () => {
    const { worker, connection } = await createWorkflowWorker({
      address: config.temporalAddress,
      namespace: config.temporalNamespace,
    });
    const running = worker.run();
    logger.info({ taskQueue: TASK_QUEUES.workflows }, "workflow worker running");
    return {
      async close() {
        worker.shutdown();
        await running;
        await connection.close();
      },
    };
  });
}
