/**
 * The search service's activities, called by the catalog-event workflows (catalog-events.ts) on
 * the search service's task queue, `TASK_QUEUES.search` (`activityQueue("search", ...)` from a
 * workflow); they run in the search process. Types and names only. Each is idempotent and safe
 * to retry: transient failures (catalog, booking or the search engine down) throw plain errors
 * and are retried; a request the catalog refuses for good is a non-retryable ApplicationFailure
 * (type "CatalogRefused").
 *
 *   const search = proxyActivities<SearchActivities>({
 *     taskQueue: activityQueue("search", workflowInfo().taskQueue),
 *     startToCloseTimeout: "1 minute",
 *     retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
 *   });
 *   await search.indexShowtime({ showtimeId: event.showtimeId });      // ShowtimeCreated
 *   await search.reindexEvent({ catalogEventId: event.catalogEventId }); // EventUpdated
 *   await search.reindexVenue({ venueId: event.venueId });              // VenueUpdated
 *
 * Seat counts are not an activity: no workflow reports them. The search process refreshes them
 * itself (services/search/refresher.ts asks booking every few seconds) and overlays live counts
 * at query time.
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
}
