import type { Logger } from "../../lib/logger.js";
import { PollLoop } from "../../lib/poll-loop.js";
import type { BookingWorkflowInput } from "../../workflows/booking-types.js";
import type { BookingRecord } from "./db/bookings-repo.js";
import type { PendingWorkflowStart, StartQueueRepo } from "./db/start-queue-repo.js";
import type { BookingWorkflows } from "../../workflows/booking-client.js";

/**
 * Starts the booking workflows of committed holds (docs/adr/0002-hold-before-workflow-start.md).
 *
 * A hold writes its seats, its booking row and a `workflow_starts` row in one transaction and
 * answers at once; starting the workflow is this starter's job. The hold kicks it; otherwise it
 * looks every `pollMs`, or when a failed start's retry falls due (lib/poll-loop.ts). It keeps up to `concurrency`
 * starts in flight, leasing rows so that replicas share the work without starting anything
 * twice, deletes a row once its workflow runs, and retries a failed start with backoff (1 s, 2 s,
 * 4 s … at most 60 s), so a Temporal outage delays workflows but loses none. A start is
 * idempotent (the workflow id is the booking's; a second start finds it), so a crash between
 * starting and deleting changes nothing.
 *
 * Everything that talks to a booking's workflow first calls `ensureStarted`, which starts it
 * inline when the starter has not got to it yet: a payment is never prepared, confirmed or
 * cancelled for a booking whose workflow does not run.
 */
/** A held booking's workflow input: the hold's outcome (the first event of the workflow's history). */
export function workflowInputOf(booking: BookingRecord, requestId?: string): BookingWorkflowInput {
  return {
    bookingId: booking.id,
    showtimeId: booking.showtimeId,
    userId: booking.userId,
    seatIds: booking.seatIds,
    heldUntil: booking.heldUntil.toISOString(),
    showStartsAt: booking.startsAt.toISOString(),
    amountMinor: booking.amountMinor,
    currency: booking.currency,
    requestId,
  };
}

export interface WorkflowStarterOptions {
  /** The queue of starts (workflow_starts). */
  queue: StartQueueRepo;
  workflows: BookingWorkflows;
  logger: Logger;
  /** Starts in flight at once in this process. Default 16. */
  concurrency?: number;
  /** How often the table is looked at when no hold kicked the starter. Default 1 s. */
  pollMs?: number;
  /** How long a claimed row is the claimer's before another starter may take it. Default 30 s. */
  leaseSeconds?: number;
}

export class WorkflowStarter {
  private readonly concurrency: number;
  private readonly leaseSeconds: number;
  private readonly loop: PollLoop;
  private running = false;
  private inFlight = 0;
  /** This process's starts in flight, by booking: ensureStarted waits for one rather than racing it. */
  private readonly starting = new Map<string, Promise<unknown>>();
  private readonly settledWaiters: Array<() => void> = [];
  private lastBacklogCheck = 0;

  constructor(private readonly opts: WorkflowStarterOptions) {
    this.concurrency = opts.concurrency ?? 16;
    this.leaseSeconds = opts.leaseSeconds ?? 30;
    this.loop = new PollLoop({
      name: "workflow starter",
      logger: opts.logger,
      runOnce: async () => {
        const claimed = await this.pump();
        await this.warnOfBacklog();
        return claimed;
      },
      // the next failed start's retry, when it comes before the next poll
      nextDueAt: () => opts.queue.nextDue(),
      // pump claims until nothing is due; only a kick that came meanwhile runs it again at once
      batchSize: Number.POSITIVE_INFINITY,
      pollMs: opts.pollMs ?? 1_000,
    });
  }

  /** Starts polling (and answering kicks). */
  start(): void {
    this.running = true;
    this.loop.start();
  }

  /** Stops claiming and waits for the starts in flight; rows not yet claimed stay for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop.stop();
    while (this.inFlight > 0) await this.oneSettled();
  }

  /** A hold has just committed: start its workflow now rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /**
   * Starts the booking's workflow now if it is still waiting to be started; returns when it runs
   * (or ran). Throws when Temporal cannot start it: the caller must not go on as if it ran.
   */
  async ensureStarted(bookingId: string): Promise<void> {
    const inFlight = this.starting.get(bookingId);
    if (inFlight) await inFlight; // it either started the workflow (row gone) or failed (row stays)
    const input = await this.opts.queue.pending(bookingId);
    if (input === undefined) return;
    await this.opts.workflows.start(input as BookingWorkflowInput);
    await this.opts.queue.done([bookingId]);
  }

  /** Claims and starts what is due until nothing is; resolves when every start has settled (tests, tools). */
  async drain(): Promise<void> {
    await this.pump(true);
    while (this.inFlight > 0) await this.oneSettled();
  }

  /** Once a minute at most: a warning for operators when starts have waited longer than that. */
  private async warnOfBacklog(): Promise<void> {
    if (Date.now() - this.lastBacklogCheck < 60_000) return;
    this.lastBacklogCheck = Date.now();
    const backlog = await this.opts.queue.backlog().catch(() => undefined);
    if (backlog && backlog.oldestSeconds > 60) {
      this.opts.logger.warn(backlog, "booking workflows have waited over a minute to be started (is Temporal reachable?); their holds are safe, payments wait");
    }
  }

  /**
   * Keeps up to `concurrency` starts in flight while rows are due, until the starter stops (what
   * is left then stays queued for the next start of the service; `drain` goes on regardless).
   * Returns how many rows it claimed.
   */
  private async pump(regardless = false): Promise<number> {
    let claimedTotal = 0;
    for (;;) {
      if (!this.running && !regardless) return claimedTotal;
      const room = this.concurrency - this.inFlight;
      if (room <= 0) {
        await this.oneSettled();
        continue;
      }
      const claimed = await this.opts.queue.claim(room, this.leaseSeconds);
      for (const row of claimed) this.launch(row);
      claimedTotal += claimed.length;
      if (claimed.length < room) return claimedTotal; // nothing more due right now
    }
  }

  private launch(row: PendingWorkflowStart): void {
    this.inFlight++;
    const { queue, workflows, logger } = this.opts;
    const started = workflows
      .start(row.input as BookingWorkflowInput)
      .then(
        () => queue.done([row.bookingId]),
        (err: unknown) => {
          const retryIn = Math.min(60, 2 ** Math.min(row.attempts - 1, 6));
          logger.warn({ err, bookingId: row.bookingId, attempts: row.attempts, retryInSeconds: retryIn }, "booking workflow did not start; will retry");
          return queue.failed(row.bookingId, String((err as Error)?.message ?? err), retryIn);
        },
      )
      .catch((err: unknown) => logger.error({ err, bookingId: row.bookingId }, "workflow starter could not record a start; its lease runs out and it is retried"))
      .finally(() => {
        this.inFlight--;
        this.starting.delete(row.bookingId);
        this.settledWaiters.splice(0).forEach((wake) => wake());
      });
    this.starting.set(row.bookingId, started);
  }

  private oneSettled(): Promise<void> {
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }
}
