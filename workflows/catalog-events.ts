/**
 * Workflows started by the catalog's outbox, one per event (id `<EventType>-<eventId>`).
 *
 * ShowtimeCreated initialises the showtime's seat inventory (booking's activity, exactly once)
 * and indexes it for search; EventUpdated and VenueUpdated re-index every showtime they touch.
 * Each activity runs on its service's own queue and retries until that service answers.
 */
import { proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { BookingActivities } from "./booking-types";
import type { SearchActivities } from "./search-types";
import { activityQueue } from "./task-queues";


/** `eventId` is the outbox message's id; the catalog's event (the show) is `catalogEventId`. */
export interface ShowtimeCreatedEvent {
  eventId: string;
  showtimeId: string;
  catalogEventId: string;
  venueId: string;
  hallId: string;
  /** RFC 3339 start time of the showtime. */
  startsAt: string;
}

export interface EventUpdatedEvent {
  eventId: string;
  catalogEventId: string;
}

export interface VenueUpdatedEvent {
  eventId: string;
  venueId: string;
}

export interface HandledEvent {
  eventId: string;
  handled: string[];
}

export async function showtimeCreatedWorkflow(event: ShowtimeCreatedEvent): Promise<HandledEvent> {
  const booking = proxyActivities<BookingActivities>({
    taskQueue: activityQueue("booking", workflowInfo().taskQueue),
    startToCloseTimeout: "1 minute",
    retry: { initialInterval: "500 milliseconds", maximumInterval: "30 seconds" },
  });
  await Promise.all([booking.initializeInventory({ showtimeId: event.showtimeId }), searchActivities().indexShowtime({ showtimeId: event.showtimeId })]);
  return { eventId: event.eventId, handled: ["inventory", "search"] };
}

function searchActivities() {
  return proxyActivities<SearchActivities>({
    taskQueue: activityQueue("search", workflowInfo().taskQueue),
    startToCloseTimeout: "1 minute",
    retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
  });
}

export async function eventUpdatedWorkflow(event: EventUpdatedEvent): Promise<HandledEvent> {
  await searchActivities().reindexEvent({ catalogEventId: event.catalogEventId });
  return { eventId: event.eventId, handled: ["search"] };
}

export async function venueUpdatedWorkflow(event: VenueUpdatedEvent): Promise<HandledEvent> {
  await searchActivities().reindexVenue({ venueId: event.venueId });
  return { eventId: event.eventId, handled: ["search"] };
}
