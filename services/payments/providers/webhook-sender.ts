import type { Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import { signatureHeader } from "../domain/webhook-signature.js";

export interface WebhookSenderOptions {
  db: Knex;
  /** The webhook endpoint (the public gateway's /api/v1/payments/webhook). */
  url: string;
  /** STRIPE_WEBHOOK_SECRET: each delivery is signed with it at send time, as Stripe does. */
  secret: string;
  logger: Logger;
  /** How often due events are looked for when nobody kicks the sender. */
  pollMs?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-delivery timeout. */
  timeoutMs?: number;
  /** Stripe gives up after three days. */
  giveUpAfterMs?: number;
  /** Most deliveries in flight at once (each is claimed as soon as there is room). Default 20. */
  batchSize?: number;
}

interface DueEvent {
  seq: string;
  id: string;
  type: string;
  payload: string;
  attempts: number;
  created_at: Date;
}

/**
 * The development provider's webhook delivery, the way Stripe delivers: events are stored
 * (devgw_events) in the transaction that changed the payment, then POSTed to the endpoint
 * after the API call has answered, signed at send time (`Stripe-Signature: t=...,v1=...`), and
 * retried with exponential backoff until the endpoint answers 2xx. Deliveries survive a restart;
 * several senders on one database never send the same attempt twice (SKIP LOCKED claim with a
 * lease). Order is not guaranteed, as with Stripe.
 */
export class WebhookSender {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private kicked = false;
  private readonly inFlight = new Set<AbortController>();
  private readonly deliveries = new Set<Promise<void>>();
  private full = false;

  constructor(private readonly opts: WebhookSenderOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was enqueued: look now rather than at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    for (const c of this.inFlight) c.abort();
    await this.loop;
  }

  /**
   * Keeps up to `batchSize` deliveries in flight: a new event is claimed as soon as there is room,
   * not when a whole batch has been answered (a slow endpoint must not hold up the events behind it).
   */
  private async run(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 1_000;
    const maxInFlight = this.opts.batchSize ?? 20;
    while (this.running) {
      const room = maxInFlight - this.deliveries.size;
      let claimed = 0;
      if (room > 0) {
        try {
          claimed = await this.sendDue(room);
        } catch (err) {
          if (this.running) this.opts.logger.warn({ err }, "webhook sender: could not read due events");
        }
      }
      if (!this.running) break;
      if (room > 0 && claimed === room) continue; // there may be more due
      if (room > 0 && this.kicked) {
        this.kicked = false;
        continue;
      }
      // full: wait for a delivery to finish (it wakes us); else for a kick or the next poll
      this.full = room <= 0;
      if (this.full && this.deliveries.size < maxInFlight) continue; // one finished meanwhile
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    await Promise.all(this.deliveries);
  }

  /**
   * Claims up to `limit` due events (a lease: nobody else takes them meanwhile) and starts their
   * deliveries; a finished delivery wakes the loop, which then has room again.
   */
  private async sendDue(limit: number): Promise<number> {
    this.kicked = false;
    const { db } = this.opts;
    const leaseMs = (this.opts.timeoutMs ?? 10_000) + 20_000;
    const { rows } = await db.raw<{ rows: DueEvent[] }>(
      `UPDATE devgw_events SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        WHERE seq IN (
          SELECT seq FROM devgw_events
           WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now()
           ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING seq, id, type, payload, attempts, created_at`,
      [leaseMs / 1000, limit],
    );
    for (const e of rows) {
      const delivery: Promise<void> = this.deliver(e)
        .catch((err: unknown) => this.opts.logger.error({ err, eventId: e.id }, "webhook delivery crashed; retried when its lease ends"))
        .finally(() => {
          this.deliveries.delete(delivery);
          if (this.full) this.wake?.();
        });
      this.deliveries.add(delivery);
    }
    return rows.length;
  }

  private async deliver(event: DueEvent): Promise<void> {
    const { db, logger } = this.opts;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs ?? 10_000);
    let problem: string | undefined;
    try {
      const res = await fetch(this.opts.url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signatureHeader(event.payload, this.opts.secret),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) ticketing-development-provider",
        },
        body: event.payload,
        signal: controller.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
    if (!problem) {
      await db("devgw_events").where({ seq: event.seq }).update({ delivered_at: db.fn.now(), last_error: null });
      logger.debug({ eventId: event.id, type: event.type, attempts: event.attempts }, "webhook delivered");
      return;
    }
    const age = Date.now() - new Date(event.created_at).getTime();
    if (age > (this.opts.giveUpAfterMs ?? 3 * 24 * 3_600_000)) {
      await db("devgw_events").where({ seq: event.seq }).update({ abandoned_at: db.fn.now(), last_error: problem });
      logger.error({ eventId: event.id, type: event.type, attempts: event.attempts, problem }, "webhook abandoned after retrying for days");
      return;
    }
    const backoff = Math.min(this.opts.maxBackoffMs ?? 60_000, (this.opts.initialBackoffMs ?? 1_000) * 2 ** Math.min(event.attempts - 1, 20));
    await db("devgw_events")
      .where({ seq: event.seq })
      .update({ next_attempt_at: db.raw("now() + make_interval(secs => ?)", [backoff / 1000]), last_error: problem });
    logger.warn({ eventId: event.id, type: event.type, attempts: event.attempts, problem, retryInMs: backoff }, "webhook delivery failed; will retry");
  }
}
