/**
 * The booking workflow: one per booking, id `booking-<bookingId>`, started by the booking service
 * right after the seats were held in Postgres (the hold's outcome is this workflow's input, so
 * its history records it).
 *
 *   held ──paymentSucceeded──▶ confirm seats ──▶ confirmed ──cancel (before the show)──▶ release, void tickets, refund
 *     │──cancel──────────────▶ release ─────────▶ cancelled
 *     │──paymentFailed: stays held so the customer can retry with another card, until the timer
 *     └──timer (heldUntil)───▶ cancel the payment intent, release ▶ expired (payment_failed if a
 *                                                                   payment attempt failed)
 *
 * The timer is a durable Temporal timer: worker or server restarts lose nothing. After a final
 * state other than confirmed the workflow keeps listening for a late `paymentSucceeded` (a payment
 * that went through after the seats were released) and refunds it, exactly once, until the show
 * starts (at least an hour). A confirmed booking's workflow waits until the show starts for a
 * cancellation, then completes.
 *
 * A confirmed booking gets one ticket per seat from the tickets service (issueTickets), and the
 * confirmation carries them; a cancelled one's tickets are voided. Issuing and voiding are retried
 * until they work (a paid seat must get its ticket; a released one must stop admitting), but
 * they run alongside: a tickets service that is down never holds up a cancellation or a refund.
 *
 * Every outcome is notified (confirmed, expired, payment failed, cancelled, refunded) through the
 * notifications service's activity, and a reminder goes out `reminderLeadMinutes` before the
 * show unless the booking was cancelled by then; the reminder is a durable timer like the hold's.
 * Notifications never hold up or fail the booking: they run alongside, with their own deadline,
 * and the workflow only waits for them (whatever their outcome) before it completes.
 */
import { condition, log, patched, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes, workflowInfo } from "@temporalio/workflow";
import {
  bookingStateQuery,
  cancelBookingUpdate,
  paymentFailedSignal,
  paymentPreparedSignal,
  paymentSucceededSignal,
  type BookingActivities,
  type BookingState,
  type BookingStatus,
  type BookingWorkflowInput,
  type CancelRequest,
  type PaymentActivities,
  type PaymentEvent,
  type PaymentStatus,
} from "./booking-types";
import type { BookingNotificationKind, NotificationActivities } from "./notification-types";
import { SA_BOOKING_STATUS } from "./search-attributes";
import { activityQueue } from "./task-queues";
import type { IssuedTicket, TicketActivities } from "./ticket-types";

/** How long a released booking still refunds a payment that arrives late, at the least. */
const MIN_LATE_PAYMENT_WINDOW_MS = 60 * 60 * 1000;

/**
 * The patch that brought tickets (issue 17). Bookings confirmed by earlier code sent the
 * confirmation at once and have no tickets: their histories have no marker, so on replay they
 * keep doing what they did, and their cancellation voids nothing.
 */
const TICKETS_PATCH = "tickets-on-confirm";

type Decision = { kind: "paid"; payment: PaymentEvent } | { kind: "cancel"; request: CancelRequest };

export async function bookingWorkflow(input: BookingWorkflowInput): Promise<BookingState> {
  const run = new BookingRun(input);
  run.listen();
  const decision = await run.whileHeld();
  if (decision?.kind === "paid") {
    if (await run.confirm(decision.payment)) await run.untilTheShow();
    else await run.refundLostHold();
  } else {
    await run.release(decision ? "cancelled" : "timer");
    await run.refundLatePayment();
  }
  return run.finish();
}

/**
 * The activities a booking calls, each with the retry policy its step needs. Inside the booking
 * service (input.activitiesLocal) the booking's database steps are local activities: they run in
 * the worker that runs the workflow, and their results go to Temporal with the workflow task
 * instead of as tasks of their own (docs/adr/0005-booking-workflow-in-the-booking-service.md). A
 * booking started on the shared workflows queue by an earlier version keeps calling them on the
 * booking activity queue: its input says which, so either way its history replays.
 */
function activities(local: boolean) {
  const queue = workflowInfo().taskQueue;
  const untilItWorks = { initialInterval: "1 second", maximumInterval: "30 seconds" }; // seats must not leak
  return {
    local,
    booking: local
      ? proxyLocalActivities<BookingActivities>({ startToCloseTimeout: "30 seconds", retry: untilItWorks })
      : proxyActivities<BookingActivities>({ taskQueue: activityQueue("booking", queue), startToCloseTimeout: "30 seconds", retry: untilItWorks }),
    payments: proxyActivities<PaymentActivities>({
      taskQueue: activityQueue("payments", queue),
      startToCloseTimeout: "30 seconds",
      retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
    }),
    // Cancelling an open payment intent on expiry must not hold up the release of the seats for
    // long: a late payment is refunded anyway.
    paymentsBestEffort: proxyActivities<PaymentActivities>({
      taskQueue: activityQueue("payments", queue),
      startToCloseTimeout: "30 seconds",
      scheduleToCloseTimeout: "2 minutes",
    }),
    // a paid seat must get its ticket and a released one must stop admitting: no deadline
    tickets: proxyActivities<TicketActivities>({
      taskQueue: activityQueue("tickets", queue),
      startToCloseTimeout: "30 seconds",
      retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
    }),
    notifications: proxyActivities<NotificationActivities>({
      taskQueue: activityQueue("notifications", queue),
      startToCloseTimeout: "30 seconds",
      scheduleToCloseTimeout: "10 minutes",
    }),
  };
}

/** One booking's run: its state, what the handlers received, and the steps of its life. */
class BookingRun {
  private readonly act: ReturnType<typeof activities>;
  private readonly state: BookingState;
  /** What runs alongside the booking's steps (notifications, tickets): finish() waits for it. */
  private readonly alongside: Promise<unknown>[] = [];
  /**
   * The tickets' issuance, once the booking is confirmed (with TICKETS_PATCH): its tickets, or
   * undefined if the tickets service refused for good.
   */
  private issuance: Promise<IssuedTicket[] | undefined> | undefined;
  /** Set by the handlers (fields, so TypeScript does not narrow them across awaits). */
  private decision: Decision | undefined;
  private cancelOfConfirmed: CancelRequest | undefined;
  /** The paymentPrepared signal came (earlier versions of payments send it; see SIGNALS). */
  private paymentPrepared = false;
  private paymentFailed: PaymentEvent | undefined;
  private readonly latePayments: PaymentEvent[] = [];

  constructor(private readonly input: BookingWorkflowInput) {
    this.act = activities(input.activitiesLocal === true);
    this.state = { bookingId: input.bookingId, status: "held", paymentStatus: "pending" };
  }

  /** Registers the query, the payment signals and the cancel update. */
  listen(): void {
    const state = this.state;
    setHandler(bookingStateQuery, () => ({ ...state }));
    setHandler(paymentPreparedSignal, () => {
      this.paymentPrepared = true;
    });
    setHandler(paymentSucceededSignal, (payment) => {
      if (state.status === "held") this.decision ??= { kind: "paid", payment };
      else if (state.status !== "confirmed") this.latePayments.push(payment); // seats already released
      // a duplicate for a confirmed booking changes nothing
    });
    setHandler(paymentFailedSignal, (payment) => {
      if (state.status === "held" && this.decision === undefined) {
        this.paymentFailed = payment;
        state.paymentStatus = "failed"; // still held: a retry with another card may succeed
      }
    });
    setHandler(cancelBookingUpdate, async (request) => {
      if (state.status === "held") this.decision ??= { kind: "cancel", request };
      else if (state.status === "confirmed") this.cancelOfConfirmed ??= request;
      // answer once the cancel (or whatever came first) has been carried out
      await condition(() => state.status !== "held" && !(state.status === "confirmed" && this.cancelOfConfirmed));
      return { ...state };
    });
  }

  /** Held: waits for the payment, a cancel, or the durable timer (undefined). */
  async whileHeld(): Promise<Decision | undefined> {
    const holdMs = Math.max(0, Date.parse(this.input.heldUntil) - Date.now());
    await condition(() => this.decision !== undefined, holdMs);
    return this.decision;
  }

  /** Paid: books the held seats; false when the hold was lost meanwhile. */
  async confirm(payment: PaymentEvent): Promise<boolean> {
    // Asked before the seats are booked, in the workflow task that got the payment. Asked after
    // the local activity, a replay may resolve that activity one workflow task earlier than the
    // live run did (its marker and the code that follows it can land in different tasks), ahead
    // of the patch's marker, and then takes the old branch: a nondeterminism this code had.
    const withTickets = patched(TICKETS_PATCH);
    const { outcome } = await this.act.booking.confirmBookingSeats({
      bookingId: this.input.bookingId,
      paymentIntentId: payment.paymentIntentId,
    });
    if (outcome !== "confirmed") return false;
    this.setStatus("confirmed", "paid");
    log.info("booking confirmed", { bookingId: this.input.bookingId });
    if (withTickets) this.issueTickets();
    else this.notify("booking_confirmed");
    return true;
  }

  /** Confirmed: sends the reminder, and until the show starts carries out a cancellation. */
  async untilTheShow(): Promise<void> {
    const cancelled = () => this.cancelOfConfirmed !== undefined;
    const leadMs = (this.input.reminderLeadMinutes ?? 120) * 60_000;
    const showAt = Date.parse(this.input.showStartsAt);
    if (leadMs > 0 && showAt - leadMs > Date.now()) {
      await condition(cancelled, showAt - leadMs - Date.now());
      if (!cancelled()) this.notify("show_reminder");
    }
    await condition(cancelled, Math.max(0, showAt - Date.now()));
    if (!this.cancelOfConfirmed) return;
    await this.act.booking.releaseConfirmedBooking({ bookingId: this.input.bookingId });
    this.setStatus("cancelled");
    // void once the seats are released, not before: the release must not wait for the tickets
    // service (nor for an issuance still being retried). The void is scheduled in the workflow
    // task that records the release, and never waits for the refund: the tickets stop admitting
    // right after the seats can be sold again.
    this.voidTickets();
    this.notify("booking_cancelled");
    await this.act.payments.refundBooking({ bookingId: this.input.bookingId, reason: "cancelled by customer" });
    await this.markRefunded();
  }

  /**
   * The seats were not ours any more (never while we wait; only if someone released them by
   * hand): the customer paid for nothing, so refund.
   */
  async refundLostHold(): Promise<void> {
    log.warn("payment arrived but the hold was lost; refunding", { bookingId: this.input.bookingId });
    await this.act.booking.releaseBookingHold({ bookingId: this.input.bookingId, status: "expired" });
    this.setStatus("expired", "paid");
    this.notify("booking_expired");
    await this.refund("hold lost");
  }

  /**
   * Cancelled, or the timer fired first: cancels the payment intent first (no payment can
   * complete for released seats), then releases the seats.
   */
  async release(why: "cancelled" | "timer"): Promise<void> {
    if (this.paymentPrepared || (this.act.local && (await this.act.booking.paymentAttempted({ bookingId: this.input.bookingId })).attempted)) {
      await this.act.paymentsBestEffort.cancelPaymentIntent({ bookingId: this.input.bookingId }).catch(() => undefined);
    }
    const final = why === "cancelled" ? "cancelled" : this.paymentFailed ? "payment_failed" : "expired";
    await this.act.booking.releaseBookingHold({ bookingId: this.input.bookingId, status: final });
    this.setStatus(final);
    this.notify(final === "cancelled" ? "booking_cancelled" : final === "payment_failed" ? "payment_failed" : "booking_expired");
  }

  /** Released: refunds a payment that still succeeds, exactly once, until the show starts. */
  async refundLatePayment(): Promise<void> {
    const lateWindow = Math.max(MIN_LATE_PAYMENT_WINDOW_MS, Date.parse(this.input.showStartsAt) - Date.now());
    if (!(await condition(() => this.latePayments.length > 0, lateWindow))) return;
    log.warn("payment succeeded after the seats were released; refunding", { bookingId: this.input.bookingId });
    this.state.paymentStatus = "paid";
    await this.refund("paid after the hold was released");
  }

  /** Waits for what runs alongside (whatever its outcome), then returns the state. */
  async finish(): Promise<BookingState> {
    await Promise.all(this.alongside);
    return { ...this.state };
  }

  private async refund(reason: string): Promise<void> {
    await this.act.payments.refundBooking({ bookingId: this.input.bookingId, reason });
    await this.markRefunded();
  }

  private async markRefunded(): Promise<void> {
    await this.act.booking.setPaymentStatus({ bookingId: this.input.bookingId, paymentStatus: "refunded" });
    this.state.paymentStatus = "refunded";
    this.notify("refund_issued");
  }

  private setStatus(status: BookingStatus, paymentStatus: PaymentStatus = this.state.paymentStatus): void {
    this.state.status = status;
    this.state.paymentStatus = paymentStatus;
    upsertSearchAttributes([{ key: SA_BOOKING_STATUS, value: status }]);
  }

  /**
   * Issues the tickets alongside, then sends the confirmation with them. A booking cancelled
   * before its tickets came gets no confirmation: its tickets are void already (voidTickets).
   */
  private issueTickets(): void {
    const { input } = this;
    this.issuance = this.act.tickets
      .issueTickets({ bookingId: input.bookingId, showtimeId: input.showtimeId, userId: input.userId, seatIds: input.seatIds })
      .then(
        ({ tickets }) => tickets,
        (err: unknown) => {
          // only a non-retryable refusal ends the retries: a bug to look into, not a reason to fail the booking
          log.error("tickets not issued", { bookingId: input.bookingId, error: String(err) });
          return undefined;
        },
      );
    this.alongside.push(this.issuance.then((tickets) => (this.cancelOfConfirmed ? undefined : this.send("booking_confirmed", tickets))));
  }

  /** Voids the tickets alongside, once their issuance is over (tickets issued after a void would admit). */
  private voidTickets(): void {
    const { bookingId } = this.input;
    if (!this.issuance) return; // confirmed before tickets existed
    this.alongside.push(
      this.issuance
        .then(() => this.act.tickets.voidTickets({ bookingId }))
        .catch((err: unknown) => log.error("tickets not voided", { bookingId, error: String(err) })),
    );
  }

  /** Sends a notification alongside: it never holds up or fails the booking. */
  private notify(kind: BookingNotificationKind): void {
    this.alongside.push(this.send(kind));
  }

  private send(kind: BookingNotificationKind, tickets?: IssuedTicket[]): Promise<unknown> {
    const { input } = this;
    return this.act.notifications
      .notifyBooking({
        kind,
        bookingId: input.bookingId,
        userId: input.userId,
        showtimeId: input.showtimeId,
        seatIds: input.seatIds,
        amountMinor: input.amountMinor,
        currency: input.currency,
        ...(tickets ? { tickets } : {}),
        idempotencyKey: `${input.bookingId}:${kind}`,
      })
      .catch((err: unknown) => log.warn("notification not sent", { kind, error: String(err) }));
  }
}
