import type { CancellationReason } from "../domain/status.js";

/**
 * The one interface the payments service talks to a payment provider through. Two
 * implementations: `stripe` (the stripe SDK; STRIPE_SECRET_KEY set) and `development` (no key:
 * intents and refunds kept in the payments schema, webhooks signed and delivered like Stripe's).
 *
 * Every mutating call takes an idempotency key (derived from booking, step and attempt; see
 * domain/keys.ts): repeating a call with the same key returns the first result and changes
 * nothing, on both providers. Money is in integer minor units; currencies are upper case ISO 4217
 * here (Stripe's lower case stays inside the Stripe adapter).
 */
export interface PaymentProvider {
  readonly name: "stripe" | "development";
  createPaymentIntent(input: CreateIntentInput): Promise<ProviderIntent>;
  retrievePaymentIntent(id: string): Promise<ProviderIntent>;
  /**
   * Confirms server-side with a payment method. A decline is a result (`failure` set, the intent
   * back to `requires_payment_method`), not an error.
   */
  confirmPaymentIntent(input: { id: string; paymentMethodId: string; idempotencyKey: string }): Promise<ConfirmResult>;
  /**
   * Cancels an intent that can still be paid. An intent that cannot be cancelled any more
   * (succeeded, processing, already canceled) is returned as it is, so callers read `status`.
   */
  cancelPaymentIntent(input: { id: string; reason?: CancellationReason; idempotencyKey: string }): Promise<ProviderIntent>;
  /** Refunds a succeeded intent: `amountMinor` or, when absent, everything not refunded yet. */
  createRefund(input: CreateRefundInput): Promise<ProviderRefund>;
  /**
   * Development provider only: completes an intent as if the customer had paid (or been declined)
   * client-side; the outcome arrives through the webhook, asynchronously.
   */
  simulate?(id: string, outcome: "succeeded" | "failed"): Promise<void>;
  /** Starts background work (the development provider's webhook sender). */
  start?(): void;
  close(): Promise<void>;
}

export interface CreateIntentInput {
  amountMinor: number;
  currency: string;
  description?: string;
  /** Kept with the intent and sent back in every webhook: bookingId, userId, attempt. */
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface CreateRefundInput {
  paymentIntentId: string;
  amountMinor?: number;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface PaymentFailure {
  /** The decline code when there is one (e.g. `insufficient_funds`), else the error code (e.g. `card_declined`, `expired_card`). */
  code: string;
  message: string;
}

export interface ProviderIntent {
  id: string;
  clientSecret: string;
  amountMinor: number;
  currency: string;
  status: string;
  metadata: Record<string, string>;
  /** The last payment attempt's error, when it failed. */
  lastPaymentError?: PaymentFailure;
}

export interface ConfirmResult {
  intent: ProviderIntent;
  failure?: PaymentFailure;
}

export interface ProviderRefund {
  id: string;
  paymentIntentId: string;
  amountMinor: number;
  currency: string;
  /** pending, requires_action, succeeded, failed or canceled. */
  status: string;
}

export type ProviderErrorKind =
  /** The request is wrong (unknown payment method, amount over what is left, ...): do not retry. */
  | "invalid_request"
  | "not_found"
  /** The idempotency key was used with other parameters. */
  | "idempotency_conflict"
  /** The object is in a state that does not allow this (e.g. confirming a canceled intent). */
  | "unexpected_state"
  /** The provider cannot be reached or failed on its side: retry later (same key). */
  | "unavailable";

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    /** The provider's own error code, e.g. Stripe's `charge_already_refunded`. */
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
