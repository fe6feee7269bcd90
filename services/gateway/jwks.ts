import http from "node:http";
import https from "node:https";
import { HttpError, sendError, type NodeRequest, type NodeResponse } from "./http-io.js";
import { unavailable } from "./errors.js";
import type { Logger } from "../../lib/logger.js";

export const JWKS_PATH = "/.well-known/jwks.json";
const TIMEOUT_MS = 5_000;
const MAX_BYTES = 256 * 1024;

/** GET the users service's JWKS document (plain HTTP on its base URL). */
function fetchJwks(usersUrl: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  const url = new URL(JWKS_PATH, `${usersUrl}/`);
  const get = url.protocol === "https:" ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_BYTES) req.destroy(new Error("JWKS document too large"));
        else chunks.push(c);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 502, body: Buffer.concat(chunks), headers: res.headers }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on("error", reject);
  });
}

/**
 * `GET /.well-known/jwks.json`: the users service's public signing keys, for clients that verify
 * access tokens themselves. Proxied, so the caching headers are the users service's.
 */
export async function handleJwks(req: NodeRequest, res: NodeResponse, usersUrl: string | undefined, logger: Logger): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendError(req, res, new HttpError(405, "unimplemented", `${req.method} is not allowed on ${JWKS_PATH}; allowed: GET`, [], { allow: "GET, HEAD" }));
    return;
  }
  if (!usersUrl) {
    sendError(req, res, new HttpError(503, "unavailable", unavailable("users")));
    return;
  }
  try {
    const upstream = await fetchJwks(usersUrl);
    if (upstream.status !== 200) throw new Error(`users answered ${upstream.status}`);
    res.statusCode = 200;
    res.setHeader("content-type", upstream.headers["content-type"] ?? "application/jwk-set+json");
    res.setHeader("cache-control", upstream.headers["cache-control"] ?? "public, max-age=300");
    res.setHeader("content-length", upstream.body.length);
    if (req.method === "HEAD") res.end();
    else res.end(upstream.body);
  } catch (err) {
    logger.warn({ err }, "cannot fetch the JWKS from the users service");
    sendError(req, res, new HttpError(503, "unavailable", unavailable("users")));
  }
}
