/**
 * Workflows started by the catalog's outbox, one per event (id `<EventType>-<eventId>`).
 *
 * For now they only record that they ran: the event is in their history and they return it.
 * The inventory initialiser (booking) and the search indexer (search) fill them in with
 * activities on their own task queues.
 */

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
  return { eventId: event.eventId, handled: [] };
}

export async function eventUpdatedWorkflow(event: EventUpdatedEvent): Promise<HandledEvent> {
  return { eventId: event.eventId, handled: [] };
}

export async function venueUpdatedWorkflow(event: VenueUpdatedEvent): Promise<HandledEvent> {
  return { eventId: event.eventId, handled: [] };
}
