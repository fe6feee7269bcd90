import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import {
  BOOKING_WORKFLOW,
  bookingWorkflowId,
  SIGNALS,
  UPDATES,
  type BookingState,
  type BookingWorkflowInput,
  type CancelRequest,
  type PaymentEvent,
} from "../../workflows/booking-types.js";
import { SA_BOOKING_STATUS, SA_SHOWTIME_ID, SA_USER_ID } from "../../workflows/search-attributes.js";
import { TASK_QUEUES } from "../../workflows/task-queues.js";

/**
 * What the booking service asks of booking workflows (`booking-<bookingId>`). Every call has a
 * deadline: a user's request never hangs on Temporal.
 */
export interface BookingWorkflows {
  /**
   * Starts the workflow of a held booking. Idempotent: a workflow of that booking that runs (or
   * ran) already counts as started.
   */
  start(input: BookingWorkflowInput): Promise<void>;
  /** Sends the payment signal; false when the workflow no longer exists (or never did). */
  paymentSucceeded(bookingId: string, event: PaymentEvent): Promise<boolean>;
  /**
   * Runs the cancel update and returns the workflow's new state once the cancel was carried
   * out; undefined when the workflow no longer runs.
   */
  cancel(bookingId: string, request: CancelRequest): Promise<BookingState | undefined>;
  /** Whether the workflow is running; throws when Temporal cannot tell (the caller must not guess). */
  isRunning(bookingId: string): Promise<boolean>;
}

export interface TemporalWorkflowsOptions {
  /** The workflows' task queue (tests use a suffixed one). */
  taskQueue?: string;
  /** Deadline of a start or a signal. */
  callTimeoutMs?: number;
  /** Deadline of the cancel update (which waits for the workflow to release the seats). */
  updateTimeoutMs?: number;
}

export function temporalBookingWorkflows(client: Client, opts: TemporalWorkflowsOptions = {}): BookingWorkflows {
  const taskQueue = opts.taskQueue ?? TASK_QUEUES.workflows;
  const callMs = opts.callTimeoutMs ?? 5_000;
  const updateMs = opts.updateTimeoutMs ?? 15_000;
  const within = <T>(ms: number, fn: () => Promise<T>) => client.withDeadline(Date.now() + ms, fn);
  const handle = (bookingId: string) => client.workflow.getHandle(bookingWorkflowId(bookingId));
  const notFound = <T>(value: T) => (err: unknown): T => {
    if (err instanceof WorkflowNotFoundError) return value;
    throw err;
  };

  return {
    async start(input) {
      await within(callMs, () =>
        client.workflow.start(BOOKING_WORKFLOW, {
          taskQueue,
          workflowId: bookingWorkflowId(input.bookingId),
          // one run per booking, ever: a retried start must not begin a second one after the first ended
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [input],
          typedSearchAttributes: [
            { key: SA_SHOWTIME_ID, value: input.showtimeId },
            { key: SA_USER_ID, value: input.userId },
            { key: SA_BOOKING_STATUS, value: "held" },
          ],
          memo: input.requestId ? { requestId: input.requestId } : undefined,
        }),
      ).catch((err: unknown) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      });
    },

    async paymentSucceeded(bookingId, event) {
      return within(callMs, () => handle(bookingId).signal(SIGNALS.paymentSucceeded, event)).then(() => true, notFound(false));
    },

    async cancel(bookingId, request) {
      return within(updateMs, () => handle(bookingId).executeUpdate<BookingState, [CancelRequest]>(UPDATES.cancel, { args: [request] })).catch(
        notFound(undefined),
      );
    },

    async isRunning(bookingId) {
      return within(callMs, () => handle(bookingId).describe()).then((d) => d.status.name === "RUNNING", notFound(false));
    },
  };
}
