import { ConfigError, optionalStr, str, url } from "../../lib/config.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";
import { DEFAULT_PORTS } from "../../lib/services.js";

/** The documented development webhook secret: what the development provider signs with by default. */
export const DEV_WEBHOOK_SECRET = "whsec_dev_only_do_not_use_in_production";

export const paymentsVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  port: portVar("payments"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  stripeSecretKey: optionalStr("STRIPE_SECRET_KEY", {
    doc: "payments: Stripe secret API key (`sk_test_…`, `sk_live_…` or a restricted `rk_…`); unset = the development payment provider",
  }),
  stripeApiBase: optionalStr("STRIPE_API_BASE", {
    doc: "payments: Stripe API base URL override, e.g. stripe-mock's `http://127.0.0.1:12111` (tests); unset = `https://api.stripe.com`",
  }),
  stripeWebhookSecret: str("STRIPE_WEBHOOK_SECRET", {
    default: DEV_WEBHOOK_SECRET,
    devDefault: true,
    doc: "payments: secret the `Stripe-Signature` of webhooks is verified with (Stripe's `whsec_…` of the endpoint); the development provider signs its events with it",
  }),
  webhookUrl: url("PAYMENTS_WEBHOOK_URL", {
    default: `http://127.0.0.1:${DEFAULT_PORTS.gateway}/api/v1/payments/webhook`,
    doc: "payments (development provider): where it delivers its signed webhook events: the public gateway's `POST /api/v1/payments/webhook`",
  }),
  taskQueueSuffix: optionalStr("PAYMENTS_TASK_QUEUE_SUFFIX", {
    doc: "payments: suffix of its activity task queue (`payments-activities-<suffix>`), matching workflows on `ticketing-workflows-<suffix>`; tests only",
  }),
};

export type PaymentsConfig = ReturnType<typeof readPaymentsConfig>;

export function readPaymentsConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = readServiceConfig(paymentsVars, env);
  const problems: string[] = [];
  if (config.stripeWebhookSecret.trim() === "") problems.push("STRIPE_WEBHOOK_SECRET must not be empty");
  if (config.stripeApiBase !== undefined) {
    try {
      const u = new URL(config.stripeApiBase);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      problems.push(`STRIPE_API_BASE must be an http(s) URL, got "${config.stripeApiBase}"`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}
