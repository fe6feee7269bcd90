import { randomUUID } from "node:crypto";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import type { Transport } from "@connectrpc/connect";
import { bearerToken, looksLikeServiceCredential } from "../../lib/auth.js";
import { clientAddress, CLIENT_ADDRESS_HEADER } from "../../lib/client-address.js";
import { REQUEST_ID_HEADER } from "../../lib/context.js";
import { replicaUrls, roundRobin } from "../../lib/clients.js";
import { AppError } from "../../lib/errors.js";

/**
 * A backend the gateway forwards to: one gRPC (HTTP/2) connection per replica, each reused by
 * every call; `transport` sends each call to the next replica in turn (lib/clients.ts).
 */
export interface Backend {
  name: string;
  baseUrl: string;
  transport: Transport;
  /** One transport per replica (the /healthz probe asks each). */
  replicas: readonly Transport[];
  close(): void;
}

/** `baseUrl`: the backend's URL, or its replicas' URLs, comma-separated. */
export function createBackend(name: string, baseUrl: string): Backend {
  const urls = replicaUrls(baseUrl);
  const sessions = urls.map((url) => new Http2SessionManager(url));
  // no default deadline on the transport: server streams (live seat maps) stay open; unary calls
  // get the caller's deadline or the gateway's upstream timeout per call
  // acceptCompression []: the backends answer uncompressed (gzip on an internal hop costs CPU on
  // both ends and saves nothing); what the gateway sends its own clients is its business
  const replicas = sessions.map((sessionManager, i) =>
    createGrpcTransport({ baseUrl: urls[i], sessionManager, readMaxBytes: 64 * 1024 * 1024, acceptCompression: [] }),
  );
  return { name, baseUrl, transport: roundRobin(replicas), replicas, close: () => sessions.forEach((s) => s.abort()) };
}

/**
 * Request headers passed on to the backends, besides the request id and the client address
 * (which the gateway sets itself). Nothing else crosses: an `x-client-address` sent from
 * outside is dropped like any other header.
 */
export const FORWARDED_HEADERS = ["authorization", "idempotency-key"] as const;

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is a sane token, else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && SANE_REQUEST_ID.test(v) ? v : randomUUID();
}

/**
 * The headers of a forwarded call: the allow-listed caller headers, the request id and the
 * caller's address as the gateway established it (lib/client-address.ts clientAddress).
 */
export function forwardedHeaders(get: (name: string) => string | undefined, requestId: string, clientAddress?: string): Headers {
  const out = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const v = get(name);
    if (v) out.set(name, v);
  }
  out.set(REQUEST_ID_HEADER, requestId);
  if (clientAddress) out.set(CLIENT_ADDRESS_HEADER, clientAddress);
  return out;
}

/**
 * The gateway never accepts an internal service credential from outside (it would pass every
 * access level on the backends). Returns why the caller is refused (401), or undefined. A
 * malformed Authorization header is refused here too; a user token is left to the backends,
 * which verify it themselves.
 */
export function refusalOf(authorization: string | undefined): string | undefined {
  let token: string | undefined;
  try {
    token = bearerToken(authorization);
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
  if (token && looksLikeServiceCredential(token)) {
    return "service credentials are not accepted from outside; sign in and use your access token";
  }
  return undefined;
}

/**
 * The caller's address: the socket's peer, or with `trustedProxies` > 0 the entry of
 * X-Forwarded-For that many hops in (lib/client-address.ts clientAddress).
 */
export function callerAddressOf(
  req: { socket?: { remoteAddress?: string } | null; headers: Record<string, string | string[] | undefined> },
  trustedProxies: number,
): string | undefined {
  const xff = req.headers["x-forwarded-for"];
  return clientAddress(req.socket?.remoteAddress, Array.isArray(xff) ? xff.join(",") : xff, trustedProxies);
}
