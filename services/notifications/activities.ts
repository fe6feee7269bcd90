import { Code } from "@connectrpc/connect";
import { ApplicationFailure } from "@temporalio/common";
import { AppError } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { MAX_PAYLOAD_LENGTH } from "../../lib/ticket-payload.js";
import type { BookingNotification, NotificationActivities } from "../../workflows/notification-types.js";
import type { IssuedTicket } from "../../workflows/ticket-types.js";
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
 *   - a bug (unknown kind, malformed tickets, an idempotency key reused for another user or
 *     kind): non-retryable.
 * A user that no longer exists is not an error: nothing to send, no message ids.
 */
export function createNotificationActivities(deps: { notifier: Notifier; logger: Logger }): NotificationActivities {
  return {
    async notifyBooking(input: BookingNotification) {
      const kind = kindFromWorkflow(input.kind);
      if (!kind) throw ApplicationFailure.nonRetryable(`unknown notification kind ${JSON.stringify(input.kind)}`, "UnknownKind");
      const bad = input.tickets === undefined ? undefined : badTickets(input.tickets);
      if (bad) throw ApplicationFailure.nonRetryable(`tickets: ${bad}`, "BadTickets");
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
          tickets: input.tickets,
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

/** What is wrong with the tickets the workflow passed (undefined: nothing); the signature is not ours to check. */
function badTickets(tickets: unknown): string | undefined {
  if (!Array.isArray(tickets)) return "must be a list";
  const ok = (t: Partial<IssuedTicket>) =>
    typeof t.ticketId === "string" &&
    t.ticketId !== "" &&
    typeof t.seatId === "string" &&
    typeof t.payload === "string" &&
    t.payload !== "" &&
    t.payload.length <= MAX_PAYLOAD_LENGTH;
  const i = tickets.findIndex((t: unknown) => typeof t !== "object" || t === null || !ok(t));
  return i >= 0 ? `[${i}] needs a ticketId, a seatId and a payload of at most ${MAX_PAYLOAD_LENGTH} characters` : undefined;
}
