/**
 * The search service's Temporal activities, as workflows see them (import type only). They run
 * on the search service's task queue, `TASK_QUEUES.search` (`activityQueue("search", ...)` from a
 * workflow), in the search process. Each is idempotent and safe to retry: transient failures
 * (catalog, booking or the search engine down) throw plain errors and are retried; a request the
 * catalog refuses for good is a non-retryable ApplicationFailure (type "CatalogRefused").
 *
 *   const search = proxyActivities<SearchActivities>({
 *     taskQueue: activityQueue("search", workflowInfo().taskQueue),
 *     startToCloseTimeout: "1 minute",
 *     retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
 *   });
 *   await search.indexShowtime({ showtimeId: event.showtimeId });      // ShowtimeCreated
 *   await search.reindexEvent({ catalogEventId: event.catalogEventId }); // EventUpdated
 *   await search.reindexVenue({ venueId: event.venueId });              // VenueUpdated
 */
export interface SearchActivities {
  /**
   * Builds the showtime's document from the catalog (showtime, event, venue) and writes it;
   * removes it when the catalog does not know the showtime. `indexed` says which.
   */
  indexShowtime(input: { showtimeId: string }): Promise<{ indexed: boolean }>;
  /** Re-indexes every showtime of a catalog event (paging through the catalog). */
  reindexEvent(input: { catalogEventId: string }): Promise<{ indexed: number; removed: number }>;
  /** Re-indexes every showtime at a venue (paging through the catalog). */
  reindexVenue(input: { venueId: string }): Promise<{ indexed: number; removed: number }>;
  /**
   * Asks booking for the seat counts of these showtimes and stores them in the index (e.g. from
   * the booking workflow after a hold, a confirmation or a release). Unknown ids are ignored.
   */
  refreshAvailability(input: { showtimeIds: string[] }): Promise<{ updated: number }>;
}
