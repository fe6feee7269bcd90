/**
 * Stripe's test PaymentMethod ids (https://docs.stripe.com/testing) and what the development
 * provider does with each, so that `pm_card_visa` succeeds and `pm_card_chargeDeclined` fails on
 * the development provider exactly as on Stripe in test mode. Pure.
 */

export type CardOutcome =
  | { kind: "succeeded"; brand: string }
  | { kind: "declined"; code: string; declineCode?: string; message: string }
  | { kind: "requires_action" };

const succeeds: Record<string, string> = {
  pm_card_visa: "visa",
  pm_card_visa_debit: "visa",
  pm_card_mastercard: "mastercard",
  pm_card_mastercard_debit: "mastercard",
  pm_card_mastercard_prepaid: "mastercard",
  pm_card_amex: "amex",
  pm_card_discover: "discover",
  pm_card_diners: "diners",
  pm_card_jcb: "jcb",
  pm_card_unionpay: "unionpay",
  pm_card_us: "visa",
  pm_card_gb: "visa",
  pm_card_de: "visa",
  pm_card_fr: "visa",
  pm_card_in: "visa",
};

const declined = (declineCode: string, message: string, code = "card_declined"): CardOutcome => ({
  kind: "declined",
  code,
  declineCode: code === "card_declined" ? declineCode : undefined,
  message,
});

const declines: Record<string, CardOutcome> = {
  pm_card_chargeDeclined: declined("generic_decline", "Your card was declined."),
  pm_card_visa_chargeDeclined: declined("generic_decline", "Your card was declined."),
  pm_card_chargeDeclinedInsufficientFunds: declined("insufficient_funds", "Your card has insufficient funds."),
  pm_card_visa_chargeDeclinedInsufficientFunds: declined("insufficient_funds", "Your card has insufficient funds."),
  pm_card_chargeDeclinedLostCard: declined("lost_card", "Your card was declined."),
  pm_card_visa_chargeDeclinedLostCard: declined("lost_card", "Your card was declined."),
  pm_card_chargeDeclinedStolenCard: declined("stolen_card", "Your card was declined."),
  pm_card_visa_chargeDeclinedStolenCard: declined("stolen_card", "Your card was declined."),
  pm_card_chargeDeclinedFraudulent: declined("fraudulent", "Your card was declined."),
  pm_card_visa_chargeDeclinedFraudulent: declined("fraudulent", "Your card was declined."),
  pm_card_chargeDeclinedExpiredCard: declined("", "Your card has expired.", "expired_card"),
  pm_card_visa_chargeDeclinedExpiredCard: declined("", "Your card has expired.", "expired_card"),
  pm_card_chargeDeclinedIncorrectCvc: declined("", "Your card's security code is incorrect.", "incorrect_cvc"),
  pm_card_visa_chargeDeclinedIncorrectCvc: declined("", "Your card's security code is incorrect.", "incorrect_cvc"),
  pm_card_chargeDeclinedProcessingError: declined("", "An error occurred while processing your card. Try again in a little bit.", "processing_error"),
  pm_card_visa_chargeDeclinedProcessingError: declined("", "An error occurred while processing your card. Try again in a little bit.", "processing_error"),
};

const authentication = new Set(["pm_card_authenticationRequired", "pm_card_threeDSecure2Required", "pm_card_threeDSecureRequired"]);

/** What confirming with `paymentMethodId` does; undefined for an id Stripe would not know. */
export function cardOutcome(paymentMethodId: string): CardOutcome | undefined {
  if (paymentMethodId in succeeds) return { kind: "succeeded", brand: succeeds[paymentMethodId] };
  if (paymentMethodId in declines) return declines[paymentMethodId];
  if (authentication.has(paymentMethodId)) return { kind: "requires_action" };
  return undefined;
}

/** The payment method SimulatePayment uses for each outcome. */
export const SIMULATED_METHOD = { succeeded: "pm_card_visa", failed: "pm_card_chargeDeclined" } as const;
