/**
 * Payment provider idempotency keys, derived from the booking (the workflow's business key), the step and
 * the attempt, so a retried step (an activity retry, a repeated RPC, a redelivered webhook) sends
 * the same key and the provider answers with the first result instead of acting twice.
 */

/** Creating the PaymentIntent of attempt `attempt` (0 = the booking's first). */
export const intentKey = (bookingId: string, attempt: number) => `booking-${bookingId}-attempt-${attempt}`;

/** Confirming that intent server-side with a payment method. */
export const confirmKey = (bookingId: string, attempt: number, paymentMethodId: string) =>
  `${intentKey(bookingId, attempt)}-confirm-${paymentMethodId}`;

/** Cancelling that intent (hold expired, booking cancelled, superseded by a new attempt). */
export const cancelKey = (bookingId: string, attempt: number) => `${intentKey(bookingId, attempt)}-cancel`;

/** The refund of what was paid for a booking: one per booking, ever. */
export const bookingRefundKey = (bookingId: string) => `refund-${bookingId}`;
