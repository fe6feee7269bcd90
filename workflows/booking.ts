/**
 * The booking workflow: one per booking, id `booking-<bookingId>`, started by the booking service
 * right after the seats were held in Postgres (the hold's outcome is this workflow's input, so
 * its history records it).
 *
 *   held ──paymentSucceeded──▶ confirm seats ──▶ confirmed ──cancel (before the show)──▶ release, refund
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
 * Every outcome is notified (confirmed, expired, payment failed, cancelled, refunded) through the
 * notifications service's activity, and a reminder goes out `reminderLeadMinutes` before the
 * show unless the booking was cancelled by then; the reminder is a durable timer like the hold's.
 * Notifications never hold up or fail the booking: they run alongside, with their own deadline,
 * and the workflow only waits for them (whatever their outcome) before it completes.
 */
import {
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import {
  QUERIES,
  SIGNALS,
  UPDATES,
  type BookingActivities,
  type BookingState,
  type BookingWorkflowInput,
  type CancelRequest,
  type PaymentActivities,
  type PaymentEvent,
} from "./booking-types";
import type { BookingNotificationKind, NotificationActivities } from "./notification-types";
import { SA_BOOKING_STATUS } from "./search-attributes";
import { activityQueue } from "./task-queues";

export const paymentPreparedSignal = defineSignal<[PaymentEvent]>(SIGNALS.paymentPrepared);
export const paymentSucceededSignal = defineSignal<[PaymentEvent]>(SIGNALS.paymentSucceeded);
export const paymentFailedSignal = defineSignal<[PaymentEvent]>(SIGNALS.paymentFailed);
export const cancelBookingUpdate = defineUpdate<BookingState, [CancelRequest]>(UPDATES.cancel);
export const bookingStateQuery = defineQuery<BookingState>(QUERIES.state);

/** How long a released booking still refunds a payment that arrives late, at the least. */
const MIN_LATE_PAYMENT_WINDOW_MS = 60 * 60 * 1000;

type Decision = { kind: "paid"; payment: PaymentEvent } | { kind: "cancel"; request: CancelRequest };

/** Mutable flags the handlers set; a function keeps TypeScript from narrowing them across awaits. */
function flags() {
  return {
    decision: undefined as Decision | undefined,
    cancelOfConfirmed: undefined as CancelRequest | undefined,
  };
}

export async function bookingWorkflow(input: BookingWorkflowInput): Promise<BookingState> {
  const queue = workflowInfo().taskQueue;
  const booking = proxyActivities<BookingActivities>({
    taskQueue: activityQueue("booking", queue),
    startToCloseTimeout: "30 seconds",
    retry: { initialInterval: "1 second", maximumInterval: "30 seconds" }, // until it works: seats must not leak
  });
  const payments = proxyActivities<PaymentActivities>({
    taskQueue: activityQueue("payments", queue),
    startToCloseTimeout: "30 seconds",
    retry: { initialInterval: "1 second", maximumInterval: "1 minute" },
  });
  // Cancelling an open payment intent on expiry must not hold up the release of the seats for
  // long: a late payment is refunded anyway.
  const paymentsBestEffort = proxyActivities<PaymentActivities>({
    taskQueue: activityQueue("payments", queue),
    startToCloseTimeout: "30 seconds",
    scheduleToCloseTimeout: "2 minutes",
  });

  const notifications = proxyActivities<NotificationActivities>({
    taskQueue: activityQueue("notifications", queue),
    startToCloseTimeout: "30 seconds",
    scheduleToCloseTimeout: "10 minutes",
  });
  const pendingNotifications: Promise<unknown>[] = [];
  const notify = (kind: BookingNotificationKind) => {
    pendingNotifications.push(
      notifications
        .notifyBooking({
          kind,
          bookingId: input.bookingId,
          userId: input.userId,
          showtimeId: input.showtimeId,
          seatIds: input.seatIds,
          amountMinor: input.amountMinor,
          currency: input.currency,
          idempotencyKey: `${input.bookingId}:${kind}`,
        })
        .catch((err: unknown) => log.warn("notification not sent", { kind, error: String(err) })),
    );
  };
  const finish = async (): Promise<BookingState> => {
    await Promise.all(pendingNotifications);
    return { ...state };
  };

  const state: BookingState = { bookingId: input.bookingId, status: "held", paymentStatus: "pending" };
  const f = flags();
  let paymentPrepared = false;
  let paymentFailed: PaymentEvent | undefined;
  const latePayments: PaymentEvent[] = [];

  const setStatus = (status: BookingState["status"], paymentStatus = state.paymentStatus) => {
    state.status = status;
    state.paymentStatus = paymentStatus;
    upsertSearchAttributes([{ key: SA_BOOKING_STATUS, value: status }]);
  };

  setHandler(bookingStateQuery, () => ({ ...state }));
  setHandler(paymentPreparedSignal, () => {
    paymentPrepared = true;
  });
  setHandler(paymentSucceededSignal, (payment) => {
    if (state.status === "held") f.decision ??= { kind: "paid", payment };
    else if (state.status !== "confirmed") latePayments.push(payment); // seats already released
    // a duplicate for a confirmed booking changes nothing
  });
  setHandler(paymentFailedSignal, (payment) => {
    if (state.status === "held" && f.decision === undefined) {
      paymentFailed = payment;
      state.paymentStatus = "failed"; // still held: a retry with another card may succeed
    }
  });
  setHandler(
    cancelBookingUpdate,
    async (request) => {
      if (state.status === "held") f.decision ??= { kind: "cancel", request };
      else if (state.status === "confirmed") f.cancelOfConfirmed ??= request;
      // answer once the cancel (or whatever came first) has been carried out
      await condition(() => state.status !== "held" && !(state.status === "confirmed" && f.cancelOfConfirmed));
      return { ...state };
    },
  );

  // ── held: wait for the payment, a cancel, or the timer ──
  const holdMs = Math.max(0, Date.parse(input.heldUntil) - Date.now());
  await condition(() => f.decision !== undefined, holdMs);
  const decision = f.decision;

  if (decision?.kind === "paid") {
    const { outcome } = await booking.confirmBookingSeats({
      bookingId: input.bookingId,
      paymentIntentId: decision.payment.paymentIntentId,
    });
    if (outcome === "confirmed") {
      setStatus("confirmed", "paid");
      log.info("booking confirmed", { bookingId: input.bookingId });
      notify("booking_confirmed");
      const cancelled = () => f.cancelOfConfirmed !== undefined;
      const leadMs = (input.reminderLeadMinutes ?? 120) * 60_000;
      const showAt = Date.parse(input.showStartsAt);
      if (leadMs > 0 && showAt - leadMs > Date.now()) {
        await condition(cancelled, showAt - leadMs - Date.now());
        if (!cancelled()) notify("show_reminder");
      }
      await condition(cancelled, Math.max(0, showAt - Date.now()));
      if (f.cancelOfConfirmed) {
        await booking.releaseConfirmedBooking({ bookingId: input.bookingId });
        setStatus("cancelled");
        notify("booking_cancelled");
        await payments.refundBooking({ bookingId: input.bookingId, reason: "cancelled by customer" });
        await booking.setPaymentStatus({ bookingId: input.bookingId, paymentStatus: "refunded" });
        state.paymentStatus = "refunded";
        notify("refund_issued");
      }
      return finish();
    }
    // The seats were not ours any more (never while we wait; only if someone released them by
    // hand): the customer paid for nothing, so refund.
    log.warn("payment arrived but the hold was lost; refunding", { bookingId: input.bookingId });
    await booking.releaseBookingHold({ bookingId: input.bookingId, status: "expired" });
    setStatus("expired", "paid");
    notify("booking_expired");
    await refund(input, payments, booking, state, "hold lost");
    notify("refund_issued");
    return finish();
  }

  if (decision?.kind === "cancel") {
    if (paymentPrepared) await paymentsBestEffort.cancelPaymentIntent({ bookingId: input.bookingId }).catch(() => undefined);
    await booking.releaseBookingHold({ bookingId: input.bookingId, status: "cancelled" });
    setStatus("cancelled");
    notify("booking_cancelled");
  } else {
    // the timer fired first: no payment can complete for released seats, so cancel the intent first
    if (paymentPrepared) await paymentsBestEffort.cancelPaymentIntent({ bookingId: input.bookingId }).catch(() => undefined);
    const final = paymentFailed ? "payment_failed" : "expired";
    await booking.releaseBookingHold({ bookingId: input.bookingId, status: final });
    setStatus(final);
    notify(final === "payment_failed" ? "payment_failed" : "booking_expired");
  }

  // ── released: refund any payment that still succeeds, exactly once ──
  const lateWindow = Math.max(MIN_LATE_PAYMENT_WINDOW_MS, Date.parse(input.showStartsAt) - Date.now());
  if (await condition(() => latePayments.length > 0, lateWindow)) {
    log.warn("payment succeeded after the seats were released; refunding", { bookingId: input.bookingId });
    state.paymentStatus = "paid";
    await refund(input, payments, booking, state, "paid after the hold was released");
    notify("refund_issued");
  }
  return finish();
}

async function refund(
  input: BookingWorkflowInput,
  payments: PaymentActivities,
  booking: BookingActivities,
  state: BookingState,
  reason: string,
): Promise<void> {
  await payments.refundBooking({ bookingId: input.bookingId, reason });
  await booking.setPaymentStatus({ bookingId: input.bookingId, paymentStatus: "refunded" });
  state.paymentStatus = "refunded";
}
