import Stripe from "stripe";
import type { CancellationReason } from "../domain/status.js";
import {
  ProviderError,
  type ConfirmResult,
  type CreateIntentInput,
  type CreateRefundInput,
  type ProviderIntent,
  type ProviderRefund,
  type PaymentFailure,
  type PaymentProvider,
} from "./provider.js";

export interface StripeProviderOptions {
  secretKey: string;
  /** API base URL override (stripe-mock in tests), e.g. `http://127.0.0.1:12111`; unset = api.stripe.com. */
  apiBase?: string;
  /** Network retries of the SDK (same idempotency key each time). */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** The SDK's connection settings for an API base URL. */
export function stripeHostOptions(apiBase: string | undefined): { host?: string; port?: number; protocol?: "http" | "https" } {
  if (!apiBase) return {};
  const url = new URL(apiBase);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return { host: url.hostname, port: url.port ? Number(url.port) : protocol === "http" ? 80 : 443, protocol };
}

const lastError = (e: Stripe.PaymentIntent.LastPaymentError | null | undefined): PaymentFailure | undefined =>
  e ? { code: e.decline_code || e.code || e.type, message: e.message ?? "the payment failed" } : undefined;

function intentOf(pi: Stripe.PaymentIntent): ProviderIntent {
  return {
    id: pi.id,
    clientSecret: pi.client_secret ?? "",
    amountMinor: pi.amount,
    currency: pi.currency.toUpperCase(),
    status: pi.status,
    metadata: { ...(pi.metadata ?? {}) },
    lastPaymentError: lastError(pi.last_payment_error),
  };
}

function refundOf(r: Stripe.Refund, paymentIntentId: string): ProviderRefund {
  const pi = typeof r.payment_intent === "string" ? r.payment_intent : r.payment_intent?.id;
  return {
    id: r.id,
    paymentIntentId: pi ?? paymentIntentId,
    amountMinor: r.amount,
    currency: r.currency.toUpperCase(),
    status: r.status ?? "pending",
  };
}

interface StripeLikeError {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
  payment_intent?: Stripe.PaymentIntent;
}

/** Stripe's error classes → our kinds; anything unknown is rethrown untouched (an Internal). */
function translate(err: unknown): unknown {
  const e = err as StripeLikeError;
  switch (e?.type) {
    case "StripeInvalidRequestError":
      if (e.code === "resource_missing") return new ProviderError("not_found", e.message ?? "not found", e.code);
      if (e.code === "payment_intent_unexpected_state") return new ProviderError("unexpected_state", e.message ?? "unexpected state", e.code);
      return new ProviderError("invalid_request", e.message ?? "invalid request", e.code);
    case "StripeIdempotencyError":
      return new ProviderError("idempotency_conflict", e.message ?? "idempotency key reused", e.code);
    case "StripeConnectionError":
    case "StripeAPIError":
    case "StripeRateLimitError":
      return new ProviderError("unavailable", `Stripe: ${e.message ?? "unavailable"}`, e.code);
    default:
      return err;
  }
}

/**
 * The Stripe adapter: PaymentIntents with automatic payment methods that never redirect (so a
 * server-side confirmation needs no return_url), refunds, and every POST with our idempotency
 * key. The webhook signature is checked by the service (domain/webhook-signature.ts), not here.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = "stripe" as const;
  readonly stripe: Stripe;

  constructor(opts: StripeProviderOptions) {
    this.stripe = new Stripe(opts.secretKey, {
      ...stripeHostOptions(opts.apiBase),
      maxNetworkRetries: opts.maxNetworkRetries ?? 2,
      timeout: opts.timeoutMs ?? 20_000,
      telemetry: false,
      appInfo: { name: "ticketing-platform" },
    });
  }

  async createPaymentIntent(input: CreateIntentInput): Promise<ProviderIntent> {
    try {
      const pi = await this.stripe.paymentIntents.create(
        {
          amount: input.amountMinor,
          currency: input.currency.toLowerCase(),
          ...(input.description ? { description: input.description } : {}),
          metadata: input.metadata,
          automatic_payment_methods: { enabled: true, allow_redirects: "never" },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return intentOf(pi);
    } catch (err) {
      throw translate(err);
    }
  }

  async retrievePaymentIntent(id: string): Promise<ProviderIntent> {
    try {
      return intentOf(await this.stripe.paymentIntents.retrieve(id));
    } catch (err) {
      throw translate(err);
    }
  }

  async confirmPaymentIntent(input: { id: string; paymentMethodId: string; idempotencyKey: string }): Promise<ConfirmResult> {
    try {
      const pi = await this.stripe.paymentIntents.confirm(
        input.id,
        { payment_method: input.paymentMethodId },
        { idempotencyKey: input.idempotencyKey },
      );
      const intent = intentOf(pi);
      if (pi.status === "requires_action") {
        return { intent, failure: { code: "authentication_required", message: "the card requires authentication, which a server-side confirmation cannot complete" } };
      }
      return { intent, failure: pi.status === "requires_payment_method" ? intent.lastPaymentError : undefined };
    } catch (err) {
      const e = err as StripeLikeError;
      if (e?.type === "StripeCardError") {
        // a decline: the error carries the intent, back in requires_payment_method
        const intent = e.payment_intent ? intentOf(e.payment_intent) : await this.retrievePaymentIntent(input.id);
        return { intent, failure: { code: e.decline_code || e.code || "card_declined", message: e.message ?? "Your card was declined." } };
      }
      throw translate(err);
    }
  }

  async cancelPaymentIntent(input: { id: string; reason?: CancellationReason; idempotencyKey: string }): Promise<ProviderIntent> {
    try {
      const pi = await this.stripe.paymentIntents.cancel(
        input.id,
        input.reason ? { cancellation_reason: input.reason } : {},
        { idempotencyKey: input.idempotencyKey },
      );
      return intentOf(pi);
    } catch (err) {
      const t = translate(err);
      // succeeded, processing or already canceled: not cancellable; report where it is
      if (t instanceof ProviderError && t.kind === "unexpected_state") return this.retrievePaymentIntent(input.id);
      throw t;
    }
  }

  async createRefund(input: CreateRefundInput): Promise<ProviderRefund> {
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: input.paymentIntentId,
          ...(input.amountMinor ? { amount: input.amountMinor } : {}),
          metadata: input.metadata,
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return refundOf(refund, input.paymentIntentId);
    } catch (err) {
      throw translate(err);
    }
  }

  async close(): Promise<void> {
    // the SDK keeps no connections of its own worth closing
  }
}
