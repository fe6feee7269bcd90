import { bookingRefundKey, cancelKey, confirmKey, intentKey } from "../domain/keys.js";
import { bookingPaymentStatus, cancellationReason, isFailedAttempt, mayMove } from "../domain/status.js";
import { cardOutcome } from "../domain/test-cards.js";
import { clientSecretFor, stripeShapedId } from "../domain/ids.js";
import { mapPaymentsError } from "../errors.js";
import { ProviderError } from "../providers/provider.js";
import { TemporalUnavailableError } from "../../../workflows/booking-client.js";
import { paymentsTaskQueue } from "../worker.js";
import { Code } from "@connectrpc/connect";
import { AppError } from "../../../lib/errors.js";
import { activityQueue, TASK_QUEUES } from "../../../workflows/task-queues.js";

describe("payments domain", () => {
  it("derives idempotency keys from booking, step and attempt", () => {
    const b = "11111111-2222-3333-4444-555555555555";
    expect(intentKey(b, 0)).toBe(`booking-${b}-attempt-0`);
    expect(confirmKey(b, 1, "pm_card_visa")).toBe(`booking-${b}-attempt-1-confirm-pm_card_visa`);
    expect(cancelKey(b, 2)).toBe(`booking-${b}-attempt-2-cancel`);
    expect(bookingRefundKey(b)).toBe(`refund-${b}`);
  });

  it("makes Stripe-shaped ids and client secrets", () => {
    const pi = stripeShapedId("pi");
    expect(pi).toMatch(/^pi_[0-9A-Za-z]{24}$/);
    expect(clientSecretFor(pi)).toMatch(new RegExp(`^${pi}_secret_[0-9A-Za-z]{25}$`));
    expect(stripeShapedId("evt")).toMatch(/^evt_/);
    expect(stripeShapedId("re")).toMatch(/^re_/);
    expect(stripeShapedId("ch")).toMatch(/^ch_/);
  });

  it("never moves an intent out of a final state, whatever order answers arrive in", () => {
    expect(mayMove("requires_payment_method", "succeeded")).toBe(true);
    expect(mayMove("succeeded", "requires_payment_method")).toBe(false);
    expect(mayMove("canceled", "succeeded")).toBe(false);
    expect(mayMove("processing", "requires_action")).toBe(false);
    expect(mayMove("processing", "succeeded")).toBe(true);
    expect(mayMove("succeeded", "succeeded")).toBe(false);
  });

  it("derives the booking's payment status", () => {
    const failed = { status: "requires_payment_method", failedAt: new Date(), amountMinor: 100 };
    const open = { status: "requires_payment_method", failedAt: null, amountMinor: 100 };
    const paid = { status: "succeeded", failedAt: new Date(), amountMinor: 100 };
    expect(isFailedAttempt(failed)).toBe(true);
    expect(isFailedAttempt(paid)).toBe(false);
    expect(bookingPaymentStatus([open], 0)).toBe("pending");
    expect(bookingPaymentStatus([failed], 0)).toBe("failed");
    expect(bookingPaymentStatus([failed, open], 0)).toBe("pending");
    expect(bookingPaymentStatus([failed, paid], 0)).toBe("paid");
    expect(bookingPaymentStatus([paid], 50)).toBe("paid");
    expect(bookingPaymentStatus([paid], 100)).toBe("refunded");
    expect(bookingPaymentStatus([], 0)).toBe("pending");
  });

  it("knows Stripe's test payment methods", () => {
    expect(cardOutcome("pm_card_visa")).toEqual({ kind: "succeeded", brand: "visa" });
    expect(cardOutcome("pm_card_chargeDeclined")).toMatchObject({ kind: "declined", code: "card_declined", declineCode: "generic_decline" });
    expect(cardOutcome("pm_card_chargeDeclinedInsufficientFunds")).toMatchObject({ declineCode: "insufficient_funds" });
    expect(cardOutcome("pm_card_chargeDeclinedExpiredCard")).toMatchObject({ code: "expired_card" });
    expect(cardOutcome("pm_card_authenticationRequired")).toEqual({ kind: "requires_action" });
    expect(cardOutcome("pm_nope")).toBeUndefined();
    expect(cancellationReason("abandoned")).toBe("abandoned");
    expect(cancellationReason("hold expired")).toBeUndefined();
  });

  it("its activity queue follows the workflows' suffix", () => {
    expect(paymentsTaskQueue()).toBe(TASK_QUEUES.payments);
    expect(paymentsTaskQueue("e2e")).toBe(activityQueue("payments", `${TASK_QUEUES.workflows}-e2e`));
    expect(paymentsTaskQueue("-e2e")).toBe(activityQueue("payments", `${TASK_QUEUES.workflows}-e2e`));
  });

  it("maps its core's errors to API errors; anything else passes on unchanged", () => {
    const api = (err: unknown) => {
      const e = mapPaymentsError(err);
      return e instanceof AppError ? { code: Code[e.code], message: e.message } : e;
    };
    expect(api(new ProviderError("invalid_request", "No such PaymentMethod: 'pm_x'"))).toEqual({ code: "InvalidArgument", message: "payment gateway: No such PaymentMethod: 'pm_x'" });
    expect(api(new ProviderError("not_found", "No such payment_intent: 'pi_x'"))).toEqual({ code: "NotFound", message: "payment gateway: No such payment_intent: 'pi_x'" });
    expect(api(new ProviderError("idempotency_conflict", "key reused"))).toEqual({ code: "AlreadyExists", message: "payment gateway: key reused" });
    expect(api(new ProviderError("unexpected_state", "canceled"))).toEqual({ code: "FailedPrecondition", message: "payment gateway: canceled" });
    expect(api(new ProviderError("unavailable", "Stripe: socket hang up"))).toEqual({ code: "Unavailable", message: "the payment gateway cannot be reached right now; retry later" });
    expect(api(new TemporalUnavailableError("down"))).toEqual({ code: "Unavailable", message: "booking workflows cannot be reached right now; retry later" });
    expect(mapPaymentsError(new Error("disk full"))).toBeUndefined();
  });
});
