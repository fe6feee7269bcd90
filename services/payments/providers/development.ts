import { createHash } from "node:crypto";
import type { Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import { clientSecretFor, stripeShapedId } from "../domain/ids.js";
import { isCancelable, type CancellationReason } from "../domain/status.js";
import { cardOutcome, SIMULATED_METHOD, type CardOutcome } from "../domain/test-cards.js";
import {
  ProviderError,
  type ConfirmResult,
  type CreateIntentInput,
  type CreateRefundInput,
  type ProviderIntent,
  type ProviderRefund,
  type PaymentProvider,
} from "./provider.js";
import { WebhookSender, type WebhookSenderOptions } from "./webhook-sender.js";

/** The Stripe API version the development provider's events claim to be (the SDK's pinned one). */
export const DEV_API_VERSION = "2026-10-28.endive";

export interface DevelopmentProviderOptions {
  db: Knex;
  logger: Logger;
  webhook: { url: string; secret: string } & Partial<Omit<WebhookSenderOptions, "db" | "logger" | "url" | "secret">>;
}

interface IntentRow {
  id: string;
  amount: string | number;
  currency: string;
  status: string;
  client_secret: string;
  description: string | null;
  metadata: Record<string, string>;
  payment_method: string | null;
  latest_charge: string | null;
  last_payment_error: StripeErrorObject | null;
  amount_received: string | number;
  amount_refunded: string | number;
  cancellation_reason: string | null;
  canceled_at: Date | null;
  created_at: Date;
}

interface StripeErrorObject {
  type: string;
  code: string;
  decline_code?: string;
  message: string;
  payment_method?: { id: string; object: "payment_method" };
}

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

function intentOf(row: IntentRow): ProviderIntent {
  const err = row.last_payment_error;
  return {
    id: row.id,
    clientSecret: row.client_secret,
    amountMinor: Number(row.amount),
    currency: row.currency.toUpperCase(),
    status: row.status,
    metadata: row.metadata,
    lastPaymentError: err ? { code: err.decline_code || err.code, message: err.message } : undefined,
  };
}

/** The PaymentIntent as Stripe's API and events show it. */
export function paymentIntentObject(row: IntentRow): Record<string, unknown> {
  return {
    id: row.id,
    object: "payment_intent",
    amount: Number(row.amount),
    amount_capturable: 0,
    amount_received: Number(row.amount_received),
    automatic_payment_methods: { allow_redirects: "never", enabled: true },
    canceled_at: row.canceled_at ? unix(row.canceled_at) : null,
    cancellation_reason: row.cancellation_reason,
    capture_method: "automatic_async",
    client_secret: row.client_secret,
    confirmation_method: "automatic",
    created: unix(row.created_at),
    currency: row.currency,
    customer: null,
    description: row.description,
    last_payment_error: row.last_payment_error,
    latest_charge: row.latest_charge,
    livemode: false,
    metadata: row.metadata,
    next_action: row.status === "requires_action" ? { type: "use_stripe_sdk", use_stripe_sdk: {} } : null,
    payment_method: row.payment_method,
    payment_method_types: ["card"],
    status: row.status,
  };
}

function chargeObject(row: IntentRow): Record<string, unknown> {
  const amount = Number(row.amount);
  const refunded = Number(row.amount_refunded);
  return {
    id: row.latest_charge,
    object: "charge",
    amount,
    amount_captured: amount,
    amount_refunded: refunded,
    captured: true,
    created: unix(row.created_at),
    currency: row.currency,
    livemode: false,
    metadata: row.metadata,
    paid: true,
    payment_intent: row.id,
    payment_method: row.payment_method,
    refunded: refunded >= amount,
    status: "succeeded",
  };
}

/**
 * The development payment provider (no STRIPE_SECRET_KEY): a small Stripe of its own in the
 * payments schema. It keeps PaymentIntents and refunds with Stripe's ids (`pi_…`, `ch_…`,
 * `re_…`, client secrets `pi_…_secret_…`) and states, honours idempotency keys like Stripe (same
 * key + same request → the first answer; other request → an idempotency error), treats Stripe's
 * test payment methods like Stripe test mode (`pm_card_visa` succeeds, `pm_card_chargeDeclined`
 * is declined), and sends Stripe-format events (`payment_intent.succeeded`,
 * `payment_intent.payment_failed`, `charge.refunded`) signed with STRIPE_WEBHOOK_SECRET to the
 * real webhook endpoint, so the whole webhook path runs locally as in production.
 */
export class DevelopmentProvider implements PaymentProvider {
  readonly name = "development" as const;
  private readonly sender: WebhookSender;

  constructor(private readonly opts: DevelopmentProviderOptions) {
    this.sender = new WebhookSender({ db: opts.db, logger: opts.logger, ...opts.webhook });
  }

  start(): void {
    this.sender.start();
  }

  async close(): Promise<void> {
    await this.sender.stop();
  }

  async createPaymentIntent(input: CreateIntentInput): Promise<ProviderIntent> {
    return this.idempotent(input.idempotencyKey, "payment_intents.create", input, async (trx) => {
      const id = stripeShapedId("pi");
      const [row]: IntentRow[] = await trx("devgw_payment_intents")
        .insert({
          id,
          amount: input.amountMinor,
          currency: input.currency.toLowerCase(),
          status: "requires_payment_method",
          client_secret: clientSecretFor(id),
          description: input.description || null,
          metadata: JSON.stringify(input.metadata),
        })
        .returning("*");
      return intentOf(row);
    });
  }

  async retrievePaymentIntent(id: string): Promise<ProviderIntent> {
    return intentOf(await this.intentRow(this.opts.db, id, false));
  }

  async confirmPaymentIntent(input: { id: string; paymentMethodId: string; idempotencyKey: string }): Promise<ConfirmResult> {
    return this.idempotent(input.idempotencyKey, "payment_intents.confirm", input, async (trx) => {
      const outcome = cardOutcome(input.paymentMethodId);
      if (!outcome) throw new ProviderError("invalid_request", `No such PaymentMethod: '${input.paymentMethodId}'`, "resource_missing");
      return this.pay(trx, input.id, input.paymentMethodId, outcome, input.idempotencyKey);
    });
  }

  async cancelPaymentIntent(input: { id: string; reason?: CancellationReason; idempotencyKey: string }): Promise<ProviderIntent> {
    return this.idempotent(input.idempotencyKey, "payment_intents.cancel", input, async (trx) => {
      const row = await this.intentRow(trx, input.id, true);
      if (!isCancelable(row.status)) return intentOf(row); // Stripe refuses; we report where it is
      const [updated] = await trx<IntentRow>("devgw_payment_intents")
        .where({ id: row.id })
        .update({ status: "canceled", canceled_at: trx.fn.now(), cancellation_reason: input.reason ?? null })
        .returning("*");
      return intentOf(updated);
    });
  }

  async createRefund(input: CreateRefundInput): Promise<ProviderRefund> {
    return this.idempotent(input.idempotencyKey, "refunds.create", input, async (trx) => {
      const row = await this.intentRow(trx, input.paymentIntentId, true);
      if (row.status !== "succeeded" || !row.latest_charge) {
        throw new ProviderError("invalid_request", `PaymentIntent ${row.id} does not have a successful charge to refund.`, "charge_not_refundable");
      }
      const left = Number(row.amount) - Number(row.amount_refunded);
      if (left <= 0) throw new ProviderError("invalid_request", `Charge ${row.latest_charge} has already been refunded.`, "charge_already_refunded");
      const amount = input.amountMinor ?? left;
      if (amount > left) {
        throw new ProviderError("invalid_request", `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, "amount_too_large");
      }
      const id = stripeShapedId("re");
      await trx("devgw_refunds").insert({
        id,
        payment_intent_id: row.id,
        charge_id: row.latest_charge,
        amount,
        currency: row.currency,
        status: "succeeded",
        metadata: JSON.stringify(input.metadata),
      });
      const [updated] = await trx<IntentRow>("devgw_payment_intents")
        .where({ id: row.id })
        .update({ amount_refunded: trx.raw("amount_refunded + ?", [amount]) })
        .returning("*");
      await this.enqueue(trx, "charge.refunded", chargeObject(updated), input.idempotencyKey);
      return { id, paymentIntentId: row.id, amountMinor: amount, currency: row.currency.toUpperCase(), status: "succeeded" };
    });
  }

  /** The customer pays (or is declined) client-side; the webhook tells the platform. */
  async simulate(id: string, outcome: "succeeded" | "failed"): Promise<void> {
    await this.opts.db.transaction(async (trx) => {
      const method = SIMULATED_METHOD[outcome];
      await this.pay(trx, id, method, cardOutcome(method)!, null);
    });
    this.sender.kick();
  }

  // ─── internals ───

  private async intentRow(db: Knex | Knex.Transaction, id: string, lock: boolean): Promise<IntentRow> {
    const q = db<IntentRow>("devgw_payment_intents").where({ id }).first();
    const row = await (lock ? q.forUpdate() : q);
    if (!row) throw new ProviderError("not_found", `No such payment_intent: '${id}'`, "resource_missing");
    return row;
  }

  /** A confirmation attempt with a payment method: succeeded, declined or needing authentication. */
  private async pay(trx: Knex.Transaction, id: string, paymentMethodId: string, outcome: CardOutcome, key: string | null): Promise<ConfirmResult> {
    const row = await this.intentRow(trx, id, true);
    if (!["requires_payment_method", "requires_confirmation", "requires_action"].includes(row.status)) {
      throw new ProviderError(
        "unexpected_state",
        `This PaymentIntent's payment_method could not be updated because it has a status of ${row.status}.`,
        "payment_intent_unexpected_state",
      );
    }
    if (outcome.kind === "succeeded") {
      const [updated] = await trx<IntentRow>("devgw_payment_intents")
        .where({ id })
        .update({
          status: "succeeded",
          payment_method: paymentMethodId,
          latest_charge: stripeShapedId("ch"),
          amount_received: row.amount,
          last_payment_error: null,
        })
        .returning("*");
      await this.enqueue(trx, "payment_intent.succeeded", paymentIntentObject(updated), key);
      return { intent: intentOf(updated) };
    }
    if (outcome.kind === "requires_action") {
      const [updated] = await trx<IntentRow>("devgw_payment_intents")
        .where({ id })
        .update({ status: "requires_action", payment_method: paymentMethodId })
        .returning("*");
      return {
        intent: intentOf(updated),
        failure: { code: "authentication_required", message: "the card requires authentication, which a server-side confirmation cannot complete" },
      };
    }
    const error: StripeErrorObject = {
      type: "card_error",
      code: outcome.code,
      ...(outcome.declineCode ? { decline_code: outcome.declineCode } : {}),
      message: outcome.message,
      payment_method: { id: paymentMethodId, object: "payment_method" },
    };
    const [updated]: IntentRow[] = await trx("devgw_payment_intents")
      .where({ id })
      .update({ status: "requires_payment_method", payment_method: null, last_payment_error: JSON.stringify(error) })
      .returning("*");
    await this.enqueue(trx, "payment_intent.payment_failed", paymentIntentObject(updated), key);
    return { intent: intentOf(updated), failure: { code: outcome.declineCode || outcome.code, message: outcome.message } };
  }

  /** Stores a Stripe-format event for delivery once this transaction commits. */
  private async enqueue(trx: Knex.Transaction, type: string, object: Record<string, unknown>, idempotencyKey: string | null): Promise<void> {
    const id = stripeShapedId("evt");
    const event = {
      id,
      object: "event",
      api_version: DEV_API_VERSION,
      created: Math.floor(Date.now() / 1000),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: idempotencyKey ? stripeShapedId("req") : null, idempotency_key: idempotencyKey },
      type,
    };
    await trx("devgw_events").insert({ id, type, payload: JSON.stringify(event) });
  }

  /**
   * Stripe's idempotent requests: the first request with a key runs and its answer (or its
   * business error) is stored in the same transaction; a later one with the same key and the same
   * parameters gets that answer; other parameters are an idempotency error. A concurrent twin
   * waits on the key's row and then replays.
   */
  private async idempotent<T>(key: string, operation: string, params: object, run: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const hash = createHash("sha256").update(operation).update(JSON.stringify(params)).digest("hex");
    const result = await this.opts.db.transaction(async (trx) => {
      const claimed = await trx("devgw_idempotency_keys")
        .insert({ key, operation, request_hash: hash })
        .onConflict("key")
        .ignore()
        .returning("key");
      if (claimed.length === 0) {
        const stored = await trx("devgw_idempotency_keys").where({ key }).first();
        if (stored.request_hash !== hash) {
          throw new ProviderError(
            "idempotency_conflict",
            `Keys for idempotent requests can only be used with the same parameters they were first used with (key ${key}).`,
            "idempotency_key_in_use",
          );
        }
        return { replayed: true, value: stored.response as { ok: T } | { error: { kind: ProviderError["kind"]; message: string; code?: string } } };
      }
      let outcome: { ok: T } | { error: { kind: ProviderError["kind"]; message: string; code?: string } };
      try {
        outcome = { ok: await run(trx) };
      } catch (err) {
        // business errors are answers too (Stripe replays a 4xx for the same key); anything
        // else rolls back and leaves the key free for a retry
        if (!(err instanceof ProviderError) || err.kind === "unavailable") throw err;
        outcome = { error: { kind: err.kind, message: err.message, code: err.providerCode } };
      }
      await trx("devgw_idempotency_keys").where({ key }).update({ response: JSON.stringify(outcome) });
      return { replayed: false, value: outcome };
    });
    if (!result.replayed) this.sender.kick();
    const value = result.value;
    if ("error" in value) throw new ProviderError(value.error.kind, value.error.message, value.error.code);
    return value.ok;
  }
}
