import type { Logger } from "../../lib/logger.js";
import type { BookingWorkflowInput } from "../../workflows/booking-types.js";
import type { BookingRepo, PendingWorkflowStart } from "./db/repo.js";
import type { BookingWorkflows } from "./workflow-client.js";

/**
 * Starts the booking workflows of committed holds (docs/adr/0002-hold-before-workflow-start.md).
 *
 * A hold writes its seats, its booking row and a `workflow_starts` row in one transaction and
 * answers at once; starting the workflow is this starter's job. It keeps up to `concurrency`
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
export interface WorkflowStarterOptions {
  repo: BookingRepo;
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
  private readonly pollMs: number;
  private readonly leaseSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private kicked = false;
  private running = false;
  private inFlight = 0;
  /** This process's starts in flight, by booking: ensureStarted waits for one rather than racing it. */
  private readonly starting = new Map<string, Promise<unknown>>();
  private readonly settledWaiters: Array<() => void> = [];
  private lastBacklogCheck = 0;

  constructor(private readonly opts: WorkflowStarterOptions) {
    this.concurrency = opts.concurrency ?? 16;
    this.pollMs = opts.pollMs ?? 1_000;
    this.leaseSeconds = opts.leaseSeconds ?? 30;
  }

  /** Starts polling (and answering kicks). */
  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Stops claiming and waits for the starts in flight; rows not yet claimed stay for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.pumping;
    while (this.inFlight > 0) await this.oneSettled();
  }

  /** A hold has just committed: start its workflow now rather than at the next poll. */
  kick(): void {
    if (!this.running) return;
    if (this.pumping) this.kicked = true;
    else this.schedule(0);
  }

  /**
   * Starts the booking's workflow now if it is still waiting to be started; returns when it runs
   * (or ran). Throws when Temporal cannot start it: the caller must not go on as if it ran.
   */
  async ensureStarted(bookingId: string): Promise<void> {
    const inFlight = this.starting.get(bookingId);
    if (inFlight) await inFlight; // it either started the workflow (row gone) or failed (row stays)
    const input = await this.opts.repo.pendingWorkflowStart(bookingId);
    if (input === undefined) return;
    await this.opts.workflows.start(input as BookingWorkflowInput);
    await this.opts.repo.workflowStartsDone([bookingId]);
  }

  /** Claims and starts what is due until nothing is; resolves when every start has settled (tests, tools). */
  async drain(): Promise<void> {
    await this.pump(true);
    while (this.inFlight > 0) await this.oneSettled();
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running || this.pumping) return;
      this.pumping = this.pump()
        .catch((err: unknown) => this.opts.logger.warn({ err }, "workflow starter: could not claim starts; will retry"))
        .then(() => this.warnOfBacklog())
        .finally(() => {
          this.pumping = undefined;
          if (!this.running) return;
          if (this.kicked) {
            this.kicked = false;
            this.schedule(0);
          } else {
            this.schedule(this.pollMs);
          }
        });
    }, ms);
    this.timer.unref();
  }

  /** Once a minute at most: a warning for operators when starts have waited longer than that. */
  private async warnOfBacklog(): Promise<void> {
    if (Date.now() - this.lastBacklogCheck < 60_000) return;
    this.lastBacklogCheck = Date.now();
    const backlog = await this.opts.repo.workflowStartBacklog().catch(() => undefined);
    if (backlog && backlog.oldestSeconds > 60) {
      this.opts.logger.warn(backlog, "booking workflows have waited over a minute to be started (is Temporal reachable?); their holds are safe, payments wait");
    }
  }

  /**
   * Keeps up to `concurrency` starts in flight while rows are due, until the starter stops (what
   * is left then stays queued for the next start of the service; `drain` goes on regardless).
   */
  private async pump(regardless = false): Promise<void> {
    for (;;) {
      if (!this.running && !regardless) return;
      this.kicked = false;
      const room = this.concurrency - this.inFlight;
      if (room <= 0) {
        await this.oneSettled();
        continue;
      }
      const claimed = await this.opts.repo.claimWorkflowStarts(room, this.leaseSeconds);
      for (const row of claimed) this.launch(row);
      // nothing more due right now (a kick that came meanwhile reschedules at once)
      if (claimed.length < room) return;
    }
  }

  private launch(row: PendingWorkflowStart): void {
    this.inFlight++;
    const { repo, workflows, logger } = this.opts;
    const started = workflows
      .start(row.input as BookingWorkflowInput)
      .then(
        () => repo.workflowStartsDone([row.bookingId]),
        (err: unknown) => {
          const retryIn = Math.min(60, 2 ** Math.min(row.attempts - 1, 6));
          logger.warn({ err, bookingId: row.bookingId, attempts: row.attempts, retryInSeconds: retryIn }, "booking workflow did not start; will retry");
          return repo.workflowStartFailed(row.bookingId, String((err as Error)?.message ?? err), retryIn);
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
