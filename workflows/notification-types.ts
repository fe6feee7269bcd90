/**
 * The notifications service's activities, called by the booking workflow (task queue
 * TASK_QUEUES.notifications). Types and names only.
 */

export type BookingNotificationKind =
  | "booking_confirmed"
  | "booking_expired"
  | "payment_failed"
  | "booking_cancelled"
  | "refund_issued"
  | "show_reminder";

import type { IssuedTicket } from "./ticket-types";

export interface BookingNotification {
  kind: BookingNotificationKind;
  bookingId: string;
  userId: string;
  showtimeId: string;
  seatIds: string[];
  amountMinor: number;
  currency: string;
  /** booking_confirmed: the booking's tickets, whose QR codes the email carries. */
  tickets?: IssuedTicket[];
  /** `<bookingId>:<kind>`: a retried activity (or a replayed workflow) never sends twice. */
  idempotencyKey: string;
}

export interface NotificationActivities {
  /**
   * Records the message(s) for the user's channels (email, and SMS when the user has a phone)
   * and queues their delivery; delivery retries with backoff inside the notifications service
   * and records its final status. Returns quickly; the same idempotency key returns the same
   * messages and sends nothing new.
   */
  notifyBooking(input: BookingNotification): Promise<{ messageIds: string[] }>;
}
