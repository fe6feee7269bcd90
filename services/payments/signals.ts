import { ServiceError, WorkflowNotFoundError, isGrpcServiceError, type Client } from "@temporalio/client";
import { bookingWorkflowId, SIGNALS, type PaymentEvent } from "../../workflows/booking-types.js";

export type PaymentSignal = (typeof SIGNALS)[keyof typeof SIGNALS];

/** The booking workflow no longer runs (completed, failed, terminated) or never existed. */
export type SignalResult = "delivered" | "workflow_gone";

/** Temporal could not be reached (or did not answer in time): nothing was delivered; try again later. */
export class TemporalUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TemporalUnavailableError";
  }
}

/** What the payments service tells booking workflows (`booking-<bookingId>`). */
export interface BookingSignals {
  /** Throws TemporalUnavailableError when Temporal cannot be reached. */
  signal(bookingId: string, name: PaymentSignal, event: PaymentEvent): Promise<SignalResult>;
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

/** Signals through a Temporal client, each call with a deadline: a webhook never hangs on Temporal. */
export function temporalBookingSignals(client: Client, opts: { timeoutMs?: number } = {}): BookingSignals {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return {
    async signal(bookingId, name, event) {
      try {
        await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(bookingWorkflowId(bookingId)).signal(name, event));
        return "delivered";
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return "workflow_gone";
        if (isTemporalUnreachable(err)) throw new TemporalUnavailableError(`Temporal unreachable: ${(err as Error).message}`, { cause: err });
        throw err;
      }
    },
  };
}
