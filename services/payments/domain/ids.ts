import { randomInt } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomChars(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** A Stripe-shaped object id: `pi_3Q…`, `ch_3Q…`, `re_3Q…`, `evt_3Q…` (24 characters after the prefix). */
export function stripeShapedId(prefix: "pi" | "ch" | "re" | "evt" | "req"): string {
  return `${prefix}_3${randomChars(23)}`;
}

/** A PaymentIntent's client secret, shaped like Stripe's: `pi_…_secret_…`. */
export function clientSecretFor(paymentIntentId: string): string {
  return `${paymentIntentId}_secret_${randomChars(25)}`;
}
