import { ApplicationFailure } from "@temporalio/activity";
import { Code } from "@connectrpc/connect";
import { AppError } from "../../lib/errors.js";
import type { PaymentActivities } from "../../workflows/booking-types.js";
import { ProviderError } from "./providers/provider.js";
import type { Payments } from "./payments.js";

/**
 * Business rejections become non-retryable failures; anything transient (the provider or the
 * database unreachable) is thrown as is, so Temporal retries the activity with the same
 * idempotency keys.
 */
function asActivityError(err: unknown): unknown {
  if (err instanceof AppError && [Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition, Code.AlreadyExists].includes(err.code)) {
    return ApplicationFailure.nonRetryable(err.message, `payments.${Code[err.code]}`);
  }
  if (err instanceof ProviderError && err.kind !== "unavailable") {
    return ApplicationFailure.nonRetryable(err.message, `payments.provider.${err.kind}`, err.providerCode);
  }
  return err;
}

/** The payments activities the booking workflow calls (task queue TASK_QUEUES.payments). */
export function createPaymentActivities(payments: Payments): PaymentActivities {
  return {
    async cancelPaymentIntent({ bookingId }) {
      try {
        return await payments.cancelForBooking(bookingId, "abandoned");
      } catch (err) {
        throw asActivityError(err);
      }
    },
    async refundBooking({ bookingId, reason }) {
      try {
        return await payments.refundBooking(bookingId, reason);
      } catch (err) {
        throw asActivityError(err);
      }
    },
  };
}
