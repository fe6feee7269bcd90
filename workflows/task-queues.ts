/**
 * Task queue names, shared by workflow code, workers and the services that start workflows.
 * Workflows run on WORKFLOWS, except the booking workflow, which runs on BOOKING_WORKFLOWS inside
 * the booking service (docs/adr/0005-booking-workflow-in-the-booking-service.md); each service
 * runs its own activities on its own queue, next to the data they touch.
 */
export const TASK_QUEUES = {
  workflows: "ticketing-workflows",
  /** The booking workflow, run by the booking service's replicas with its activities local. */
  bookingWorkflows: "booking-workflows",
  /** The waiting rooms' gate workflows and their activities, run by the admission service's worker. */
  admissionWorkflows: "admission-workflows",
  catalog: "catalog-activities",
  booking: "booking-activities",
  payments: "payments-activities",
  search: "search-activities",
  notifications: "notifications-activities",
  /** Tickets: issue and void a booking's tickets (the booking workflow's activities on the tickets service). */
  tickets: "tickets-activities",
} as const;

/** Outbox event types and the workflow each one starts. */
export const EVENT_WORKFLOWS = {
  ShowtimeCreated: "showtimeCreatedWorkflow",
  EventUpdated: "eventUpdatedWorkflow",
  VenueUpdated: "venueUpdatedWorkflow",
} as const;

/** The suffix of a workflow queue (`ticketing-workflows-<suffix>`, `booking-workflows-<suffix>`), "" for none. */
function suffixOf(workflowQueue: string): string {
  for (const base of [TASK_QUEUES.workflows, TASK_QUEUES.bookingWorkflows]) {
    if (workflowQueue.startsWith(base)) return workflowQueue.slice(base.length);
  }
  return "";
}

/**
 * The activity queue of a service, as seen from a workflow running on `workflowQueue`. A workflow
 * queue with a suffix (`ticketing-workflows-<suffix>`) sends its activities to queues with the
 * same suffix: production uses none; each test suite uses its own, so suites that share one
 * Temporal server never pick up each other's tasks.
 */
export function activityQueue(
  service: Exclude<keyof typeof TASK_QUEUES, "workflows" | "bookingWorkflows" | "admissionWorkflows">,
  workflowQueue: string,
): string {
  return TASK_QUEUES[service] + suffixOf(workflowQueue);
}

/**
 * Whether a booking workflow started on `workflowQueue` runs inside the booking service, whose
 * worker has the booking activities (so the booking client starts it with activitiesLocal).
 */
export function runsInBookingService(workflowQueue: string): boolean {
  return workflowQueue.startsWith(TASK_QUEUES.bookingWorkflows);
}
