import type { WorkflowBundle } from "@temporalio/worker";
import { startActivityWorker, type ActivityWorker } from "../../lib/activity-worker.js";
import type { Logger } from "../../lib/logger.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";
import type { AdmissionActivities } from "../../workflows/waiting-room-types.js";

/** The admission service's queue, with a suffix in tests (`admission-workflows-<suffix>`). */
export function admissionQueue(suffix = ""): string {
  const s = suffix.replace(/^-+/, "");
  return TASK_QUEUES.admissionWorkflows + (s ? `-${s}` : "");
}

/** The gate workflow's code, which the admission service's own worker bundles and runs. */
export const WAITING_ROOM_WORKFLOW_CODE = require.resolve("../../workflows/waiting-room");

/**
 * Runs the waiting rooms' gate workflows and their activities in this service, on its own queue
 * (as booking runs its workflow: docs/adr/0005). Connects in the background and reconnects
 * (lib/activity-worker.ts): joins and reads work while Temporal is down; the serving numbers
 * stand still until it is back.
 */
export function startAdmissionWorker(opts: {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: AdmissionActivities;
  logger: Logger;
  /** Workflow code bundled before (tests); default: bundled at start. */
  bundle?: WorkflowBundle;
}): ActivityWorker {
  const { bundle, ...rest } = opts;
  return startActivityWorker({
    name: "admission",
    ...rest,
    workflows: bundle ? { workflowBundle: bundle } : { workflowsPath: WAITING_ROOM_WORKFLOW_CODE },
  });
}
