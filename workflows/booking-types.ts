/**
 * The booking workflow's contract with the services: its input, its signals/updates/queries, and
 * the activities it calls on other services' task queues. Workflow code imports this file; the
 * activities implement the interfaces (services/<name>/activities.ts); the one client that
 * services use to talk to a booking workflow is `booking-client.ts`. Types, names and the
 * signal/update/query definitions only (defineSignal & co. are plain values, safe outside a
 * workflow).
 */
import { defineQuery, defineSignal, defineUpdate } from "@temporalio/workflow";

/** Started by the booking service right after the hold committed (`booking-<bookingId>`). */
export interface BookingWorkflowInput {
  bookingId: string;
  showtimeId: string;
  userId: string;
  seatIds: string[];
  /** RFC 3339; the durable timer fires then. */
  heldUntil: string;
  /** RFC 3339 start of the show: a confirmed booking's workflow stays open until then (cancel). */
  showStartsAt: string;
  amountMinor: number;
  currency: string;
  /** How long before the show the reminder goes out (default 120 minutes; 0 = no reminder). */
  reminderLeadMinutes?: number;
  /**
   * The booking activities are local to the workflow's worker: it runs in the booking service
   * (TASK_QUEUES.bookingWorkflows). Set by the booking client when it starts one there; absent in
   * bookings started on the shared workflows queue before docs/adr/0005. Part of the input, so
   * the history says which way the run calls them, whichever worker replays it.
   */
  activitiesLocal?: boolean;
  requestId?: string;
}

export type BookingStatus = "held" | "confirmed" | "expired" | "cancelled" | "payment_failed";
export type PaymentStatus = "pending" | "paid" | "failed" | "refunded";

export interface BookingState {
  bookingId: string;
  status: BookingStatus;
  paymentStatus: PaymentStatus;
}

/** What a payment signal carries (from the webhook via payments, or PUT /confirm). */
export interface PaymentEvent {
  paymentIntentId?: string;
  /** The gateway's event id, for logs and de-duplication. */
  eventId?: string;
  reason?: string;
}

export interface CancelRequest {
  /** "user:<id>" or "admin:<id>" or "service:<name>". */
  by: string;
  reason?: string;
}

export const BOOKING_WORKFLOW = "bookingWorkflow";
export const bookingWorkflowId = (bookingId: string) => `booking-${bookingId}`;

/** Signal and update names (the workflow defines them with these names). */
export const SIGNALS = {
  /**
   * A payment intent now exists for the booking (so expiry must cancel it). No longer sent: the
   * booking records the attempt in its own row (BookingActivities.paymentAttempted); the workflow
   * still listens, for a payments replica of an earlier version during a rolling deploy.
   */
  paymentPrepared: "paymentPrepared",
  paymentSucceeded: "paymentSucceeded",
  paymentFailed: "paymentFailed",
} as const;
export const UPDATES = {
  cancel: "cancel",
} as const;
export const QUERIES = {
  state: "state",
} as const;

/** The typed definitions, shared by the workflow (setHandler) and its client (signal, executeUpdate). */
export const paymentPreparedSignal = defineSignal<[PaymentEvent]>(SIGNALS.paymentPrepared);
export const paymentSucceededSignal = defineSignal<[PaymentEvent]>(SIGNALS.paymentSucceeded);
export const paymentFailedSignal = defineSignal<[PaymentEvent]>(SIGNALS.paymentFailed);
export const cancelBookingUpdate = defineUpdate<BookingState, [CancelRequest]>(UPDATES.cancel);
export const bookingStateQuery = defineQuery<BookingState>(QUERIES.state);

/** The payment signals by name, for the services that relay a payment outcome. */
export type PaymentSignal = (typeof SIGNALS)[keyof typeof SIGNALS];
export const PAYMENT_SIGNALS = {
  paymentPrepared: paymentPreparedSignal,
  paymentSucceeded: paymentSucceededSignal,
  paymentFailed: paymentFailedSignal,
} as const satisfies Record<PaymentSignal, unknown>;

/**
 * Activities of the booking service, all idempotent. The booking workflow calls them as local
 * activities when it runs inside the booking service (TASK_QUEUES.bookingWorkflows); the other
 * workflows, and booking workflows started on TASK_QUEUES.workflows by earlier versions, call
 * them on TASK_QUEUES.booking.
 */
export interface BookingActivities {
  /**
   * held → booked for every seat of the booking, and the booking row → confirmed/paid, in one
   * transaction. `hold_lost` when the seats are no longer held by this booking (never happens
   * while the workflow is waiting, since only the workflow releases them; guards manual edits).
   */
  confirmBookingSeats(input: { bookingId: string; paymentIntentId?: string }): Promise<{ outcome: "confirmed" | "hold_lost" }>;
  /** Releases the booking's held seats and sets its final status. No-op when already final. */
  releaseBookingHold(input: { bookingId: string; status: "expired" | "cancelled" | "payment_failed" }): Promise<void>;
  /** Releases a confirmed booking's booked seats: status cancelled (payment status unchanged). */
  releaseConfirmedBooking(input: { bookingId: string }): Promise<void>;
  /** Sets the booking's payment status (e.g. refunded once the refund went through). */
  setPaymentStatus(input: { bookingId: string; paymentStatus: PaymentStatus }): Promise<void>;
  /**
   * Whether a payment was ever prepared for the booking (PreparePayment records that before it
   * asks payments for an intent), so a payment intent may be open: an expiring hold cancels it.
   */
  paymentAttempted(input: { bookingId: string }): Promise<{ attempted: boolean }>;
  /** ShowtimeCreated: creates the showtime's inventory from the hall's layout, exactly once. */
  initializeInventory(input: { showtimeId: string }): Promise<{ created: boolean; seats: number }>;
  /** The safety net: releases holds past heldUntil whose workflow is gone; reconciles seats. */
  reapExpiredHolds(input: { limit: number }): Promise<{ released: number; reconciled: number }>;
}

/**
 * Activities of the payments service (task queue TASK_QUEUES.payments), filled in by the
 * payments issue. Until its worker runs, the workflow must not block on them for holds that
 * never saw a payment (it only calls them when a payment intent exists).
 */
export interface PaymentActivities {
  /** Cancels the booking's open payment intent, if any (hold expiry / cancel before payment). */
  cancelPaymentIntent(input: { bookingId: string }): Promise<{ cancelled: boolean }>;
  /** Refunds what was paid for the booking, exactly once (idempotency key from the booking). */
  refundBooking(input: { bookingId: string; reason: string }): Promise<{ refunded: boolean }>;
}
