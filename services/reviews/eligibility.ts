import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import type { CatalogService, Event } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { AppError, notFound } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";

export interface EligibilityDeps {
  catalog: Client<typeof CatalogService>;
  booking: Client<typeof BookingService>;
  logger: Logger;
  now: () => Date;
}

/** Showtimes read per ListShowtimeDetails page, and pages read before leaving the answer to booking. */
const PAGE_SIZE = 500;
const MAX_PAGES = 20;

/** An upstream failure: 503 to our caller (retry later), the cause logged, never passed on. */
export function upstreamFailure(logger: Logger, what: string, err: unknown): AppError {
  logger.warn({ err: ConnectError.from(err), upstream: what }, "upstream call failed");
  return new AppError(Code.Unavailable, `${what} is unavailable; try again`);
}

/**
 * Who may review what, asked of the services that know: the catalog (the event exists; one of
 * its showtimes has started) and the booking service (the user has a confirmed booking of such a
 * showtime: CheckEventAttendance). Calls carry this service's credential.
 */
export class Eligibility {
  constructor(private readonly deps: EligibilityDeps) {}

  /** The event, or 404. */
  async requireEvent(eventId: string): Promise<Event> {
    try {
      const { event } = await this.deps.catalog.getEvent({ eventId });
      if (!event) throw notFound("event", eventId);
      return event;
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (ConnectError.from(err).code === Code.NotFound) throw notFound("event", eventId);
      throw upstreamFailure(this.deps.logger, "the catalog", err);
    }
  }

  /**
   * Whether a showtime of the event has started (catalog ListShowtimeDetails). A cheap refusal
   * before asking the booking service: nobody can have attended an event none of whose
   * showtimes has begun. After MAX_PAGES pages without one it answers true and leaves the
   * decision to the booking service, which checks start times itself.
   */
  async hasStartedShowtime(eventId: string): Promise<boolean> {
    const now = this.deps.now().getTime();
    let pageToken = "";
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await this.deps.catalog.listShowtimeDetails({ eventId, pageSize: PAGE_SIZE, pageToken });
        if (res.details.some((d) => d.showtime?.timestamp && timestampDate(d.showtime.timestamp).getTime() <= now)) return true;
        if (!res.nextPageToken) return false;
        pageToken = res.nextPageToken;
      }
      return true;
    } catch (err) {
      throw upstreamFailure(this.deps.logger, "the catalog", err);
    }
  }

  /** The user's confirmed booking of a started showtime of the event, if any (booking CheckEventAttendance). */
  async attendedBooking(userId: string, eventId: string): Promise<string | undefined> {
    try {
      const res = await this.deps.booking.checkEventAttendance({ userId, eventId });
      return res.attended ? res.bookingId || "" : undefined;
    } catch (err) {
      throw upstreamFailure(this.deps.logger, "the booking service", err);
    }
  }
}
