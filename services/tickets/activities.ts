import { Code } from "@connectrpc/connect";
import { ApplicationFailure } from "@temporalio/common";
import { AppError } from "../../lib/errors.js";
import type { TicketActivities } from "../../workflows/ticket-types.js";
import type { TicketOffice } from "./ticket-office.js";

/** Codes that mean the request itself is wrong: retrying cannot help. */
const BUSINESS_REJECTIONS = new Set([Code.InvalidArgument, Code.AlreadyExists, Code.FailedPrecondition, Code.NotFound]);

/**
 * A business rejection becomes ApplicationFailure.nonRetryable (the workflow sees it at once);
 * anything else (Postgres or the users service down) stays a plain error, retried by the
 * workflow's retry policy.
 */
async function asActivity<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && BUSINESS_REJECTIONS.has(err.code)) {
      throw ApplicationFailure.nonRetryable(err.message, `${what}Rejected`);
    }
    throw err;
  }
}

/**
 * The tickets service's Temporal activities (task queue `tickets-activities`), called by the
 * booking workflow: the same TicketOffice as the IssueTickets and VoidTickets RPCs.
 */
export function createTicketActivities(deps: { office: TicketOffice }): TicketActivities {
  return {
    async issueTickets(input) {
      const tickets = await asActivity("IssueTickets", () => deps.office.issue(input));
      return { tickets: tickets.map((t) => ({ ticketId: t.ticketId, seatId: t.seatId, payload: t.payload })) };
    },
    async voidTickets({ bookingId }) {
      return { voided: await asActivity("VoidTickets", () => deps.office.void(bookingId)) };
    },
  };
}
