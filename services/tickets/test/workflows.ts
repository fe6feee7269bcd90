/**
 * Test-only workflows that call the tickets activities the way the booking workflow does
 * (activity types only, the tickets queue derived from the workflow's own queue), so the suite
 * runs them through a real Temporal server and the service's own worker.
 */
import { proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { IssueTicketsInput, IssuedTicket, TicketActivities } from "../../../workflows/ticket-types";
import { activityQueue } from "../../../workflows/task-queues";

function activities() {
  return proxyActivities<TicketActivities>({
    taskQueue: activityQueue("tickets", workflowInfo().taskQueue),
    startToCloseTimeout: "30 seconds",
    retry: { maximumAttempts: 3 },
  });
}

export async function issueTicketsTestWorkflow(input: IssueTicketsInput): Promise<{ tickets: IssuedTicket[] }> {
  return activities().issueTickets(input);
}

export async function voidTicketsTestWorkflow(bookingId: string): Promise<{ voided: number }> {
  return activities().voidTickets({ bookingId });
}
