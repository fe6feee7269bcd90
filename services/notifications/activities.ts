import { Code } from "@connectrpc/connect";
import { ApplicationFailure } from "@temporalio/common";
import { AppError } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import type { BookingNotification, NotificationActivities } from "../../workflows/notification-types.js";
import { kindFromWorkflow } from "./domain/kinds.js";
import type { Notifier } from "./notifier.js";

/**
 * The notifications service's Temporal activities (task queue `notifications-activities`),
 * called by the booking workflow.
 *
 * notifyBooking records the messages and returns their ids; it never waits for delivery, and a
 * delivery failure never fails it. It throws only when it could not record anything:
 *   - a transient fault (users service, catalog or Postgres down): a plain error, retried by
 *     Temporal under the workflow's retry policy;
 *   - a bug (unknown kind, an idempotency key reused for another user or kind): non-retryable.
 * A user that no longer exists is not an error: nothing to send, no message ids.
 */
export function createNotificationActivities(deps: { notifier: Notifier; logger: Logger }): NotificationActivities {
  return {
    async notifyBooking(input: BookingNotification) {
      const kind = kindFromWorkflow(input.kind);
      if (!kind) throw ApplicationFailure.nonRetryable(`unknown notification kind ${JSON.stringify(input.kind)}`, "UnknownKind");
      try {
        const { notifications } = await deps.notifier.notify({
          idempotencyKey: input.idempotencyKey,
          userId: input.userId,
          kind,
          channels: [],
          bookingId: input.bookingId,
          facts: {
            showtimeId: input.showtimeId,
            seats: input.seatIds,
            amountMinor: input.amountMinor,
            currency: input.currency,
          },
        });
        return { messageIds: notifications.map((n) => n.id) };
      } catch (err) {
        if (err instanceof AppError && err.code === Code.NotFound) {
          deps.logger.warn({ bookingId: input.bookingId, userId: input.userId, kind }, "user not found; nothing to send");
          return { messageIds: [] };
        }
        if (err instanceof AppError && err.code === Code.AlreadyExists) {
          throw ApplicationFailure.nonRetryable(err.message, "IdempotencyKeyReused");
        }
        throw err; // transient: Temporal retries
      }
    },
  };
}
