import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { PaymentsService } from "../../gen/ticketing/payments/v1/payments_pb.js";
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from "@temporalio/client";
import {
  BookingService,
  type BookingSchema,
  type InventorySeatSchema,
  type ReserveSeatsResponseSchema,
  type WatchInventoryResponseSchema,
} from "../../gen/ticketing/booking/v1/booking_pb.js";
import { callerOf, currentRequestId, isAdmin, type Caller } from "../../lib/context.js";
import type { Knex } from "../../lib/db.js";
import { AppError, failedPrecondition, invalidArgument, notFound, permissionDenied } from "../../lib/errors.js";
import { transactionFor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import { holdBest } from "./best-available.js";
import type { BookingRecord } from "./db/bookings-repo.js";
import type { HoldResult } from "./db/holds-repo.js";
import type { SeatGeometry } from "./domain/hall-geometry.js";
import type { BookingRepos } from "./db/repos.js";
import { InventoryMissingError } from "./domain/errors.js";
import { fromMinorUnits, toMinorUnits } from "../../lib/money.js";
import { INACTIVE_STATUSES } from "./domain/booking-status.js";
import { checkSeatIds, maskSeat, nameIds, viewerOf, type SeatView } from "./domain/seats.js";
import { seatsRejected } from "./errors.js";
import type { HoldLimits } from "./hold-limits.js";
import type { InventoryHub } from "./inventory-hub.js";
import type { AdmissionGate } from "./admission-gate.js";
import type { BookingWorkflows } from "../../workflows/booking-client.js";
import { workflowInputOf, type WorkflowStarter } from "./workflow-starts.js";

export interface BookingLimits {
  /** Most seats in one hold. */
  maxSeatsPerHold: number;
  /** Most seats one user may hold of one showtime at once. */
  maxHeldSeatsPerUser: number;
  /** Hold length when the request says 0. */
  defaultHoldSeconds: number;
}

export interface BookingDeps {
  db: Knex;
  repo: BookingRepos;
  workflows: BookingWorkflows;
  /** Starts the workflows of committed holds (workflow-starts.ts). */
  starter: WorkflowStarter;
  hub: InventoryHub;
  logger: Logger;
  limits: BookingLimits;
  /** Hold requests per user and per showtime (hold-limits.ts); ReserveBestSeats calls it too. */
  holdLimits: HoldLimits;
  /** How long ConfirmBooking waits for the workflow to settle the booking. Default 5 s. */
  confirmWaitMs?: number;
  /**
   * The seat geometry of a showtime from its hall's layout (the catalog), computed for
   * inventories initialised before seats had one, on their first ReserveBestSeats; absent =
   * those answer 503.
   */
  geometryOf?: (showtimeId: string) => Promise<SeatGeometry[]>;
  /** The payments service (PreparePayment, CreateBooking); absent = those RPCs are unavailable. */
  payments?: Client<typeof PaymentsService>;
  /** The waiting rooms' token check (admission-gate.ts). */
  admission: AdmissionGate;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ─── resources as returned ───

export function seatOut(s: SeatView): MessageInitShape<typeof InventorySeatSchema> {
  return {
    seatId: s.seatId,
    status: s.status,
    holderId: s.holderId,
    bookingId: s.bookingId,
    heldUntil: s.heldUntilMs === undefined ? undefined : timestampFromMs(s.heldUntilMs),
  };
}

export function bookingOut(b: BookingRecord): MessageInitShape<typeof BookingSchema> {
  return {
    bookingId: b.id,
    showtimeId: b.showtimeId,
    userId: b.userId,
    bookedSeats: b.seatIds,
    totalAmount: fromMinorUnits(b.amountMinor, b.currency),
    currency: b.currency,
    status: b.status,
    paymentStatus: b.paymentStatus,
    heldUntil: timestampFromDate(b.heldUntil),
    timestamp: b.confirmedAt && timestampFromDate(b.confirmedAt),
    createdAt: timestampFromDate(b.createdAt),
  };
}

/** "user:<id>", "admin:<id>" or "service:<name>": who cancelled, for the workflow and the record. */
function actor(caller: Caller): string {
  if (caller.kind === "service") return `service:${caller.service}`;
  if (caller.kind === "user") return `${caller.role === "admin" ? "admin" : "user"}:${caller.userId}`;
  return "anonymous";
}

export function bookingHandlers(deps: BookingDeps): ServiceImpl<typeof BookingService> {
  const { db, repo, workflows, starter, hub, logger, limits, admission } = deps;
  const confirmWaitMs = deps.confirmWaitMs ?? 5_000;

  /** The booking if the caller may see it; 404 for anybody else (existence must not leak). */
  async function visibleBooking(bookingId: string, caller: Caller): Promise<BookingRecord> {
    const b = await repo.bookings.getBooking(bookingId);
    const visible = b && (caller.kind === "service" || isAdmin(caller) || (caller.kind === "user" && caller.userId === b.userId));
    if (!b || !visible) throw notFound("booking", bookingId);
    return b;
  }

  /**
   * The booking's workflow runs (or ran) when this returns: anything that talks to it (payment,
   * confirm, cancel) comes after its start, even when the starter has not got to it yet.
   */
  async function workflowStarted(bookingId: string): Promise<void> {
    await starter.ensureStarted(bookingId).catch((err: unknown) => {
      logger.error({ err, bookingId }, "the booking workflow could not be started");
      throw new AppError(Code.Unavailable, "the booking cannot be processed right now (its workflow did not start); try again");
    });
  }

  /** Re-reads a booking until it has left `held` or `waitMs` passed. */
  async function settled(bookingId: string, waitMs: number): Promise<BookingRecord> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const b = await repo.bookings.getBooking(bookingId);
      if (!b) throw notFound("booking", bookingId);
      if (b.status !== "held" || Date.now() >= deadline) return b;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function paymentsClient(): Client<typeof PaymentsService> {
    if (!deps.payments) throw new AppError(Code.Unavailable, "payments are not configured for this booking service");
    return deps.payments;
  }

  function paymentsError(err: unknown): unknown {
    const ce = ConnectError.from(err);
    if (ce.code === Code.InvalidArgument || ce.code === Code.FailedPrecondition) return new AppError(ce.code, ce.rawMessage);
    logger.error({ err }, "payments service call failed");
    return new AppError(Code.Unavailable, "payments are not available right now; try again");
  }

  /**
   * The booking's payment intent (created, or the existing one): the server's amount, never the
   * client's; a client that sends an amount or currency must send the server's.
   */
  async function prepareIntent(b: BookingRecord, sent: { finalAmount?: number; currency?: string }) {
    if (b.status !== "held") throw failedPrecondition(`bookingId: the booking is ${b.status}; only a held booking can be paid`);
    if (sent.finalAmount !== undefined && toMinorUnits(sent.finalAmount, b.currency) !== b.amountMinor) {
      throw invalidArgument("finalAmount", `must be the booking's amount ${fromMinorUnits(b.amountMinor, b.currency)} ${b.currency}`);
    }
    if (sent.currency && sent.currency !== b.currency) throw invalidArgument("currency", `must be the booking's currency ${b.currency}`);
    // the intent's signals (succeeded, failed) must find the workflow
    await workflowStarted(b.id);
    // before the intent exists: a hold that expires from now on cancels whatever intent there is
    await repo.bookings.markPaymentAttempted(b.id);
    return paymentsClient()
      .preparePayment({ bookingId: b.id, userId: b.userId, amountMinor: BigInt(b.amountMinor), currency: b.currency })
      .catch((err: unknown) => {
        throw paymentsError(err);
      });
  }

  /**
   * Both holds' checks before they hold: the waiting room's token while the showtime has a room
   * on, then the hold-rate limits (a hold let in by a token counts per user only).
   */
  async function mayHold(caller: Caller, userId: string, showtimeId: string, token: string): Promise<void> {
    const admitted = await admission.require(caller, userId, showtimeId, token);
    await deps.holdLimits.checkHold(userId, showtimeId, { admitted });
  }

  /** Whom a hold is for: the caller, or (admins and services only) the user named in the body. */
  function holderOf(caller: Caller, requested: string): string {
    if (caller.kind === "user") {
      if (requested === "" || requested === caller.userId) return caller.userId;
      if (caller.role === "admin") return requested;
      throw permissionDenied("userId: you may only hold seats for yourself");
    }
    if (caller.kind === "service" && requested !== "") return requested;
    throw invalidArgument("userId", "is required when a service holds seats");
  }

  function holdSecondsOf(requested: number): number {
    const holdSeconds = requested || limits.defaultHoldSeconds;
    if (holdSeconds < 60 || holdSeconds > 1800) throw invalidArgument("holdTimeoutSeconds", "must be between 60 and 1800 (0 = 600)");
    return holdSeconds;
  }

  /**
   * The reserve path shared by ReserveSeats and ReserveBestSeats: `hold` holds seats for a new
   * booking in the request's transaction, which also queues the booking workflow's start (it
   * starts after the commit, workflow-starts.ts); the answer is the hold.
   */
  async function held(
    ctx: HandlerContext,
    showtimeId: string,
    hold: (t: Knex.Transaction, bookingId: string) => Promise<HoldResult>,
  ): Promise<Omit<MessageInitShape<typeof ReserveSeatsResponseSchema>, "$typeName">> {
    const bookingId = randomUUID();
    let trx: Knex.Transaction | undefined;
    const { booking } = await transactionFor(ctx, db, async (t) => {
      trx = t;
      const result = await hold(t, bookingId);
      // the workflow starts after the commit (workflow-starts.ts); its input is the hold's outcome
      const input = workflowInputOf(result.booking, currentRequestId());
      await repo.starts.enqueue(t, bookingId, input);
      return result;
    });
    // Without an Idempotency-Key the hold has committed by now; with one, it commits with the
    // stored response after we return.
    if (trx && !trx.isCompleted()) trx.executionPromise.then(() => starter.kick(), () => undefined);
    else starter.kick();
    logger.info({ bookingId, showtimeId, seats: booking.seatIds.length }, "seats held");
    return {
      bookingId,
      showtimeId: booking.showtimeId,
      seatIds: booking.seatIds,
      status: "held",
      heldUntil: timestampFromDate(booking.heldUntil),
      finalAmount: fromMinorUnits(booking.amountMinor, booking.currency),
      currency: booking.currency,
    };
  }

  return {
    // ─── inventory ───

    async getInventory(req, ctx) {
      const map = await repo.inventory.seatMap(req.showtimeId);
      if (!map) throw new InventoryMissingError(req.showtimeId);
      const viewer = viewerOf(callerOf(ctx));
      const seats = new Array<MessageInitShape<typeof InventorySeatSchema>>(map.seats.length);
      for (let i = 0; i < seats.length; i++) seats[i] = seatOut(maskSeat(map.seats[i], viewer));
      return {
        showtimeId: req.showtimeId,
        lastUpdated: timestampFromMs(map.lastUpdatedMs),
        seatMap: { seats },
        maxSeatsPerHold: limits.maxSeatsPerHold,
        avoidSingleSeats: map.avoidSingleSeats ?? true,
      };
    },

    async *watchInventory(req, ctx): AsyncGenerator<MessageInitShape<typeof WatchInventoryResponseSchema>> {
      // streams skip the validation interceptor: check here what the contract says
      if (!UUID.test(req.showtimeId)) throw invalidArgument("showtimeId", "value must be a valid UUID");
      // the hub's refusals (no inventory, too slow, shutting down) reach the client through mapBookingError
      const sub = await hub.subscribe(req.showtimeId, viewerOf(callerOf(ctx)));
      try {
        for await (const msg of sub.messages(ctx.signal)) {
          yield {
            showtimeId: req.showtimeId,
            lastUpdated: timestampFromMs(msg.lastUpdatedMs),
            snapshot: msg.snapshot,
            seats: msg.seats.map(seatOut),
            maxSeatsPerHold: limits.maxSeatsPerHold,
          };
        }
      } catch (err) {
        // The client went away: Connect throws the failed write into this stream (after aborting
        // ctx.signal). That is no error of ours and there is nobody left to tell.
        if (ctx.signal.aborted) return;
        throw err;
      }
    },

    // ─── holds ───

    async reserveBestSeats(req, ctx) {
      const caller = callerOf(ctx);
      const userId = holderOf(caller, "");
      if (req.quantity > limits.maxSeatsPerHold) {
        throw invalidArgument("quantity", `at most ${limits.maxSeatsPerHold} seats per reservation, got ${req.quantity}`);
      }
      await mayHold(caller, userId, req.showtimeId, req.admissionToken);
      const holdSeconds = holdSecondsOf(req.holdTimeoutSeconds);
      return held(ctx, req.showtimeId, (t, bookingId) =>
        holdBest(t, { holds: repo.holds, inventory: repo.inventory, geometryOf: deps.geometryOf }, {
          bookingId,
          showtimeId: req.showtimeId,
          userId,
          quantity: req.quantity,
          seatTypes: req.seatTypes,
          section: req.section || undefined,
          holdSeconds,
          maxHeldPerUser: limits.maxHeldSeatsPerUser,
        }),
      );
    },

    async reserveSeats(req, ctx) {
      const caller = callerOf(ctx);
      const userId = holderOf(caller, req.userId);
      await mayHold(caller, userId, req.showtimeId, req.admissionToken);
      const { duplicates, tooMany } = checkSeatIds(req.seatIds, limits.maxSeatsPerHold);
      if (duplicates.length) {
        throw new AppError(
          Code.InvalidArgument,
          `seatIds: ${nameIds(duplicates)} ${duplicates.length === 1 ? "is" : "are"} listed more than once`,
          seatsRejected(req.showtimeId, "duplicate", duplicates),
        );
      }
      if (tooMany) throw invalidArgument("seatIds", `at most ${tooMany.max} seats per reservation, got ${tooMany.got}`);
      const holdSeconds = holdSecondsOf(req.holdTimeoutSeconds);
      return held(ctx, req.showtimeId, (t, bookingId) =>
        repo.holds.hold(t, {
          bookingId,
          showtimeId: req.showtimeId,
          userId,
          seatIds: [...req.seatIds],
          holdSeconds,
          maxHeldPerUser: limits.maxHeldSeatsPerUser,
        }),
      );
    },

    async updateSeatingPolicy(req) {
      if (!(await repo.inventory.setAvoidSingleSeats(req.showtimeId, req.avoidSingleSeats))) {
        throw new InventoryMissingError(req.showtimeId, "showtimeId");
      }
      logger.info({ showtimeId: req.showtimeId, avoidSingleSeats: req.avoidSingleSeats }, "seating policy changed");
      return { showtimeId: req.showtimeId, avoidSingleSeats: req.avoidSingleSeats };
    },

    async preparePayment(req, ctx: HandlerContext) {
      const b = await visibleBooking(req.bookingId, callerOf(ctx));
      const intent = await prepareIntent(b, { finalAmount: req.finalAmount, currency: req.currency });
      return {
        bookingId: b.id,
        paymentIntentId: intent.paymentIntentId,
        clientSecret: intent.clientSecret,
        amount: fromMinorUnits(b.amountMinor, b.currency),
        currency: b.currency,
        gateway: intent.gateway,
      };
    },

    async createBooking(req, ctx: HandlerContext) {
      const b = await visibleBooking(req.bookingId, callerOf(ctx));
      if (b.status !== "held") return { booking: bookingOut(b) }; // settled already: unchanged
      const intent = await prepareIntent(b, {});
      const confirmed = await paymentsClient()
        .confirmPaymentWithMethod({ paymentIntentId: intent.paymentIntentId, paymentMethodId: req.paymentMethodId })
        .catch((err: unknown) => {
          throw paymentsError(err);
        });
      if (confirmed.status !== "succeeded") {
        throw failedPrecondition(
          `paymentMethodId: the payment was declined (${confirmed.failureCode || confirmed.status}); the seats stay held until ${b.heldUntil.toISOString()}, try another card`,
        );
      }
      // fulfilment follows the payment's webhook; wait briefly so the answer usually shows it
      return { booking: bookingOut(await settled(b.id, confirmWaitMs)) };
    },

    async confirmBooking(req) {
      const b = await repo.bookings.getBooking(req.bookingId);
      if (!b) throw notFound("booking", req.bookingId);
      if (b.status !== "held") return { booking: bookingOut(b) }; // settled already: unchanged
      await workflowStarted(b.id);
      // the same signal, through the same client, as the payments service sends on the webhook
      const signalled = await workflows
        .signal(req.bookingId, "paymentSucceeded", { paymentIntentId: req.paymentIntentId || undefined })
        .catch((err: unknown) => {
          logger.error({ err, bookingId: req.bookingId }, "could not signal the booking workflow");
          throw new AppError(Code.Unavailable, "the booking cannot be confirmed right now; try again");
        });
      if (signalled === "workflow_gone") return { booking: bookingOut((await repo.bookings.getBooking(req.bookingId)) ?? b) };
      return { booking: bookingOut(await settled(req.bookingId, confirmWaitMs)) };
    },

    async cancelBooking(req, ctx: HandlerContext) {
      const caller = callerOf(ctx);
      const b = await visibleBooking(req.bookingId, caller);
      if (INACTIVE_STATUSES.includes(b.status)) return { booking: bookingOut(b) };
      if (b.status === "confirmed" && b.startsAt.getTime() <= Date.now()) {
        throw failedPrecondition(`bookingId: the show started at ${b.startsAt.toISOString()}; a confirmed booking can no longer be cancelled`);
      }
      const by = actor(caller);
      await workflowStarted(b.id);
      let state;
      try {
        const request = { by, reason: req.reason || undefined };
        state = await workflows.cancel(req.bookingId, request);
        // a payment that won the race confirmed it first: the caller still wants it cancelled
        if (state?.status === "confirmed") state = await workflows.cancel(req.bookingId, request);
      } catch (err) {
        const now = await repo.bookings.getBooking(req.bookingId);
        if (now && INACTIVE_STATUSES.includes(now.status)) return { booking: bookingOut(now) }; // it settled meanwhile
        if (err instanceof WorkflowUpdateFailedError) {
          throw failedPrecondition(`bookingId: the booking cannot be cancelled: ${err.cause?.message ?? err.message}`);
        }
        if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) logger.error({ err, bookingId: req.bookingId }, "cancel update failed");
        throw new AppError(Code.Unavailable, "the booking cannot be cancelled right now; try again");
      }
      if (state === undefined) {
        // no workflow runs for it (it never started, or has ended)
        if (b.status !== "held") {
          throw failedPrecondition("bookingId: this booking can no longer be cancelled online; contact support");
        }
        await repo.holds.releaseHold(req.bookingId, "cancelled");
      }
      const after = await visibleBooking(req.bookingId, caller);
      if (after.status === "cancelled") await repo.holds.recordCancellation(req.bookingId, by, req.reason);
      return { booking: bookingOut(after) };
    },

    async getBooking(req, ctx) {
      return { booking: bookingOut(await visibleBooking(req.bookingId, callerOf(ctx))) };
    },

    async listMyBookings(req, ctx) {
      const caller = callerOf(ctx);
      if (caller.kind !== "user") throw permissionDenied("ListMyBookings lists a signed-in user's own bookings");
      const pageSize = req.pageSize || 50;
      const page = req.page || 1;
      const { bookings, total } = await repo.bookings.listBookings(caller.userId, pageSize, (page - 1) * pageSize);
      return { bookings: bookings.map(bookingOut), total };
    },

    // ─── internal ───

    async getSeatAvailability(req) {
      const counts = await repo.inventory.availability(req.showtimeIds);
      return {
        showtimes: counts.map((c) => ({ showtimeId: c.showtimeId, availableSeats: c.available, totalSeats: c.total })),
      };
    },

    async setAdmissionRequired(req) {
      const now = await admission.set(req.showtimeId, req.required, Number(req.generation));
      logger.info({ showtimeId: req.showtimeId, ...now }, "admission gate set");
      return { required: now.required, generation: BigInt(now.generation) };
    },

    async checkEventAttendance(req) {
      const bookingId = await repo.bookings.attendedBooking(req.userId, req.eventId);
      return { attended: bookingId !== undefined, bookingId: bookingId ?? "" };
    },
  };
}
