import type { Caller } from "../../lib/context.js";
import type { Knex } from "../../lib/db.js";
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
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
import { ProviderError, type PaymentFailure, type PaymentProvider } from "./providers/provider.js";
import type { BookingSignals } from "../../workflows/booking-client.js";

export interface PaymentsDeps {
  db: Knex;
  provider: PaymentProvider;
  signals: BookingSignals;
  logger: Logger;
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

/** The history event name for a status the provider reported after a confirmation. */
function eventFor(status: string, failure: PaymentFailure | undefined): string {
  if (status === "requires_action") return "requires_action";
  if (failure) return "payment_failed";
  return status;
}

/**
 * The payments service's behaviour, shared by its RPC handlers, its Temporal activities and its
 * webhook handling (webhooks.ts).
 * Provider-agnostic: every call to the payment provider goes through `PaymentProvider` with an idempotency key
 * derived from booking, step and attempt.
 */
export class Payments {
  readonly repo = new PaymentsRepo();
  private readonly db: Knex;
  private readonly provider: PaymentProvider;

  constructor(private readonly deps: PaymentsDeps) {
    this.db = deps.db;
    this.provider = deps.provider;
  }

  get providerName(): string {
    return this.provider.name;
  }

  // ─── PreparePayment ───

  /**
   * Returns the booking's current intent, or creates one: attempt 0 at first, attempt n+1 once
   * attempt n failed (the failed one is cancelled first, so it can no longer be paid). The booking
   * workflow is not told: the booking service recorded the attempt before it called this, and an
   * expiring hold reads that (docs/adr/0005-booking-workflow-in-the-booking-service.md).
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
      return latest;
    }
    let attempt = 0;
    if (latest) {
      // the declined attempt must not be payable any more once a new one exists
      const after = await this.cancelIntent(latest, "abandoned");
      if (after.status === "succeeded" || after.status === "processing") return after; // it was paid after all
      attempt = latest.attempt + 1;
    }
    const created = await this.provider.createPaymentIntent({
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
        provider: this.provider.name,
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
    this.deps.logger.info({ bookingId, paymentIntentId: row.id, attempt, provider: this.provider.name }, "payment intent created");
    return row;
  }

  // ─── ConfirmPaymentWithMethod ───

  async confirm(input: { paymentIntentId: string; paymentMethodId: string; idempotencyKey?: string }): Promise<{ intent: IntentRecord; failure?: PaymentFailure }> {
    const intent = await this.repo.intent(this.db, input.paymentIntentId);
    if (!intent) throw notFound("payment intent", input.paymentIntentId);
    if (intent.status === "succeeded") return { intent };
    if (intent.status === "canceled") throw failedPrecondition(`payment intent ${intent.id} was canceled; prepare the payment again`);
    const result = await this.provider.confirmPaymentIntent({
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
    const after = await this.provider.cancelPaymentIntent({
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
   * the intent row is locked for the whole step (provider call included), so concurrent refunds of
   * one payment run one after the other, and a retry after a crash resends the same key (the
   * provider then answers with the refund it already made). Runs in `outer` when given.
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
        refund = await this.provider.createRefund({
          paymentIntentId: intent.id,
          amountMinor: row.amountMinor,
          metadata: { bookingId: intent.bookingId, reason: input.reason.slice(0, 500) },
          idempotencyKey: input.idempotencyKey,
        });
      } catch (err) {
        if (err instanceof ProviderError && err.providerCode === "charge_already_refunded") {
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
   * payment, the provider is asked (its word is what counts).
   */
  async refundBooking(bookingId: string, reason: string): Promise<{ refunded: boolean }> {
    return this.db.transaction(async (trx) => {
      const intents = await this.repo.intentsOfBooking(trx, bookingId, { lock: true });
      const existing = await this.repo.bookingRefund(trx, bookingId);
      if (existing?.refundId) return { refunded: true };
      let paid = intents.filter((i) => i.status === "succeeded");
      if (paid.length === 0 && !existing) {
        for (const intent of intents.filter((i) => !isFinal(i.status))) {
          const now = await this.provider.retrievePaymentIntent(intent.id);
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
    if (!this.provider.simulate || intent.provider !== this.provider.name) {
      // the API's message, unchanged: clients know the development provider as a "gateway"
      throw failedPrecondition("SimulatePayment works with the development payment gateway only (STRIPE_SECRET_KEY is set)");
    }
    await this.provider.simulate(intent.id, outcome);
    this.deps.logger.info({ bookingId: intent.bookingId, paymentIntentId: intent.id, outcome }, "payment simulated; webhook on its way");
  }
}
