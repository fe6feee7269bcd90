import type { BookingNotificationKind } from "../../../workflows/notification-types.js";

/** The templates, as the contract spells them (Notification.kind). */
export const NOTIFICATION_KINDS = [
  "booking_confirmed",
  "booking_cancelled",
  "booking_refunded",
  "payment_failed",
  "hold_expired",
  "showtime_reminder",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const CHANNELS = ["email", "sms"] as const;
export type Channel = (typeof CHANNELS)[number];

export const STATUSES = ["pending", "sent", "failed"] as const;
export type NotificationStatus = (typeof STATUSES)[number];

export function isNotificationKind(s: string): s is NotificationKind {
  return (NOTIFICATION_KINDS as readonly string[]).includes(s);
}

export function isChannel(s: string): s is Channel {
  return (CHANNELS as readonly string[]).includes(s);
}

/**
 * The booking workflow's kinds (workflows/notification-types.ts) → the contract's. Three are
 * spelled differently there; the message log and the API always use the contract's names.
 */
const FROM_WORKFLOW: Record<BookingNotificationKind, NotificationKind> = {
  booking_confirmed: "booking_confirmed",
  booking_expired: "hold_expired",
  payment_failed: "payment_failed",
  booking_cancelled: "booking_cancelled",
  refund_issued: "booking_refunded",
  show_reminder: "showtime_reminder",
};

/** Undefined for a kind this build does not know (a newer workflow). */
export function kindFromWorkflow(kind: string): NotificationKind | undefined {
  return Object.prototype.hasOwnProperty.call(FROM_WORKFLOW, kind) ? FROM_WORKFLOW[kind as BookingNotificationKind] : undefined;
}
