import { resolve } from "node:path";
import { int, optionalStr, str } from "../../lib/config.js";
import { readServiceConfig, commonVars, portVar, sessionVars, temporalVars, urlVar } from "../../lib/common-config.js";
import { SERVICE_NAMES, type ServiceName } from "../../lib/services.js";

const MiB = 1024 * 1024;

/**
 * The gateway's variables. It reads no database or Temporal connection settings: it only needs
 * where the backends are, its own port, its CORS policy, the service secret (for the one call it
 * makes in its own name, the Stripe webhook pass-through), and what the browser app needs: where
 * its files are, the settings it reads from /app-config.json, and the lifetime of its refresh
 * cookie.
 */
export const gatewayVars = {
  nodeEnv: commonVars.nodeEnv,
  host: commonVars.host,
  logLevel: commonVars.logLevel,
  serviceAuthSecret: commonVars.serviceAuthSecret,
  port: portVar("gateway"),
  usersUrl: urlVar("users"),
  catalogUrl: urlVar("catalog"),
  bookingUrl: urlVar("booking"),
  paymentsUrl: urlVar("payments"),
  searchUrl: urlVar("search"),
  notificationsUrl: urlVar("notifications"),
  reviewsUrl: urlVar("reviews"),
  admissionUrl: urlVar("admission"),
  ticketsUrl: urlVar("tickets"),
  services: str("GATEWAY_SERVICES", {
    default: SERVICE_NAMES.join(","),
    doc: "gateway: comma-separated backends this deployment runs; /healthz waits for these only (the others' routes answer 503)",
  }),
  corsOrigins: str("CORS_ORIGINS", {
    default: "*",
    devDefault: true,
    doc: "gateway: comma-separated origins browsers may call the API from (e.g. https://tickets.example.com); `*` allows any origin (development only)",
  }),
  maxBodyBytes: int("GATEWAY_MAX_BODY_BYTES", {
    default: String(8 * MiB),
    min: 1024,
    max: 256 * MiB,
    doc: "gateway: largest REST/Connect request body accepted (413 past it); 8 MiB fits a hall of 100,000 seats",
  }),
  upstreamTimeoutMs: int("GATEWAY_UPSTREAM_TIMEOUT_MS", {
    default: "30000",
    min: 100,
    max: 600_000,
    doc: "gateway: deadline of a REST call to a backend when the caller sets none (Connect/gRPC callers set their own)",
  }),
  trustedProxies: int("GATEWAY_TRUSTED_PROXIES", {
    default: "0",
    min: 0,
    max: 10,
    doc: "gateway: how many proxies of yours (load balancers) stand in front of the gateway; the caller's address, which rate limits count by, is then read that many hops into X-Forwarded-For instead of from the socket (0: the socket's peer, X-Forwarded-For ignored; never set it higher than the real number, or callers can forge their address)",
  }),
  webDir: str("GATEWAY_WEB_DIR", {
    default: "web/dist",
    doc: "gateway: directory of the built browser app (`npm run build:web`), served at / with a fallback to index.html for the app's routes; relative to the working directory; read once per file and kept in memory until the file changes",
  }),
  stripePublishableKey: optionalStr("STRIPE_PUBLISHABLE_KEY", {
    doc: "gateway: Stripe publishable key (`pk_test_…` or `pk_live_…`) the web app pays with, given to it in /app-config.json; also lets Stripe.js through the app's Content-Security-Policy; unset = the app uses the development payment provider",
  }),
  temporalUiUrl: optionalStr("TEMPORAL_UI_URL", {
    doc: "gateway: base URL of the Temporal UI (e.g. http://localhost:8233), given to the web app in /app-config.json so that admins can open a booking's workflow; unset = no link",
  }),
  temporalNamespace: temporalVars.temporalNamespace,
  refreshTokenTtlSeconds: sessionVars.refreshTokenTtlSeconds,
};

export interface GatewayConfig {
  nodeEnv: "development" | "test" | "production";
  host: string;
  port: number;
  logLevel: string;
  serviceAuthSecret: string;
  /** Base URL of every backend, by service name. */
  urls: Record<ServiceName, string>;
  /** The backends this deployment runs (GATEWAY_SERVICES). */
  services: ServiceName[];
  /** "*" or the exact origins allowed. */
  corsOrigins: "*" | string[];
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** Proxies of ours in front of the gateway (X-Forwarded-For hops trusted). */
  trustedProxies: number;
  /** Absolute path of the built web app (GATEWAY_WEB_DIR resolved against the working directory). */
  webDir: string;
  stripePublishableKey?: string;
  temporalUiUrl?: string;
  temporalNamespace: string;
  /** Max-Age of the web app's refresh cookie: the refresh tokens' lifetime. */
  refreshTokenTtlSeconds: number;
}

/** A comma-separated list of service names from lib/services.ts. */
export function parseServices(raw: string): ServiceName[] {
  const list = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const name of list) {
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`GATEWAY_SERVICES: unknown service "${name}"; known: ${SERVICE_NAMES.join(", ")}`);
    }
  }
  return list as ServiceName[];
}

/** `*` or a list of origins (scheme://host[:port], no trailing slash). */
export function parseCorsOrigins(raw: string): "*" | string[] {
  const list = raw
    .split(",")
    .map((s) => s.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  if (list.length === 0 || list.includes("*")) return "*";
  for (const origin of list) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port])`);
    }
    if (url.origin !== origin) throw new Error(`CORS_ORIGINS: "${origin}" is not an origin; did you mean "${url.origin}"?`);
  }
  return list;
}

/** A Stripe publishable key: `pk_test_…` or `pk_live_…` (a secret `sk_…` key must never reach a browser). */
export function parseStripePublishableKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const key = raw.trim();
  if (!/^pk_(test|live)_\S+$/.test(key)) {
    const hint = /^(sk|rk)_/.test(key) ? " (this looks like a secret key: it must never be given to browsers)" : "";
    throw new Error(`STRIPE_PUBLISHABLE_KEY must start with pk_test_ or pk_live_${hint}`);
  }
  return key;
}

/** An http(s) URL without trailing slashes. */
export function parseTemporalUiUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`TEMPORAL_UI_URL must be a URL (e.g. http://localhost:8233), got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`TEMPORAL_UI_URL must be an http or https URL, got "${raw}"`);
  return url.href.replace(/\/+$/, "");
}

export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const c = readServiceConfig(gatewayVars, env);
  return {
    nodeEnv: c.nodeEnv,
    host: c.host,
    port: c.port,
    logLevel: c.logLevel,
    serviceAuthSecret: c.serviceAuthSecret,
    urls: {
      users: c.usersUrl,
      catalog: c.catalogUrl,
      booking: c.bookingUrl,
      payments: c.paymentsUrl,
      search: c.searchUrl,
      notifications: c.notificationsUrl,
      reviews: c.reviewsUrl,
      admission: c.admissionUrl,
      tickets: c.ticketsUrl,
    },
    services: parseServices(c.services),
    corsOrigins: parseCorsOrigins(c.corsOrigins),
    maxBodyBytes: c.maxBodyBytes,
    upstreamTimeoutMs: c.upstreamTimeoutMs,
    trustedProxies: c.trustedProxies,
    webDir: resolve(c.webDir),
    stripePublishableKey: parseStripePublishableKey(c.stripePublishableKey),
    temporalUiUrl: parseTemporalUiUrl(c.temporalUiUrl),
    temporalNamespace: c.temporalNamespace,
    refreshTokenTtlSeconds: c.refreshTokenTtlSeconds,
  };
}
