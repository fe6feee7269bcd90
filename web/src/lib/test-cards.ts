/**
 * Stripe's test payment methods offered by the development payment provider's checkout form: they behave
 * there exactly as on Stripe in test mode (services/payments/domain/test-cards.ts).
 */
export const TEST_CARDS = [
  { id: "pm_card_visa", label: "Visa test card: succeeds" },
  { id: "pm_card_mastercard", label: "Mastercard test card: succeeds" },
  { id: "pm_card_chargeDeclined", label: "Test card that is declined" },
  { id: "pm_card_chargeDeclinedInsufficientFunds", label: "Test card with insufficient funds" },
] as const;
