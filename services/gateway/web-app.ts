import { sendJson, type NodeRequest, type NodeResponse } from "./http-io.js";
import type { RestRouter } from "./transcoder.js";

/** What the gateway tells the browser app about this deployment (GET /app-config.json). */
export interface WebAppSettings {
  /** `pk_test_…`/`pk_live_…`; unset = the app pays through the development payment provider. */
  stripePublishableKey?: string;
  /** Base URL of the Temporal UI, for admins' links to a booking's workflow. */
  temporalUiUrl?: string;
  /** The Temporal namespace those links open (default `default`). */
  temporalNamespace?: string;
}

export const APP_CONFIG_PATH = "/app-config.json";

/** Stripe.js and the iframes it opens: js.stripe.com and, in Stripe's current guidance, its subdomains. */
const STRIPE_JS = ["https://js.stripe.com", "https://*.js.stripe.com"];

/**
 * The Content-Security-Policy of the app's HTML: its own origin only, no inline scripts or
 * styles, no plugins, never framed. With a Stripe publishable key, Stripe.js may load (script),
 * open its iframes (payment fields, 3-D Secure) and call Stripe's API.
 */
export function contentSecurityPolicy(opts: { stripe: boolean }): string {
  const directives: Array<[string, string[]]> = [
    ["default-src", ["'self'"]],
    ["script-src", ["'self'", ...(opts.stripe ? STRIPE_JS : [])]],
    ["style-src", ["'self'"]],
    ["img-src", ["'self'", "data:"]],
    ["connect-src", ["'self'", ...(opts.stripe ? ["https://api.stripe.com"] : [])]],
    ["font-src", ["'self'"]],
    ...(opts.stripe ? ([["frame-src", [...STRIPE_JS, "https://hooks.stripe.com"]]] as Array<[string, string[]]>) : []),
    ["object-src", ["'none'"]],
    ["base-uri", ["'self'"]],
    ["form-action", ["'self'"]],
    ["frame-ancestors", ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(" ")}`).join("; ");
}

/** The headers every HTML response of the app carries; built once at start-up. */
export function htmlSecurityHeaders(settings: WebAppSettings): Readonly<Record<string, string>> {
  return Object.freeze({
    "content-security-policy": contentSecurityPolicy({ stripe: settings.stripePublishableKey !== undefined }),
    "referrer-policy": "same-origin",
  });
}

/**
 * `GET /app-config.json`: `{stripePublishableKey, temporalUiUrl, temporalNamespace}`, unset
 * values as null. Revalidated on every load (`no-cache`) so a redeploy with new settings is seen
 * at once.
 */
export function appConfigHandler(settings: WebAppSettings): (req: NodeRequest, res: NodeResponse) => void {
  const document = Object.freeze({
    stripePublishableKey: settings.stripePublishableKey ?? null,
    temporalUiUrl: settings.temporalUiUrl ?? null,
    temporalNamespace: settings.temporalNamespace ?? "default",
  });
  return (_req, res) => sendJson(res, 200, document, { "cache-control": "no-cache", "x-content-type-options": "nosniff" });
}

/**
 * The first path segments the REST routes start with (`api`), so that no app route can shadow
 * an API path, today's or one added to the contracts later under the same prefix. `all` when a
 * route starts with a variable (it could match any path).
 */
export function restPrefixes(router: RestRouter): ReadonlySet<string> | "all" {
  const prefixes = new Set<string>();
  for (const b of router.bindings) {
    const first = b.template.segments[0];
    if (first?.kind !== "literal") return "all";
    prefixes.add(first.value);
  }
  return prefixes;
}

/** `package.Service` as the first of two segments: a Connect/gRPC procedure, never an app route. */
const PROCEDURE = /^\/[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\/[^/]*$/;

function firstSegment(pathname: string): string {
  const raw = pathname.slice(1).split("/", 1)[0];
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Whether a request is the web app's (static files, history fallback): a GET or HEAD whose path
 * is neither under a REST prefix (`/api/...`, which keeps its JSON 404/405) nor shaped like a
 * Connect procedure. Every other method keeps the REST router's JSON 404/405. The gateway's own
 * paths (/healthz, /readyz, JWKS, the webhook, /app-config.json) and the known procedures are
 * matched before this is asked.
 */
export function isWebAppRequest(method: string | undefined, pathname: string, apiPrefixes: ReadonlySet<string> | "all"): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  if (apiPrefixes === "all" || !pathname.startsWith("/")) return false;
  if (apiPrefixes.has(firstSegment(pathname))) return false;
  return !PROCEDURE.test(pathname);
}
