import type { Knex } from "../../lib/db.js";
import { invalidArgument } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { nulStringInJson } from "../../lib/validation.js";
import { SIGNALS } from "../../workflows/booking-types.js";
import type { IntentRecord } from "./db/repo.js";
import { bookingRefundKey } from "./domain/keys.js";
import { verifySignature, WebhookSignatureError, SIGNATURE_TOLERANCE_SECONDS } from "./domain/webhook-signature.js";
import type { PaymentFailure } from "./providers/provider.js";
import type { Payments } from "./payments.js";
import type { BookingSignals } from "../../workflows/booking-client.js";

export interface WebhookDeps {
  db: Knex;
  /** The service's behaviour: its repository, and refunds of payments nobody will fulfil. */
  payments: Payments;
  signals: BookingSignals;
  logger: Logger;
  /** STRIPE_WEBHOOK_SECRET. */
  secret: string;
  /** Signature age accepted, seconds (Stripe's default 300). */
  toleranceSeconds?: number;
}

export interface WebhookOutcome {
  eventId: string;
  eventType: string;
  duplicate: boolean;
  ignored: boolean;
  /** What was done: signalled, workflow_gone, refunded, recorded, ignored, duplicate. */
  outcome: string;
}

interface StripeEvent {
  id: string;
  type: string;
  created?: number;
  data: { object: Record<string, unknown> };
}

interface EventOutcome {
  outcome: string;
  paymentIntentId?: string;
  bookingId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseEvent(payload: Uint8Array): StripeEvent {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8"));
  } catch {
    throw invalidArgument("payload", "is not JSON");
  }
  const e = json as Partial<StripeEvent> | null;
  if (
    typeof e?.id !== "string" ||
    e.id === "" ||
    e.id.length > 255 ||
    typeof e.type !== "string" ||
    typeof e.data !== "object" ||
    e.data === null ||
    typeof e.data.object !== "object" ||
    e.data.object === null
  ) {
    throw invalidArgument("payload", "is not a Stripe event (id, type, data.object)");
  }
  // Postgres cannot store NUL in text, and the event's strings end up there (ids, failure
  // messages) or in a workflow signal: refused like any request string with NUL, a 400 naming it
  const nul = nulStringInJson(e, "payload");
  if (nul) throw invalidArgument(nul, "must not contain a NUL character");
  return e as StripeEvent;
}

function failureOf(lastPaymentError: unknown): PaymentFailure | undefined {
  const e = lastPaymentError as { code?: string; decline_code?: string; message?: string; type?: string } | null | undefined;
  if (!e) return undefined;
  return { code: e.decline_code || e.code || e.type || "payment_failed", message: e.message ?? "the payment failed" };
}

/**
 * HandleWebhook: Stripe's events (and the development provider's, which are the same) turned into
 * payment records and booking-workflow signals, each event exactly once.
 */
export class PaymentWebhooks {
  private readonly payments: Payments;

  constructor(private readonly deps: WebhookDeps) {
    this.payments = deps.payments;
  }

  /**
   * Verifies the signature before anything is read or written, then processes the event once:
   * its id is claimed (INSERT … ON CONFLICT DO NOTHING) in the same transaction as its effects
   * and the workflow signal, so a concurrent duplicate waits and then sees it done, and a failed
   * processing (Temporal unreachable) leaves no trace and the redelivery is processed.
   */
  async handle(payload: Uint8Array, signature: string): Promise<WebhookOutcome> {
    try {
      verifySignature(payload, signature, this.deps.secret, { toleranceSeconds: this.deps.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS });
    } catch (err) {
      if (err instanceof WebhookSignatureError) throw invalidArgument("Stripe-Signature", err.message.replace(/^Stripe-Signature: /, ""));
      throw err;
    }
    const event = parseEvent(payload);
    const base = { eventId: event.id, eventType: event.type };
    const result = await this.deps.db.transaction(async (trx) => {
      if (!(await this.payments.repo.claimEvent(trx, event))) return { ...base, duplicate: true, ignored: false, outcome: "duplicate" };
      const done = await this.process(trx, event);
      await this.payments.repo.finishEvent(trx, event.id, done);
      return { ...base, duplicate: false, ignored: done.outcome === "ignored", outcome: done.outcome, bookingId: done.bookingId };
    });
    this.deps.logger.info({ ...base, outcome: result.outcome }, "payment webhook processed");
    return { ...base, duplicate: result.duplicate, ignored: result.ignored, outcome: result.outcome };
  }

  private async process(trx: Knex.Transaction, event: StripeEvent): Promise<EventOutcome> {
    switch (event.type) {
      case "payment_intent.succeeded":
        return this.onPaymentSucceeded(trx, event);
      case "payment_intent.payment_failed":
        return this.onPaymentFailed(trx, event);
      case "charge.refunded":
        return this.onChargeRefunded(trx, event);
      default:
        return { outcome: "ignored" };
    }
  }

  /** Our row of the event's intent, locked; adopted from the event when it is ours but unknown here. */
  private async intentOfEvent(trx: Knex.Transaction, event: StripeEvent): Promise<{ pi: Record<string, unknown>; intent?: IntentRecord; bookingId?: string }> {
    const pi = event.data.object;
    const id = typeof pi.id === "string" ? pi.id : "";
    const metadata = (pi.metadata ?? {}) as Record<string, string>;
    let intent = id ? await this.payments.repo.intent(trx, id, { lock: true }) : undefined;
    if (!intent && id && UUID.test(metadata.bookingId ?? "") && UUID.test(metadata.userId ?? "")) {
      // one of our intents that this database does not know (e.g. restored from an older backup)
      const attempt = Number.parseInt(metadata.attempt ?? "", 10);
      const adopted = await this.payments.repo.insertIntent(
        trx,
        {
          id,
          bookingId: metadata.bookingId,
          userId: metadata.userId,
          attempt: Number.isFinite(attempt) && attempt >= 0 ? attempt : 0,
          provider: this.payments.providerName,
          amountMinor: Number(pi.amount),
          currency: String(pi.currency ?? "").toUpperCase(),
          status: "requires_payment_method",
          clientSecret: String(pi.client_secret ?? ""),
        },
        "webhook",
        event.id,
      );
      if (adopted) {
        this.deps.logger.warn({ paymentIntentId: id, bookingId: metadata.bookingId }, "webhook for an unknown payment intent of ours; recorded it");
        intent = await this.payments.repo.intent(trx, id, { lock: true });
      }
    }
    const bookingId = intent?.bookingId ?? (UUID.test(metadata.bookingId ?? "") ? metadata.bookingId : undefined);
    return { pi, intent, bookingId };
  }

  private async onPaymentSucceeded(trx: Knex.Transaction, event: StripeEvent): Promise<EventOutcome> {
    const { pi, intent, bookingId } = await this.intentOfEvent(trx, event);
    const paymentIntentId = String(pi.id ?? "");
    if (!bookingId) return { outcome: "ignored", paymentIntentId }; // not a booking's payment
    const handledBefore = intent?.fulfilment != null;
    if (intent) {
      const change = { status: "succeeded", event: "succeeded", source: "webhook" as const, eventId: event.id };
      if (!(await this.payments.repo.applyStatus(trx, intent, change))) await this.payments.repo.addHistory(trx, intent, change);
    }
    const delivered = await this.deps.signals.signal(bookingId, SIGNALS.paymentSucceeded, { paymentIntentId, eventId: event.id });
    if (delivered === "delivered") {
      if (intent && !handledBefore) await this.payments.repo.setFulfilment(trx, intent.id, "signalled");
      return { outcome: "signalled", paymentIntentId, bookingId };
    }
    // The booking workflow is gone (the booking ended long ago): nobody will fulfil this payment,
    // so the money goes back, exactly once.
    if (handledBefore || !intent) {
      if (!intent) this.deps.logger.error({ paymentIntentId, bookingId, eventId: event.id }, "payment succeeded for a finished booking we hold no record of: refund it by hand");
      return { outcome: "workflow_gone", paymentIntentId, bookingId };
    }
    const bookingRefund = await this.payments.repo.bookingRefund(trx, bookingId);
    const secondPayment = bookingRefund !== undefined && bookingRefund.paymentIntentId !== intent.id;
    await this.payments.refund(
      {
        paymentIntentId: intent.id,
        reason: "paid after the booking had ended",
        idempotencyKey: secondPayment ? `${bookingRefundKey(bookingId)}-${intent.id}` : bookingRefundKey(bookingId),
        bookingRefund: !secondPayment,
      },
      trx,
    );
    await this.payments.repo.setFulfilment(trx, intent.id, "refunded");
    this.deps.logger.warn({ paymentIntentId, bookingId, eventId: event.id }, "payment succeeded after its booking workflow had ended; refunded");
    return { outcome: "refunded", paymentIntentId, bookingId };
  }

  private async onPaymentFailed(trx: Knex.Transaction, event: StripeEvent): Promise<EventOutcome> {
    const { pi, intent, bookingId } = await this.intentOfEvent(trx, event);
    const paymentIntentId = String(pi.id ?? "");
    if (!bookingId) return { outcome: "ignored", paymentIntentId };
    const failure = failureOf(pi.last_payment_error) ?? { code: "payment_failed", message: "the payment failed" };
    if (intent) {
      const change = {
        status: typeof pi.status === "string" ? pi.status : "requires_payment_method",
        event: "payment_failed",
        source: "webhook" as const,
        eventId: event.id,
        failure,
      };
      if (!(await this.payments.repo.applyStatus(trx, intent, change))) await this.payments.repo.addHistory(trx, intent, change);
    }
    const delivered = await this.deps.signals.signal(bookingId, SIGNALS.paymentFailed, { paymentIntentId, eventId: event.id, reason: failure.message });
    return { outcome: delivered === "delivered" ? "signalled" : "workflow_gone", paymentIntentId, bookingId };
  }

  private async onChargeRefunded(trx: Knex.Transaction, event: StripeEvent): Promise<EventOutcome> {
    const charge = event.data.object as {
      payment_intent?: string | { id?: string } | null;
      amount_refunded?: number;
      refunds?: { data?: Array<{ id?: string; status?: string }> } | null;
    };
    const paymentIntentId = typeof charge.payment_intent === "string" ? charge.payment_intent : charge.payment_intent?.id;
    if (!paymentIntentId) return { outcome: "ignored" };
    const intent = await this.payments.repo.intent(trx, paymentIntentId, { lock: true });
    if (!intent) return { outcome: "ignored", paymentIntentId };
    const listed = (charge.refunds?.data ?? []).filter((r): r is { id: string; status: string } => typeof r.id === "string" && typeof r.status === "string");
    await this.payments.repo.settleRefunds(trx, intent.id, listed);
    if (typeof charge.amount_refunded === "number") await this.payments.repo.setAmountRefunded(trx, intent.id, charge.amount_refunded);
    await this.payments.repo.addHistory(trx, intent, { event: "charge_refunded", status: intent.status, source: "webhook", eventId: event.id });
    return { outcome: "recorded", paymentIntentId, bookingId: intent.bookingId };
  }
}
