import type { BookingStatus } from "../../../workflows/booking-types.js";

/*
 * Rules about a booking's status. The statuses themselves (BookingStatus, PaymentStatus) are the
 * booking workflow's contract and are declared once, in workflows/booking-types.ts.
 */

/** Booking states after which nothing changes any more (apart from a refund's payment status). */
export const INACTIVE_STATUSES: readonly BookingStatus[] = ["expired", "cancelled", "payment_failed"];
