import type { Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import { DevelopmentGateway } from "./development.js";
import type { PaymentGateway } from "./gateway.js";
import { StripeGateway } from "./stripe.js";

export type { PaymentGateway } from "./gateway.js";

/** Stripe when a secret key is configured, the development gateway otherwise. */
export function createGateway(
  config: { stripeSecretKey?: string; stripeApiBase?: string; stripeWebhookSecret: string; webhookUrl: string },
  deps: { db: Knex; logger: Logger },
): PaymentGateway {
  if (config.stripeSecretKey) return new StripeGateway({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
  return new DevelopmentGateway({ db: deps.db, logger: deps.logger, webhook: { url: config.webhookUrl, secret: config.stripeWebhookSecret } });
}
