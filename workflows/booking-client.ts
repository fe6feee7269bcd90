/**
 * The one way services talk to a booking workflow (`booking-<bookingId>`): the booking service
 * starts it, cancels through it and relays ConfirmBooking; the payments service relays the
 * payment provider's outcomes. Every call has a deadline, so a user's request or a webhook never
 * hangs on Temporal. Client-side code: workflow code never imports this file.
 */
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  isGrpcServiceError,
  type Client,
} from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import {
  BOOKING_WORKFLOW,
  bookingWorkflowId,
  cancelBookingUpdate,
  PAYMENT_SIGNALS,
  type BookingState,
  type BookingWorkflowInput,
  type CancelRequest,
  type PaymentEvent,
  type PaymentSignal,
} from "./booking-types";
import { SA_BOOKING_STATUS, SA_SHOWTIME_ID, SA_USER_ID } from "./search-attributes";
import { runsInBookingService, TASK_QUEUES } from "./task-queues";

/** "workflow_gone": the booking workflow no longer runs (completed, failed, terminated) or never existed. */
export type SignalResult = "delivered" | "workflow_gone";

/** Temporal could not be reached (or did not answer in time): nothing was delivered; try again later. */
export class TemporalUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TemporalUnavailableError";
  }
}

export interface BookingWorkflows {
  /**
   * Starts the workflow of a held booking. Idempotent: a workflow of that booking that runs (or
   * ran) already counts as started. `eagerlyStarted`: its first workflow task came back with the
   * start and runs in this process (BookingWorkflowsOptions.eager).
   */
  start(input: BookingWorkflowInput): Promise<{ eagerlyStarted: boolean }>;
  /**
   * Sends a payment signal. Throws TemporalUnavailableError when Temporal cannot be reached, so
   * the caller can answer "retry later" (a webhook then gets redelivered).
   */
  signal(bookingId: string, name: PaymentSignal, event: PaymentEvent): Promise<SignalResult>;
  /**
   * Runs the cancel update and returns the workflow's new state once the cancel was carried
   * out; undefined when the workflow no longer runs.
   */
  cancel(bookingId: string, request: CancelRequest): Promise<BookingState | undefined>;
  /** Whether the workflow is running; throws when Temporal cannot tell (the caller must not guess). */
  isRunning(bookingId: string): Promise<boolean>;
}

/** The part of the client the payments service uses: relaying the provider's outcomes. */
export type BookingSignals = Pick<BookingWorkflows, "signal">;

export interface BookingWorkflowsOptions {
  /** The workflows' task queue (tests use a suffixed one). Default TASK_QUEUES.bookingWorkflows. */
  taskQueue?: string;
  /**
   * A client on the connection of this process's own worker of `taskQueue`, while it runs: starts
   * go through it with eager start (the first workflow task comes back with the start's answer
   * and runs here). Undefined, or returning undefined: a plain start through `client`.
   */
  eager?: () => Client | undefined;
  /** Deadline of a start, a signal or a describe. Default 5 s. */
  callTimeoutMs?: number;
  /** Deadline of the cancel update (which waits for the workflow to release the seats). Default 15 s. */
  updateTimeoutMs?: number;
}

/** gRPC status codes that mean "not reached / not answered": CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const TRANSIENT = new Set<number>([1, 4, 8, 14]);

/** Whether a Temporal client error means "could not reach Temporal" rather than a refusal. */
export function isTemporalUnreachable(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (isGrpcServiceError(grpc)) return TRANSIENT.has(grpc.code);
  const message = (err as Error)?.message ?? "";
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|TransportError|Failed to connect|connection/i.test(message);
}

export function bookingWorkflows(client: Client, opts: BookingWorkflowsOptions = {}): BookingWorkflows {
  const taskQueue = opts.taskQueue ?? TASK_QUEUES.bookingWorkflows;
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
      const eager = opts.eager?.();
      const starter = eager ?? client;
      return starter.withDeadline(Date.now() + callMs, () =>
        starter.workflow.start(BOOKING_WORKFLOW, {
          taskQueue,
          requestEagerStart: eager !== undefined,
          workflowId: bookingWorkflowId(input.bookingId),
          // one run per booking, ever: a retried start must not begin a second one after the first ended
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          // the history records whether its booking activities are local (workflows/booking.ts)
          args: [{ ...input, activitiesLocal: runsInBookingService(taskQueue) }],
          typedSearchAttributes: [
            { key: SA_SHOWTIME_ID, value: input.showtimeId },
            { key: SA_USER_ID, value: input.userId },
            { key: SA_BOOKING_STATUS, value: "held" },
          ],
          memo: input.requestId ? { requestId: input.requestId } : undefined,
        }),
      ).then(
        (handle) => ({ eagerlyStarted: handle.eagerlyStarted }),
        (err: unknown) => {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          return { eagerlyStarted: false };
        },
      );
    },

    async signal(bookingId, name, event) {
      try {
        await within(callMs, () => handle(bookingId).signal(PAYMENT_SIGNALS[name], event));
        return "delivered";
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return "workflow_gone";
        if (isTemporalUnreachable(err)) throw new TemporalUnavailableError(`Temporal unreachable: ${(err as Error).message}`, { cause: err });
        throw err;
      }
    },

    async cancel(bookingId, request) {
      return within(updateMs, () => handle(bookingId).executeUpdate(cancelBookingUpdate, { args: [request] })).catch(notFound(undefined));
    },

    async isRunning(bookingId) {
      return within(callMs, () => handle(bookingId).describe()).then((d) => d.status.name === "RUNNING", notFound(false));
    },
  };
}
