import { Code } from "@connectrpc/connect";
import type { Caller } from "../../lib/context.js";
import type { Knex } from "../../lib/db.js";
import { AppError, alreadyExists, failedPrecondition, invalidArgument, notFound } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { SIGNALS } from "../../workflows/booking-types.js";
import { PaymentsRepo, BookingRefundExistsError, type IntentRecord, type RefundRecord } from "./db/repo.js";
import { bookingRefundKey, cancelKey, confirmKey, intentKey } from "./domain/keys.js";
import {
  bookingPaymentStatus,
  cancellationReason,
  isCancelable,
  isFailedAttempt,
  isFinal,
  type BookingPaymentStatus,
} from "./domain/status.js";
import { verifySignature, WebhookSignatureError, SIGNATURE_TOLERANCE_SECONDS } from "./domain/webhook-signature.js";
import { GatewayError, type PaymentFailure, type PaymentGateway } from "./gateways/gateway.js";
import { TemporalUnavailableError, type BookingSignals } from "./signals.js";

export interface PaymentsDeps {
  db: Knex;
  gateway: PaymentGateway;
  signals: BookingSignals;
  logger: Logger;
  /** STRIPE_WEBHOOK_SECRET. */
  webhookSecret: string;
  /** Signature age accepted, seconds (Stripe's default 300). */
  toleranceSeconds?: number;
}

export interface StatusView {
  intent: IntentRecord;
  paymentStatus: BookingPaymentStatus;
  amountRefundedMinor: number;
  history: Awaited<ReturnType<PaymentsRepo["history"]>>;
  refunds: RefundRecord[];
}

export interface RefundOutcome {
  refund?: RefundRecord;
  /** Nothing new was refunded: this key (or earlier refunds) already covered it. */
  alreadyRefunded: boolean;
  /** Nothing was paid, so there was nothing to refund (refundBooking only). */
  nothingPaid?: boolean;
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

/** Maps what the core throws to API errors (used by the handlers; activities map on their own). */
export function toAppError(err: unknown): unknown {
  if (err instanceof TemporalUnavailableError) {
    return new AppError(Code.Unavailable, "booking workflows cannot be reached right now; retry later");
  }
  if (err instanceof GatewayError) {
    switch (err.kind) {
      case "invalid_request":
        return new AppError(Code.InvalidArgument, `payment gateway: ${err.message}`);
      case "not_found":
        return new AppError(Code.NotFound, `payment gateway: ${err.message}`);
      case "idempotency_conflict":
        return new AppError(Code.AlreadyExists, `payment gateway: ${err.message}`);
      case "unexpected_state":
        return new AppError(Code.FailedPrecondition, `payment gateway: ${err.message}`);
      case "unavailable":
        return new AppError(Code.Unavailable, "the payment gateway cannot be reached right now; retry later");
    }
  }
  return err;
}

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
  return e as StripeEvent;
}

function failureOf(lastPaymentError: unknown): PaymentFailure | undefined {
  const e = lastPaymentError as { code?: string; decline_code?: string; message?: string; type?: string } | null | undefined;
  if (!e) return undefined;
  return { code: e.decline_code || e.code || e.type || "payment_failed", message: e.message ?? "the payment failed" };
}

/** The history event name for a status the gateway reported after a confirmation. */
function eventFor(status: string, failure: PaymentFailure | undefined): string {
  if (status === "requires_action") return "requires_action";
  if (failure) return "payment_failed";
  return status;
}

/**
 * The payments service's behaviour, shared by its RPC handlers and its Temporal activities.
 * Gateway-agnostic: every gateway call goes through `PaymentGateway` with an idempotency key
 * derived from booking, step and attempt.
 */
export class Payments {
  readonly repo = new PaymentsRepo();
  private readonly db: Knex;
  private readonly gateway: PaymentGateway;

  constructor(private readonly deps: PaymentsDeps) {
    this.db = deps.db;
    this.gateway = deps.gateway;
  }

  get gatewayName(): string {
    return this.gateway.name;
  }

  // ─── PreparePayment ───

  /**
   * Returns the booking's current intent, or creates one: attempt 0 at first, attempt n+1 once
   * attempt n failed (the failed one is cancelled first, so it can no longer be paid). Then tells
   * the booking workflow an intent exists (so that its expiry cancels it).
   */
  async prepare(input: { bookingId: string; userId: string; amountMinor: number; currency: string; description?: string }): Promise<IntentRecord> {
    const { bookingId, userId, amountMinor, currency } = input;
    if (!(amountMinor > 0)) throw invalidArgument("amountMinor", "must be greater than 0");
    const latest = await this.repo.latestIntent(this.db, bookingId);
    if (latest && latest.userId !== userId) {
      throw failedPrecondition(`booking ${bookingId} has a payment intent of another user`);
    }
    if (latest && !isFailedAttempt(latest)) {
      if (latest.currency !== currency || latest.amountMinor !== amountMinor) {
        throw failedPrecondition(
          `booking ${bookingId} already has payment intent ${latest.id} for ${latest.amountMinor} ${latest.currency} (minor units), not ${amountMinor} ${currency}`,
        );
      }
      if (!isFinal(latest.status)) await this.signalPrepared(latest);
      return latest;
    }
    let attempt = 0;
    if (latest) {
      // the declined attempt must not be payable any more once a new one exists
      const after = await this.cancelIntent(latest, "abandoned");
      if (after.status === "succeeded" || after.status === "processing") return after; // it was paid after all
      attempt = latest.attempt + 1;
    }
    const created = await this.gateway.createPaymentIntent({
      amountMinor,
      currency,
      description: input.description,
      metadata: { bookingId, userId, attempt: String(attempt) },
      idempotencyKey: intentKey(bookingId, attempt),
    });
    await this.repo.insertIntent(
      this.db,
      {
        id: created.id,
        bookingId,
        userId,
        attempt,
        gateway: this.gateway.name,
        amountMinor,
        currency,
        status: created.status,
        clientSecret: created.clientSecret,
      },
      "api",
    );
    const row = await this.repo.intent(this.db, created.id);
    if (!row || row.bookingId !== bookingId) {
      throw new Error(`payment intent ${created.id} of booking ${bookingId} attempt ${attempt} could not be recorded`);
    }
    this.deps.logger.info({ bookingId, paymentIntentId: row.id, attempt, gateway: this.gateway.name }, "payment intent created");
    await this.signalPrepared(row);
    return row;
  }

  private async signalPrepared(intent: IntentRecord): Promise<void> {
    await this.deps.signals.signal(intent.bookingId, SIGNALS.paymentPrepared, { paymentIntentId: intent.id });
  }

  // ─── ConfirmPaymentWithMethod ───

  async confirm(input: { paymentIntentId: string; paymentMethodId: string; idempotencyKey?: string }): Promise<{ intent: IntentRecord; failure?: PaymentFailure }> {
    const intent = await this.repo.intent(this.db, input.paymentIntentId);
    if (!intent) throw notFound("payment intent", input.paymentIntentId);
    if (intent.status === "succeeded") return { intent };
    if (intent.status === "canceled") throw failedPrecondition(`payment intent ${intent.id} was canceled; prepare the payment again`);
    const result = await this.gateway.confirmPaymentIntent({
      id: intent.id,
      paymentMethodId: input.paymentMethodId,
      idempotencyKey: input.idempotencyKey || confirmKey(intent.bookingId, intent.attempt, input.paymentMethodId),
    });
    await this.repo.applyStatus(this.db, intent, {
      status: result.intent.status,
      event: eventFor(result.intent.status, result.failure),
      source: "api",
      failure: result.failure,
    });
    this.deps.logger.info(
      { bookingId: intent.bookingId, paymentIntentId: intent.id, status: result.intent.status, failure: result.failure?.code },
      "payment confirmed server-side",
    );
    return { intent, failure: result.failure };
  }

  // ─── CancelPaymentIntent ───

  async cancel(input: { paymentIntentId: string; reason?: string }): Promise<{ status: string }> {
    const intent = await this.repo.intent(this.db, input.paymentIntentId);
    if (!intent) throw notFound("payment intent", input.paymentIntentId);
    return { status: (await this.cancelIntent(intent, input.reason)).status };
  }

  /** Cancels every open intent of a booking (hold expired or cancelled before payment). */
  async cancelForBooking(bookingId: string, reason = "abandoned"): Promise<{ cancelled: boolean }> {
    let cancelled = false;
    for (const intent of await this.repo.intentsOfBooking(this.db, bookingId)) {
      if (!isCancelable(intent.status)) continue;
      const after = await this.cancelIntent(intent, reason);
      if (after.status === "canceled") cancelled = true;
    }
    return { cancelled };
  }

  private async cancelIntent(intent: IntentRecord, reason: string | undefined): Promise<IntentRecord> {
    if (!isCancelable(intent.status)) return intent;
    const after = await this.gateway.cancelPaymentIntent({
      id: intent.id,
      reason: cancellationReason(reason),
      idempotencyKey: cancelKey(intent.bookingId, intent.attempt),
    });
    await this.repo.applyStatus(this.db, intent, { status: after.status, event: after.status, source: "api" });
    if (after.status === "canceled") this.deps.logger.info({ bookingId: intent.bookingId, paymentIntentId: intent.id, reason }, "payment intent canceled");
    return intent;
  }

  // ─── refunds ───

  /**
   * Refunds a succeeded intent, at most what is left of it, exactly once per idempotency key:
   * the intent row is locked for the whole step (gateway call included), so concurrent refunds of
   * one payment run one after the other, and a retry after a crash resends the same key (the
   * gateway then answers with the refund it already made). Runs in `outer` when given.
   */
  async refund(
    input: { paymentIntentId: string; amountMinor?: number; reason: string; idempotencyKey: string; bookingRefund?: boolean },
    outer?: Knex.Transaction,
  ): Promise<RefundOutcome> {
    const run = async (trx: Knex.Transaction): Promise<RefundOutcome> => {
      const intent = await this.repo.intent(trx, input.paymentIntentId, { lock: true });
      if (!intent) throw notFound("payment intent", input.paymentIntentId);
      let row = await this.repo.refundByKey(trx, input.idempotencyKey);
      if (row) {
        if (row.paymentIntentId !== intent.id || (input.amountMinor && input.amountMinor !== row.amountMinor)) {
          throw alreadyExists(`idempotency key ${input.idempotencyKey} was already used for another refund`);
        }
        if (row.refundId) return { refund: row, alreadyRefunded: true };
        // sent before without a recorded answer: send again with the same key
      } else {
        if (intent.status !== "succeeded") {
          if (input.bookingRefund) return { alreadyRefunded: false, nothingPaid: true };
          throw failedPrecondition(`payment intent ${intent.id} has not been paid (status ${intent.status}): nothing to refund`);
        }
        const refunded = Math.max(await this.repo.refundedAmount(trx, intent.id), intent.amountRefundedMinor);
        const left = intent.amountMinor - refunded;
        if (left <= 0) return { alreadyRefunded: true };
        const amount = input.amountMinor || left;
        if (amount > left) throw failedPrecondition(`only ${left} (minor units) of payment intent ${intent.id} are left to refund`);
        try {
          row = await this.repo.insertRefund(trx, {
            idempotencyKey: input.idempotencyKey,
            bookingId: intent.bookingId,
            paymentIntentId: intent.id,
            bookingRefund: input.bookingRefund ?? false,
            amountMinor: amount,
            currency: intent.currency,
            reason: input.reason,
          });
        } catch (err) {
          if (err instanceof BookingRefundExistsError) return { refund: await this.repo.bookingRefund(trx, intent.bookingId), alreadyRefunded: true };
          throw err;
        }
      }
      let refund;
      try {
        refund = await this.gateway.createRefund({
          paymentIntentId: intent.id,
          amountMinor: row.amountMinor,
          metadata: { bookingId: intent.bookingId, reason: input.reason.slice(0, 500) },
          idempotencyKey: input.idempotencyKey,
        });
      } catch (err) {
        if (err instanceof GatewayError && err.gatewayCode === "charge_already_refunded") {
          await this.repo.updateRefund(trx, row.id, { status: "canceled" });
          return { alreadyRefunded: true };
        }
        throw err;
      }
      await this.repo.updateRefund(trx, row.id, { refundId: refund.id, status: refund.status });
      this.deps.logger.info(
        { bookingId: intent.bookingId, paymentIntentId: intent.id, refundId: refund.id, amountMinor: row.amountMinor, reason: input.reason },
        "payment refunded",
      );
      return { refund: { ...row, refundId: refund.id, status: refund.status }, alreadyRefunded: false };
    };
    return outer ? run(outer) : this.db.transaction(run);
  }

  /**
   * Refunds what was paid for a booking, exactly once (key `refund-<bookingId>`, one booking
   * refund row); nothing when nothing was paid. Locks the booking's intents first, so it waits
   * for a webhook transaction that is recording a payment right now; when our records show no
   * payment, the gateway is asked (its word is what counts).
   */
  async refundBooking(bookingId: string, reason: string): Promise<{ refunded: boolean }> {
    return this.db.transaction(async (trx) => {
      const intents = await this.repo.intentsOfBooking(trx, bookingId, { lock: true });
      const existing = await this.repo.bookingRefund(trx, bookingId);
      if (existing?.refundId) return { refunded: true };
      let paid = intents.filter((i) => i.status === "succeeded");
      if (paid.length === 0 && !existing) {
        for (const intent of intents.filter((i) => !isFinal(i.status))) {
          const now = await this.gateway.retrievePaymentIntent(intent.id);
          await this.repo.applyStatus(trx, intent, { status: now.status, event: now.status, source: "api" });
        }
        paid = intents.filter((i) => i.status === "succeeded");
      }
      const target = existing ? intents.find((i) => i.id === existing.paymentIntentId) : paid[paid.length - 1];
      if (!target) return { refunded: false };
      if (paid.length > 1) {
        this.deps.logger.error({ bookingId, paymentIntents: paid.map((i) => i.id) }, "booking was paid more than once; refunding the last payment only");
      }
      const out = await this.refund({ paymentIntentId: target.id, reason, idempotencyKey: bookingRefundKey(bookingId), bookingRefund: true }, trx);
      return { refunded: !out.nothingPaid };
    });
  }

  // ─── GetPaymentStatus ───

  async status(lookup: { paymentIntentId: string } | { bookingId: string }): Promise<StatusView> {
    const intent =
      "paymentIntentId" in lookup ? await this.repo.intent(this.db, lookup.paymentIntentId) : await this.repo.latestIntent(this.db, lookup.bookingId);
    if (!intent) {
      throw "paymentIntentId" in lookup ? notFound("payment intent", lookup.paymentIntentId) : notFound("payment of booking", lookup.bookingId);
    }
    const [attempts, refunds, history] = await Promise.all([
      this.repo.intentsOfBooking(this.db, intent.bookingId),
      this.repo.refundsOfBooking(this.db, intent.bookingId),
      this.repo.history(this.db, intent.bookingId),
    ]);
    const ours = refunds.filter((r) => r.status === "succeeded" || r.status === "pending").reduce((s, r) => s + r.amountMinor, 0);
    const reported = attempts.reduce((s, a) => s + a.amountRefundedMinor, 0);
    const amountRefundedMinor = Math.max(ours, reported);
    return { intent, paymentStatus: bookingPaymentStatus(attempts, amountRefundedMinor), amountRefundedMinor, history, refunds };
  }

  // ─── SimulatePayment ───

  async simulate(caller: Caller, paymentIntentId: string, outcome: "succeeded" | "failed"): Promise<void> {
    const intent = await this.repo.intent(this.db, paymentIntentId);
    const mine = intent && (caller.kind === "service" || (caller.kind === "user" && caller.userId === intent.userId));
    if (!intent || !mine) throw notFound("payment intent", paymentIntentId);
    if (!this.gateway.simulate || intent.gateway !== this.gateway.name) {
      throw failedPrecondition("SimulatePayment works with the development payment gateway only (STRIPE_SECRET_KEY is set)");
    }
    await this.gateway.simulate(intent.id, outcome);
    this.deps.logger.info({ bookingId: intent.bookingId, paymentIntentId: intent.id, outcome }, "payment simulated; webhook on its way");
  }

  // ─── HandleWebhook ───

  /**
   * Verifies the signature before anything is read or written, then processes the event once:
   * its id is claimed (INSERT … ON CONFLICT DO NOTHING) in the same transaction as its effects
   * and the workflow signal, so a concurrent duplicate waits and then sees it done, and a failed
   * processing (Temporal unreachable) leaves no trace and the redelivery is processed.
   */
  async handleWebhook(payload: Uint8Array, signature: string): Promise<WebhookOutcome> {
    try {
      verifySignature(payload, signature, this.deps.webhookSecret, { toleranceSeconds: this.deps.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS });
    } catch (err) {
      if (err instanceof WebhookSignatureError) throw invalidArgument("Stripe-Signature", err.message.replace(/^Stripe-Signature: /, ""));
      throw err;
    }
    const event = parseEvent(payload);
    const base = { eventId: event.id, eventType: event.type };
    const result = await this.db.transaction(async (trx) => {
      if (!(await this.repo.claimEvent(trx, event))) return { ...base, duplicate: true, ignored: false, outcome: "duplicate" };
      const done = await this.process(trx, event);
      await this.repo.finishEvent(trx, event.id, done);
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
    let intent = id ? await this.repo.intent(trx, id, { lock: true }) : undefined;
    if (!intent && id && UUID.test(metadata.bookingId ?? "") && UUID.test(metadata.userId ?? "")) {
      // one of our intents that this database does not know (e.g. restored from an older backup)
      const attempt = Number.parseInt(metadata.attempt ?? "", 10);
      const adopted = await this.repo.insertIntent(
        trx,
        {
          id,
          bookingId: metadata.bookingId,
          userId: metadata.userId,
          attempt: Number.isFinite(attempt) && attempt >= 0 ? attempt : 0,
          gateway: this.gateway.name,
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
        intent = await this.repo.intent(trx, id, { lock: true });
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
      if (!(await this.repo.applyStatus(trx, intent, change))) await this.repo.addHistory(trx, intent, change);
    }
    const delivered = await this.deps.signals.signal(bookingId, SIGNALS.paymentSucceeded, { paymentIntentId, eventId: event.id });
    if (delivered === "delivered") {
      if (intent && !handledBefore) await this.repo.setFulfilment(trx, intent.id, "signalled");
      return { outcome: "signalled", paymentIntentId, bookingId };
    }
    // The booking workflow is gone (the booking ended long ago): nobody will fulfil this payment,
    // so the money goes back, exactly once.
    if (handledBefore || !intent) {
      if (!intent) this.deps.logger.error({ paymentIntentId, bookingId, eventId: event.id }, "payment succeeded for a finished booking we hold no record of: refund it by hand");
      return { outcome: "workflow_gone", paymentIntentId, bookingId };
    }
    const bookingRefund = await this.repo.bookingRefund(trx, bookingId);
    const secondPayment = bookingRefund !== undefined && bookingRefund.paymentIntentId !== intent.id;
    await this.refund(
      {
        paymentIntentId: intent.id,
        reason: "paid after the booking had ended",
        idempotencyKey: secondPayment ? `${bookingRefundKey(bookingId)}-${intent.id}` : bookingRefundKey(bookingId),
        bookingRefund: !secondPayment,
      },
      trx,
    );
    await this.repo.setFulfilment(trx, intent.id, "refunded");
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
      if (!(await this.repo.applyStatus(trx, intent, change))) await this.repo.addHistory(trx, intent, change);
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
    const intent = await this.repo.intent(trx, paymentIntentId, { lock: true });
    if (!intent) return { outcome: "ignored", paymentIntentId };
    const listed = (charge.refunds?.data ?? []).filter((r): r is { id: string; status: string } => typeof r.id === "string" && typeof r.status === "string");
    await this.repo.settleRefunds(trx, intent.id, listed);
    if (typeof charge.amount_refunded === "number") await this.repo.setAmountRefunded(trx, intent.id, charge.amount_refunded);
    await this.repo.addHistory(trx, intent, { event: "charge_refunded", status: intent.status, source: "webhook", eventId: event.id });
    return { outcome: "recorded", paymentIntentId, bookingId: intent.bookingId };
  }
}
