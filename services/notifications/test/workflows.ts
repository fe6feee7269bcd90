/**
 * A test-only workflow that calls notifyBooking the way the booking workflow does (activity
 * types only, the notifications queue derived from the workflow's own queue), so the suite runs
 * the activity through a real Temporal server and the service's own worker.
 */
import { proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { BookingNotification, NotificationActivities } from "../../../workflows/notification-types";
import { activityQueue } from "../../../workflows/task-queues";

export async function notifyBookingTestWorkflow(input: BookingNotification): Promise<{ messageIds: string[] }> {
  const { notifyBooking } = proxyActivities<NotificationActivities>({
    taskQueue: activityQueue("notifications", workflowInfo().taskQueue),
    startToCloseTimeout: "30 seconds",
    retry: { maximumAttempts: 3 },
  });
  return notifyBooking(input);
}
