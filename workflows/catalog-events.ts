/**
 * Workflows started by the catalog's outbox, one per event (id `<EventType>-<eventId>`).
 *
 * ShowtimeCreated initialises the showtime's seat inventory (booking's activity, exactly once).
 * The search indexer (search) fills these in further with activities on its own task queue;
 * until then EventUpdated and VenueUpdated only record that they ran (the event is in their
 * history and they return it).
 */
import { proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { BookingActivities } from "./booking-types";
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
  await booking.initializeInventory({ showtimeId: event.showtimeId });
  return { eventId: event.eventId, handled: ["inventory"] };
}

export async function eventUpdatedWorkflow(event: EventUpdatedEvent): Promise<HandledEvent> {
  return { eventId: event.eventId, handled: [] };
}

export async function venueUpdatedWorkflow(event: VenueUpdatedEvent): Promise<HandledEvent> {
  return { eventId: event.eventId, handled: [] };
}
