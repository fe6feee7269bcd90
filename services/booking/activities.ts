import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { ApplicationFailure } from "@temporalio/common";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { Logger } from "../../lib/logger.js";
import type { BookingActivities } from "../../workflows/booking-types.js";
import type { SeatInit } from "./db/inventory-repo.js";
import { layoutGeometry, type SeatGeometry } from "./domain/hall-geometry.js";
import type { BookingRepos } from "./db/repos.js";
import { roundToMinorUnits } from "../../lib/money.js";
import type { BookingWorkflows } from "../../workflows/booking-client.js";

export interface ActivityDeps {
  repo: BookingRepos;
  /** The catalog over gRPC, with this service's credential. */
  catalog: Client<typeof CatalogService>;
  workflows: BookingWorkflows;
  logger: Logger;
  /** The reaper leaves a lapsed hold this long to its workflow's timer. Default 30 s. */
  reaperGraceSeconds?: number;
  /** How far back the reaper looks for settled bookings whose seats disagree. Default 1 h. */
  reconcileWindowSeconds?: number;
}

/** What a seat type without a name is (the catalog stores it filled in; this guards old rows). */
export const DEFAULT_SEAT_TYPE = "standard";

/** Catalog refusals that retrying cannot fix. */
const PERMANENT = new Set([Code.NotFound, Code.InvalidArgument, Code.PermissionDenied, Code.Unauthenticated]);

/**
 * The booking service's Temporal activities: local activities of the booking workflow (which runs
 * in this service), and on the task queue `booking-activities` for the ShowtimeCreated workflow
 * and the hold reaper. Every one is idempotent: a
 * retry after a crash or a timeout finds the work done and changes nothing. Business refusals
 * are non-retryable ApplicationFailures; anything else (database, catalog down) is retried.
 */
export function createBookingActivities(deps: ActivityDeps): BookingActivities {
  const { repo, logger } = deps;
  return {
    async confirmBookingSeats({ bookingId, paymentIntentId }) {
      const outcome = await repo.holds.confirm(bookingId, paymentIntentId);
      logger.info({ bookingId, outcome }, outcome === "confirmed" ? "booking confirmed" : "confirm: hold lost");
      return { outcome };
    },

    async releaseBookingHold({ bookingId, status }) {
      const r = await repo.holds.releaseHold(bookingId, status);
      if (r.changed) logger.info({ bookingId, status, released: r.released }, "hold released");
    },

    async releaseConfirmedBooking({ bookingId }) {
      const r = await repo.holds.releaseConfirmed(bookingId);
      if (r.changed) logger.info({ bookingId, released: r.released }, "confirmed booking cancelled; seats released");
    },

    async setPaymentStatus({ bookingId, paymentStatus }) {
      await repo.holds.setPaymentStatus(bookingId, paymentStatus);
    },

    async paymentAttempted({ bookingId }) {
      return { attempted: await repo.bookings.paymentAttempted(bookingId) };
    },

    async initializeInventory({ showtimeId }) {
      const existing = await repo.inventory.inventoryHeader(showtimeId);
      if (existing) return { created: false, seats: existing.totalSeats };
      let details;
      try {
        ({ details } = await deps.catalog.getShowtimeDetails({ showtimeId, includeSeatLayout: true }));
      } catch (err) {
        const e = ConnectError.from(err);
        if (PERMANENT.has(e.code)) {
          throw ApplicationFailure.nonRetryable(`catalog refused showtime ${showtimeId}: ${e.rawMessage}`, "CatalogRefused");
        }
        throw err; // the catalog is down or slow: retry
      }
      const showtime = details?.showtime;
      const layout = details?.hall?.seatLayout;
      if (!showtime?.timestamp || !details?.hall || !layout) {
        throw ApplicationFailure.nonRetryable(`catalog returned showtime ${showtimeId} without its start or seat layout`, "CatalogIncomplete");
      }
      // each seat's row, place and distance to the stage, once per inventory (best-available seating)
      const seats: SeatInit[] = layoutGeometry(layout, DEFAULT_SEAT_TYPE).map(({ seatId, seatType, ...geometry }) => ({
        seatId,
        seatType,
        geometry,
      }));
      if (seats.length === 0) throw ApplicationFailure.nonRetryable(`hall ${details.hall.hallId} has no seats`, "CatalogIncomplete");
      const prices: Record<string, number> = {};
      for (const p of showtime.prices) prices[p.seatType] = roundToMinorUnits(p.amount, showtime.currency);
      const unpriced = [...new Set(seats.map((s) => s.seatType))].filter((t) => prices[t] === undefined);
      if (unpriced.length) {
        throw ApplicationFailure.nonRetryable(`showtime ${showtimeId} has no price for seat types ${unpriced.join(", ")}`, "CatalogIncomplete");
      }
      const result = await repo.inventory.createInventory(
        {
          showtimeId,
          eventId: showtime.eventId,
          venueId: showtime.venueId,
          hallId: showtime.hallId,
          startsAt: timestampDate(showtime.timestamp),
          currency: showtime.currency,
          prices,
        },
        seats,
      );
      if (result.created) logger.info({ showtimeId, seats: result.seats }, "inventory initialised");
      return result;
    },

    async reapExpiredHolds({ limit }) {
      let released = 0;
      for (const lapsed of await repo.reconciliation.lapsedHolds(limit, deps.reaperGraceSeconds ?? 30)) {
        let running: boolean;
        try {
          running = await deps.workflows.isRunning(lapsed.id);
        } catch (err) {
          logger.warn({ err, bookingId: lapsed.id }, "reaper: cannot tell whether the booking's workflow runs; left alone");
          continue;
        }
        if (running) continue; // its timer releases it
        const r = await repo.holds.releaseHold(lapsed.id, "expired");
        await repo.starts.done([lapsed.id]); // a start that kept failing: give it up
        if (r.changed) {
          released++;
          logger.warn({ bookingId: lapsed.id, heldUntil: lapsed.heldUntil, seats: r.released }, "reaper released a hold with no workflow");
        }
      }
      let reconciled = 0;
      for (const id of await repo.reconciliation.inconsistentBookings(limit, deps.reconcileWindowSeconds ?? 3600)) {
        const r = await repo.reconciliation.reconcileBooking(id);
        if (r.fixed.length) {
          reconciled++;
          logger.warn({ bookingId: id, seats: r.fixed }, "reaper reconciled seats with their booking");
        }
        if (r.conflicts.length) {
          logger.error({ bookingId: id, seats: r.conflicts }, "confirmed booking's seats are taken by another booking; needs an operator");
        }
      }
      return { released, reconciled };
    },
  };
}

/**
 * The seat geometry of a showtime's hall from the catalog's layout, for an inventory
 * initialised before seats had one (computed on its first ReserveBestSeats).
 */
export async function catalogGeometry(catalog: Client<typeof CatalogService>, showtimeId: string): Promise<SeatGeometry[]> {
  const { details } = await catalog.getShowtimeDetails({ showtimeId, includeSeatLayout: true });
  const layout = details?.hall?.seatLayout;
  return layout ? layoutGeometry(layout, DEFAULT_SEAT_TYPE) : [];
}
