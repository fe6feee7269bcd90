import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import type { CatalogService, ShowtimeDetails } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { Logger } from "../../lib/logger.js";
import type { Availability, SearchEngine } from "./engine.js";
import { documentFromDetails, type DocumentWrite } from "./domain/document.js";

export interface IndexerDeps {
  engine: SearchEngine;
  /** The catalog over gRPC, with this service's credential. */
  catalog: Client<typeof CatalogService>;
  /** Booking over gRPC, for seat counts; null = none (documents carry the hall's capacity). */
  booking: Client<typeof BookingService> | null;
  logger: Logger;
  now?: () => Date;
}

/** GetSeatAvailability takes at most this many ids. */
export const AVAILABILITY_BATCH = 200;
/** ListShowtimeDetails page size (its maximum is 500). */
const CATALOG_PAGE = 200;

/** The catalog refused for good (unknown id, bad request, not allowed): retrying will not help. */
export class CatalogRefusedError extends Error {
  constructor(
    message: string,
    readonly code: Code,
  ) {
    super(message);
    this.name = "CatalogRefusedError";
  }
}

const PERMANENT = new Set([Code.InvalidArgument, Code.PermissionDenied, Code.Unauthenticated]);

/**
 * Keeps the index in step with the catalog (the SearchIndexer of the seeds): fetches showtime,
 * event and venue from the catalog over gRPC, builds one denormalised document per showtime and
 * writes it; re-indexes every showtime of an updated event or venue; asks booking for seat
 * counts. Every operation is idempotent and safe to run concurrently with itself.
 */
export class Indexer {
  private readonly now: () => Date;

  constructor(private readonly deps: IndexerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** (Re)builds one showtime's document; removes it when the catalog no longer knows it. */
  async indexShowtime(showtimeId: string): Promise<{ indexed: boolean }> {
    const readAt = this.now();
    let details: ShowtimeDetails | undefined;
    try {
      ({ details } = await this.deps.catalog.getShowtimeDetails({ showtimeId, includeSeatLayout: false }));
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.NotFound) {
        await this.deps.engine.remove([showtimeId]);
        this.deps.logger.info({ showtimeId }, "showtime unknown to the catalog; removed from the index");
        return { indexed: false };
      }
      throw this.classify(e, `showtime ${showtimeId}`);
    }
    if (!details) throw new CatalogRefusedError(`catalog returned no details for showtime ${showtimeId}`, Code.Internal);
    const [doc] = await this.withSeats([documentFromDetails(details, readAt)]);
    await this.deps.engine.upsert([doc]);
    this.deps.logger.info({ showtimeId }, "showtime indexed");
    return { indexed: true };
  }

  /** Re-indexes every showtime of an event (e.g. after its name or keywords changed). */
  async reindexEvent(catalogEventId: string): Promise<{ indexed: number; removed: number }> {
    return this.reindexWhere({ eventId: catalogEventId });
  }

  /** Re-indexes every showtime at a venue (e.g. after its address or coordinates changed). */
  async reindexVenue(venueId: string): Promise<{ indexed: number; removed: number }> {
    return this.reindexWhere({ venueId });
  }

  private async reindexWhere(filter: { eventId: string } | { venueId: string }): Promise<{ indexed: number; removed: number }> {
    const before = new Set(await this.deps.engine.showtimeIdsOf(filter));
    let indexed = 0;
    for await (const page of this.catalogPages(filter)) {
      await this.deps.engine.upsert(page);
      for (const d of page) before.delete(d.showtimeId);
      indexed += page.length;
    }
    // indexed under this event/venue but no longer listed there: ask the catalog about each one
    let removed = 0;
    for (const showtimeId of before) {
      const r = await this.indexShowtime(showtimeId);
      if (!r.indexed) removed++;
    }
    this.deps.logger.info({ ...filter, indexed, removed }, "showtimes re-indexed");
    return { indexed, removed };
  }

  /** Rebuilds the whole index from the catalog without downtime (see SearchEngine.rebuild). */
  async reindexAll(): Promise<{ indexed: number; removed: number }> {
    const result = await this.deps.engine.rebuild(this.catalogPages({}));
    this.deps.logger.info(result, "index rebuilt from the catalog");
    return result;
  }

  /** Asks booking for the seat counts of these showtimes and stores them (the refresher's rounds). */
  async refreshAvailability(showtimeIds: string[]): Promise<{ updated: number }> {
    const counts = await this.availability(showtimeIds, { required: true });
    await this.deps.engine.setAvailability(counts);
    return { updated: counts.length };
  }

  /**
   * Seat counts from booking, in batches. Showtimes booking does not know yet are left out.
   * With `required` a failure throws (activities retry); otherwise it is logged and [] returned.
   */
  async availability(showtimeIds: string[], opts: { required: boolean }): Promise<Availability[]> {
    const booking = this.deps.booking;
    if (!booking || !showtimeIds.length) return [];
    const out: Availability[] = [];
    try {
      for (let i = 0; i < showtimeIds.length; i += AVAILABILITY_BATCH) {
        const ids = [...new Set(showtimeIds.slice(i, i + AVAILABILITY_BATCH))];
        const res = await booking.getSeatAvailability({ showtimeIds: ids });
        for (const s of res.showtimes) out.push({ showtimeId: s.showtimeId, availableSeats: s.availableSeats });
      }
    } catch (err) {
      if (opts.required) throw this.classify(ConnectError.from(err), "seat availability");
      this.deps.logger.warn({ err: ConnectError.from(err).message }, "booking did not answer seat counts; keeping the stored ones");
      return [];
    }
    return out;
  }

  private async withSeats(docs: DocumentWrite[]): Promise<DocumentWrite[]> {
    const counts = new Map((await this.availability(docs.map((d) => d.showtimeId), { required: false })).map((a) => [a.showtimeId, a.availableSeats]));
    return docs.map((d) => ({ ...d, availableSeats: counts.get(d.showtimeId) ?? d.availableSeats }));
  }

  /** The catalog's showtimes (of an event, a venue, or all) as documents, page by page. */
  async *catalogPages(filter: { eventId?: string; venueId?: string }): AsyncGenerator<DocumentWrite[]> {
    let pageToken = "";
    do {
      const readAt = this.now();
      let res;
      try {
        res = await this.deps.catalog.listShowtimeDetails({ ...filter, pageSize: CATALOG_PAGE, pageToken });
      } catch (err) {
        throw this.classify(ConnectError.from(err), "showtime list");
      }
      const docs = res.details.map((d) => documentFromDetails(d, readAt));
      if (docs.length) yield await this.withSeats(docs);
      pageToken = res.nextPageToken;
    } while (pageToken);
  }

  private classify(e: ConnectError, what: string): Error {
    if (PERMANENT.has(e.code)) return new CatalogRefusedError(`${what}: ${e.rawMessage}`, e.code);
    return e; // down, slow, overloaded: the caller retries
  }
}

