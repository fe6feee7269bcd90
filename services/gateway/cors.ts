import { cors } from "@connectrpc/connect";
import { HttpError, sendError, sendJson, type NodeRequest, type NodeResponse } from "./http-io.js";

/** Headers a browser may send: Connect/gRPC-Web's, plus the API's own. */
export const CORS_ALLOWED_HEADERS = [...cors.allowedHeaders, "Authorization", "Idempotency-Key", "X-Request-Id"];
/** Headers a browser script may read: Connect/gRPC-Web's (grpc-status...), plus the request id. */
export const CORS_EXPOSED_HEADERS = [...cors.exposedHeaders, "X-Request-Id", "Allow", "Retry-After"];
export const CORS_ALLOWED_METHODS = [...new Set([...cors.allowedMethods, "GET", "POST", "PUT", "PATCH", "DELETE"])];
/** How long a browser may cache a preflight answer. */
const MAX_AGE_SECONDS = 7200;

export type CorsOrigins = "*" | readonly string[];

function originAllowed(origins: CorsOrigins, origin: string): boolean {
  return origins === "*" || origins.includes(origin);
}

/**
 * CORS for browsers (the web app over Connect-Web, and REST from scripts). Adds the CORS
 * response headers when the Origin is allowed, and answers preflights itself: 204 for an
 * allowed origin, 403 for another one. Access tokens travel in the Authorization header, so
 * credentials are not enabled. The one cookie, the web app's refresh token (refresh-cookie.ts),
 * is same-origin only: without credentials no other origin's request carries it or may set it,
 * and its opt-in header (X-Refresh-Cookie) is deliberately not an allowed header. Returns true
 * when the request has been answered.
 *
 * An OPTIONS request that is not a preflight gets 204 with the path's `Allow` methods.
 */
export function handleCors(req: NodeRequest, res: NodeResponse, origins: CorsOrigins, allowFor: (path: string) => string[]): boolean {
  const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
  const allowed = origin !== undefined && originAllowed(origins, origin);
  // with an allow-list the answer depends on the Origin: caches must key on it
  if (origins !== "*") res.setHeader("vary", "Origin");
  if (origin !== undefined) {
    if (allowed) {
      res.setHeader("access-control-allow-origin", origins === "*" ? "*" : origin);
      res.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
    }
  }
  if (req.method !== "OPTIONS") return false;

  const preflight = origin !== undefined && req.headers["access-control-request-method"] !== undefined;
  if (preflight) {
    if (!allowed) {
      sendError(req, res, new HttpError(403, "permission_denied", `origin ${origin} is not allowed to call this API`));
      return true;
    }
    res.setHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    res.setHeader("access-control-allow-methods", CORS_ALLOWED_METHODS.join(", "));
    res.setHeader("access-control-allow-headers", CORS_ALLOWED_HEADERS.join(", "));
    res.setHeader("access-control-max-age", String(MAX_AGE_SECONDS));
    sendJson(res, 204, undefined);
    return true;
  }
  const path = (req.url ?? "/").split("?")[0];
  const methods = allowFor(path);
  if (methods.length === 0) {
    sendError(req, res, new HttpError(404, "not_found", `no route for OPTIONS ${path}`));
    return true;
  }
  sendJson(res, 204, undefined, { allow: [...methods, "OPTIONS"].join(", ") });
  return true;
}
