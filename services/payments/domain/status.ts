/**
 * PaymentIntent states (Stripe's) and what the platform makes of them. Pure.
 */

export type IntentStatus =
  | "requires_payment_method"
  | "requires_confirmation"
  | "requires_action"
  | "processing"
  | "requires_capture"
  | "succeeded"
  | "canceled";

/** The public contract's `paymentStatus` of a booking. */
export type BookingPaymentStatus = "pending" | "paid" | "failed" | "refunded";

/** States from which an intent can still be paid, and so can (and should) be cancelled. */
export const CANCELABLE: readonly string[] = ["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"];

/** Final states: nothing changes an intent once there (refunds are separate objects). */
export const FINAL: readonly string[] = ["succeeded", "canceled"];

export const isCancelable = (status: string) => CANCELABLE.includes(status);
export const isFinal = (status: string) => FINAL.includes(status);

/**
 * Whether a status reported now may replace the one we have. Provider answers and webhooks arrive
 * in any order (a `payment_failed` event may be delivered after the `succeeded` of a retry with
 * another card): a final state is never left, and `processing` only moves forward.
 */
export function mayMove(from: string, to: string): boolean {
  if (from === to) return false;
  if (isFinal(from)) return false;
  if (from === "processing" && !isFinal(to) && to !== "requires_payment_method") return false;
  return true;
}

/** An attempt whose payment failed (declined, or needs an authentication a server cannot do). */
export function isFailedAttempt(intent: { status: string; failedAt: Date | null }): boolean {
  return intent.failedAt !== null && !isFinal(intent.status) && intent.status !== "processing";
}

/** The booking's payment status from its attempts (latest last) and refunds. */
export function bookingPaymentStatus(
  attempts: Array<{ status: string; failedAt: Date | null; amountMinor: number }>,
  refundedMinor: number,
): BookingPaymentStatus {
  const paid = attempts.filter((a) => a.status === "succeeded").reduce((sum, a) => sum + a.amountMinor, 0);
  if (paid > 0 && refundedMinor >= paid) return "refunded";
  if (paid > 0) return "paid";
  const current = attempts[attempts.length - 1];
  if (current && isFailedAttempt(current)) return "failed";
  return "pending";
}

/** Stripe's `cancellation_reason` values; anything else is sent without a reason. */
export type CancellationReason = "abandoned" | "duplicate" | "fraudulent" | "requested_by_customer";

export function cancellationReason(reason: string | undefined): CancellationReason | undefined {
  return reason === "abandoned" || reason === "duplicate" || reason === "fraudulent" || reason === "requested_by_customer"
    ? reason
    : undefined;
}
