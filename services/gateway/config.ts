import { int, readConfig, str } from "../../lib/config.js";
import { assertNoDevDefaultsInProduction, commonVars, portVar, urlVar } from "../../lib/common-config.js";
import { SERVICE_NAMES, type ServiceName } from "../../lib/services.js";

const MiB = 1024 * 1024;

/**
 * The gateway's variables. It reads no database or Temporal settings: it only needs where the
 * backends are, its own port, its CORS policy and the service secret (for the one call it makes
 * in its own name, the Stripe webhook pass-through).
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

export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const c = readConfig(gatewayVars, env);
  assertNoDevDefaultsInProduction(c.nodeEnv, gatewayVars, env);
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
    },
    services: parseServices(c.services),
    corsOrigins: parseCorsOrigins(c.corsOrigins),
    maxBodyBytes: c.maxBodyBytes,
    upstreamTimeoutMs: c.upstreamTimeoutMs,
  };
}
