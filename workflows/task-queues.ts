/**
 * Task queue names, shared by workflow code, workers and the services that start workflows.
 * Workflows run on WORKFLOWS; each service runs its own activities on its own queue, next to
 * the data they touch.
 */
export const TASK_QUEUES = {
  workflows: "ticketing-workflows",
  catalog: "catalog-activities",
  booking: "booking-activities",
  payments: "payments-activities",
  search: "search-activities",
  notifications: "notifications-activities",
} as const;

/** Outbox event types and the workflow each one starts. */
export const EVENT_WORKFLOWS = {
  ShowtimeCreated: "showtimeCreatedWorkflow",
  EventUpdated: "eventUpdatedWorkflow",
  VenueUpdated: "venueUpdatedWorkflow",
} as const;

/**
 * The activity queue of a service, as seen from a workflow running on `workflowQueue`. A workflow
 * queue with a suffix (`ticketing-workflows-<suffix>`) sends its activities to queues with the
 * same suffix: production uses none; each test suite uses its own, so suites that share one
 * Temporal server never pick up each other's tasks.
 */
export function activityQueue(service: Exclude<keyof typeof TASK_QUEUES, "workflows">, workflowQueue: string): string {
  const suffix = workflowQueue.startsWith(TASK_QUEUES.workflows) ? workflowQueue.slice(TASK_QUEUES.workflows.length) : "";
  return TASK_QUEUES[service] + suffix;
}
