import { PolledWorker } from "../../lib/poll-loop.js";
import type { Logger } from "../../lib/logger.js";
import { DeliveryError, type EmailTransport, type OutgoingMessage, type SmsProvider } from "./channels/types.js";
import type { NotificationRecord, NotificationsRepo } from "./db/repo.js";
import { ticketImages } from "./ticket-images.js";

export interface RetryPolicy {
  /** Attempts in all, the first included (then the message is `failed`). */
  maxAttempts: number;
  /** Wait after the first failed attempt; doubles after each further one... */
  baseDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
}

export interface DeliveryOptions {
  repo: NotificationsRepo;
  email: EmailTransport;
  sms: SmsProvider;
  logger: Logger;
  retry: RetryPolicy;
  /** How often to look for due messages when nothing wakes the loop (ms). Default 1000. */
  pollMs?: number;
  /** Messages claimed (and sent concurrently) per round. Default 10. */
  batchSize?: number;
  /** How long a claimed message is reserved for its sender before another may try (ms). Default 5 min. */
  leaseMs?: number;
}

/** The wait before attempt `attempt + 1`, after `attempt` failed: exponential, capped, ±20 % jitter. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">, random = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** The message as its channel sends it: an email with tickets gets its HTML part and the QR images. */
function outgoing(n: NotificationRecord): OutgoingMessage {
  const message: OutgoingMessage = { notificationId: n.id, to: n.recipient, subject: n.subject, text: n.body };
  if (n.channel !== "email" || !n.html) return message;
  let images;
  try {
    images = ticketImages(n.tickets ?? []);
  } catch (err) {
    // a payload no QR code can hold now never will
    throw new DeliveryError(`ticket QR code: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  return { ...message, html: n.html, images };
}

/**
 * The delivery loop: sends pending messages from the message log over their channel and records
 * the outcome. A failure is retried with exponential backoff until `maxAttempts`, then the
 * message is `failed` with the reason; a permanent rejection (SMTP 5xx) fails at once. Nothing
 * here ever reaches the caller that queued the message: the booking never waits for, or fails
 * because of, an email.
 *
 * Runs in every replica: a claim (FOR UPDATE SKIP LOCKED, then a lease on next_attempt_at) keeps
 * two replicas from sending the same message. A process that dies mid-send leaves the message
 * to be tried again when the lease runs out: delivery is at least once, and the Message-ID (the
 * notification id) lets a receiving system recognise the rare repeat. `kick()` wakes the loop
 * when something was queued.
 */
export class DeliveryLoop extends PolledWorker {
  constructor(private readonly opts: DeliveryOptions) {
    super({ name: "delivery loop", logger: opts.logger, batchSize: opts.batchSize ?? 10, pollMs: opts.pollMs });
  }

  protected nextDueAt(): Promise<Date | undefined> {
    return this.opts.repo.nextDueAt();
  }

  /** Claims and sends one batch; returns how many messages it handled. */
  async runOnce(): Promise<number> {
    const { repo } = this.opts;
    const claimed = await repo.claimDue(this.opts.batchSize ?? 10, this.opts.leaseMs ?? 5 * 60_000);
    await Promise.all(claimed.map((n) => this.deliver(n)));
    return claimed.length;
  }

  private async deliver(n: NotificationRecord): Promise<void> {
    const { repo, logger, retry } = this.opts;
    const channel = n.channel === "email" ? this.opts.email : this.opts.sms;
    const log = logger.child({ notificationId: n.id, channel: n.channel, kind: n.kind, attempt: n.attempts });
    try {
      const delivered = await channel.send(outgoing(n));
      await repo.markSent(n.id, n.attempts, delivered);
      log.info({ transport: delivered.transport }, "notification sent");
    } catch (err) {
      const permanent = err instanceof DeliveryError && err.permanent;
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
      if (permanent || n.attempts >= retry.maxAttempts) {
        await repo.markFailed(n.id, n.attempts, reason);
        log.warn({ reason, permanent }, "notification failed; giving up");
      } else {
        const delay = backoffMs(n.attempts, retry);
        await repo.markRetry(n.id, n.attempts, reason, delay);
        log.info({ reason, retryInMs: delay }, "notification delivery failed; will retry");
      }
    }
  }
}
