/**
 * A test-only workflow that calls one search activity on a given task queue, so the suite drives
 * the activities through a real Temporal server and the search process's real worker, as the
 * catalog-event workflows (workflows/catalog-events.ts) do.
 */
import { proxyActivities } from "@temporalio/workflow";
import type { SearchActivities } from "../../../workflows/search-types";

export interface SearchActivityCall {
  taskQueue: string;
  activity: keyof SearchActivities;
  input: unknown;
}

export async function searchActivityTestWorkflow(call: SearchActivityCall): Promise<unknown> {
  const activities = proxyActivities<SearchActivities>({
    taskQueue: call.taskQueue,
    startToCloseTimeout: "30 seconds",
    retry: { initialInterval: "200 milliseconds", maximumAttempts: 20 },
  });
  const fn = activities[call.activity] as (input: unknown) => Promise<unknown>;
  return fn(call.input);
}
