import type { Logger } from "./logger.js";

export interface PollLoopOptions {
  /** For the log line when a round fails. */
  name: string;
  logger: Logger;
  /** Handles one batch of due work; returns how many items it handled. */
  runOnce: () => Promise<number>;
  /** When the next item falls due (a retry's backoff), if any. */
  nextDueAt: () => Promise<Date | undefined>;
  batchSize: number;
  /** Longest sleep between rounds. Default 1 s. */
  pollMs?: number;
}

/**
 * A background loop over a table of due work (deliveries, pushes): runs a round, then runs again
 * at once when the batch was full or `kick()` came meanwhile, else sleeps until the next item is
 * due or `pollMs` passes. A failed round is logged and retried after `pollMs` (at least 1 s).
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private kicked = false;

  constructor(private readonly opts: PollLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scheduling rounds; waits for the round in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Work was queued: look now (or right after the round in progress). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const poll = this.opts.pollMs ?? 1_000;
    let next = poll;
    try {
      this.kicked = false;
      const handled = await this.opts.runOnce();
      if (handled === this.opts.batchSize || this.kicked) {
        next = 0;
      } else {
        // sleep until the next retry falls due, if that comes before the next poll
        const due = await this.opts.nextDueAt();
        // (at least a moment: a due row may be locked by a transaction about to commit)
        if (due) next = Math.max(10, Math.min(poll, due.getTime() - Date.now()));
      }
    } catch (err) {
      this.opts.logger.warn({ err }, `${this.opts.name} failed; will retry`);
      next = Math.max(poll, 1_000);
    }
    this.schedule(next);
  }
}

/**
 * A background worker over a table of due work, driven by a PollLoop: a subclass says how to
 * handle one batch (`runOnce`) and when the next item falls due (`nextDueAt`); start, stop and
 * kick are the loop's.
 */
export abstract class PolledWorker {
  private readonly loop: PollLoop;

  constructor(opts: Omit<PollLoopOptions, "runOnce" | "nextDueAt">) {
    this.loop = new PollLoop({ ...opts, runOnce: () => this.runOnce(), nextDueAt: () => this.nextDueAt() });
  }

  /** Handles one batch of due work; returns how many items it handled. */
  abstract runOnce(): Promise<number>;

  /** When the next item falls due (a retry's backoff), if any. */
  protected abstract nextDueAt(): Promise<Date | undefined>;

  start(): void {
    this.loop.start();
  }

  /** Stops the loop; waits for the round in flight to be recorded. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Work was queued: look now (or right after the round in progress). */
  kick(): void {
    this.loop.kick();
  }
}
