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
