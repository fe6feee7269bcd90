import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { PaymentsService } from "../../gen/ticketing/payments/v1/payments_pb.js";
import { callerOf } from "../../lib/context.js";
import { invalidArgument } from "../../lib/errors.js";
import type { IntentRecord } from "./db/repo.js";
import type { Payments } from "./payments.js";
import type { PaymentWebhooks } from "./webhooks.js";

const intentOut = (i: IntentRecord) => ({
  paymentIntentId: i.id,
  clientSecret: i.clientSecret,
  amountMinor: BigInt(i.amountMinor),
  currency: i.currency,
  // the contract's field is still `gateway` (wire name); it is the payment provider's name
  gateway: i.provider,
  status: i.status,
  attempt: i.attempt,
});

/** Safe in JS numbers: the contract caps amounts at 10^10 minor units. */
const minor = (v: bigint) => Number(v);

export function paymentsHandlers(payments: Payments, webhooks: PaymentWebhooks): ServiceImpl<typeof PaymentsService> {
  return {
    async preparePayment(req) {
      const intent = await payments.prepare({
        bookingId: req.bookingId,
        userId: req.userId,
        amountMinor: minor(req.amountMinor),
        currency: req.currency,
        description: req.description || undefined,
      });
      return intentOut(intent);
    },

    async simulatePayment(req, ctx) {
      await payments.simulate(callerOf(ctx), req.paymentIntentId, req.outcome as "succeeded" | "failed");
      return {};
    },

    async confirmPaymentWithMethod(req) {
      const { intent, failure } = await payments.confirm({
        paymentIntentId: req.paymentIntentId,
        paymentMethodId: req.paymentMethodId,
        idempotencyKey: req.idempotencyKey || undefined,
      });
      return {
        paymentIntentId: intent.id,
        status: intent.status,
        failureCode: failure?.code ?? "",
        failureMessage: failure?.message ?? "",
      };
    },

    cancelPaymentIntent: (req) => payments.cancel({ paymentIntentId: req.paymentIntentId, reason: req.reason || undefined }),

    async refundPayment(req) {
      const out = await payments.refund({
        paymentIntentId: req.paymentIntentId,
        amountMinor: minor(req.amountMinor) || undefined,
        reason: req.reason,
        idempotencyKey: req.idempotencyKey,
      });
      return {
        refundId: out.refund?.refundId ?? "",
        status: out.refund?.status ?? "",
        amountMinor: BigInt(out.refund?.amountMinor ?? 0),
        currency: out.refund?.currency ?? "",
        alreadyRefunded: out.alreadyRefunded,
      };
    },

    async getPaymentStatus(req) {
      const lookup = req.lookup;
      if (lookup.case === undefined) throw invalidArgument("lookup", "paymentIntentId or bookingId is required");
      const view = await payments.status(lookup.case === "paymentIntentId" ? { paymentIntentId: lookup.value } : { bookingId: lookup.value });
      const i = view.intent;
      return {
        paymentIntentId: i.id,
        bookingId: i.bookingId,
        status: i.status,
        amountMinor: BigInt(i.amountMinor),
        currency: i.currency,
        amountRefundedMinor: BigInt(view.amountRefundedMinor),
        gateway: i.provider, // wire name `gateway`: the payment provider
        attempt: i.attempt,
        paymentStatus: view.paymentStatus,
        failureCode: i.failedAt && i.status !== "succeeded" ? (i.failureCode ?? "") : "",
        failureMessage: i.failedAt && i.status !== "succeeded" ? (i.failureMessage ?? "") : "",
        history: view.history.map((h) => ({
          paymentIntentId: h.paymentIntentId,
          event: h.event,
          status: h.status,
          source: h.source,
          eventId: h.eventId ?? "",
          failureCode: h.failureCode ?? "",
          at: timestampFromDate(h.at),
        })),
        refunds: view.refunds.map((r) => ({
          refundId: r.refundId ?? "",
          paymentIntentId: r.paymentIntentId,
          amountMinor: BigInt(r.amountMinor),
          currency: r.currency,
          status: r.status,
          reason: r.reason,
          createdAt: timestampFromDate(r.createdAt),
        })),
      };
    },

    async handleWebhook(req) {
      const out = await webhooks.handle(req.payload, req.signature);
      return { eventId: out.eventId, eventType: out.eventType, duplicate: out.duplicate, ignored: out.ignored };
    },
  };
}
