/**
 * The safety net behind the booking workflow's timer: a Temporal schedule (`booking-hold-reaper`,
 * created by the booking service) runs this every minute; it releases holds past heldUntil
 * whose workflow is gone and reconciles seat states with booking records.
 */
import { proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { BookingActivities } from "./booking-types";
import { activityQueue } from "./task-queues";

export async function holdReaperWorkflow(): Promise<{ released: number; reconciled: number }> {
  const booking = proxyActivities<BookingActivities>({
    taskQueue: activityQueue("booking", workflowInfo().taskQueue),
    startToCloseTimeout: "2 minutes",
    retry: { maximumAttempts: 3 },
  });
  return booking.reapExpiredHolds({ limit: 1000 });
}
