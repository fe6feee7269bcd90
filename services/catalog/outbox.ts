import type { Client } from "@temporalio/client";
import type { Knex } from "../../lib/db.js";
import type { Logger } from "../../lib/logger.js";
import { enqueueEvent, OutboxRelay, type OutboxRoute } from "../../lib/outbox.js";
import type { EventUpdatedEvent, ShowtimeCreatedEvent, VenueUpdatedEvent } from "../../workflows/catalog-events.js";
import { EVENT_WORKFLOWS, TASK_QUEUES } from "../../workflows/task-queues.js";

/**
 * The catalog's outbox events. Each is written in the transaction of the change it announces;
 * the relay turns it into a workflow `<EventType>-<eventId>` (lib/outbox.ts).
 */
export type CatalogEventType = keyof typeof EVENT_WORKFLOWS;

/** Advisory-lock key of the catalog's relay: one relay drains at a time across replicas. */
export const CATALOG_OUTBOX_LOCK_KEY = 0x0ca7_a106;

export function publishShowtimeCreated(trx: Knex.Transaction, event: Omit<ShowtimeCreatedEvent, "eventId">): Promise<string> {
  return enqueueEvent(trx, { eventType: "ShowtimeCreated", aggregateType: "showtime", aggregateId: event.showtimeId, payload: { ...event } });
}

export function publishEventUpdated(trx: Knex.Transaction, event: Omit<EventUpdatedEvent, "eventId">): Promise<string> {
  return enqueueEvent(trx, { eventType: "EventUpdated", aggregateType: "event", aggregateId: event.catalogEventId, payload: { ...event } });
}

export function publishVenueUpdated(trx: Knex.Transaction, event: Omit<VenueUpdatedEvent, "eventId">): Promise<string> {
  return enqueueEvent(trx, { eventType: "VenueUpdated", aggregateType: "venue", aggregateId: event.venueId, payload: { ...event } });
}

/** Every catalog event type → its workflow on the workflows task queue. */
export function catalogRoutes(taskQueue: string = TASK_QUEUES.workflows): Record<CatalogEventType, OutboxRoute> {
  const routes = {} as Record<CatalogEventType, OutboxRoute>;
  for (const [eventType, workflowType] of Object.entries(EVENT_WORKFLOWS) as Array<[CatalogEventType, string]>) {
    routes[eventType] = { workflowType, taskQueue };
  }
  return routes;
}

export interface CatalogRelayOptions {
  db: Knex;
  temporal: Client;
  logger: Logger;
  pollMs?: number;
  batchSize?: number;
  taskQueue?: string;
}

/** The catalog's outbox relay (not started). */
export function createCatalogRelay(opts: CatalogRelayOptions): OutboxRelay {
  return new OutboxRelay({
    db: opts.db,
    temporal: opts.temporal,
    logger: opts.logger,
    routes: catalogRoutes(opts.taskQueue),
    lockKey: CATALOG_OUTBOX_LOCK_KEY,
    pollMs: opts.pollMs,
    batchSize: opts.batchSize,
  });
}
