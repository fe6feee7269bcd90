import type { Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import { DevelopmentProvider } from "./development.js";
import type { PaymentProvider } from "./provider.js";
import { StripeProvider } from "./stripe.js";

export type { PaymentProvider } from "./provider.js";

/** Stripe when a secret key is configured, the development provider otherwise. */
export function createProvider(
  config: { stripeSecretKey?: string; stripeApiBase?: string; stripeWebhookSecret: string; webhookUrl: string },
  deps: { db: Knex; logger: Logger },
): PaymentProvider {
  if (config.stripeSecretKey) return new StripeProvider({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
  return new DevelopmentProvider({ db: deps.db, logger: deps.logger, webhook: { url: config.webhookUrl, secret: config.stripeWebhookSecret } });
}
