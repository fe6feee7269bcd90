import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { REQUEST_ID_HEADER, currentRequestId } from "./context.js";

/**
 * Adds this service's credential and the current request id to every outgoing call, so the
 * callee can authorise us and the request id flows through every hop.
 */
export function internalCallInterceptor(credential: () => Promise<string>): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${await credential()}`);
    const requestId = currentRequestId();
    if (requestId && !req.header.has(REQUEST_ID_HEADER)) req.header.set(REQUEST_ID_HEADER, requestId);
    return next(req);
  };
}

/**
 * The replicas of a service: `<NAME>_URL` holds one base URL, or several separated by commas
 * (one per replica, lib/common-config.ts `urlVar`).
 */
export function replicaUrls(baseUrls: string): string[] {
  return baseUrls
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
}

/**
 * One transport over several replicas: each call (unary or stream) goes to the next replica in
 * turn. Every replica keeps its own transport, so each keeps its one HTTP/2 connection, opened
 * once and reused by every call sent to it. A replica that is down fails the calls that fall to
 * it (as a single address would): the callers' retries go to the next one.
 */
export function roundRobin(transports: readonly Transport[]): Transport {
  if (transports.length === 0) throw new Error("roundRobin: no transport");
  if (transports.length === 1) return transports[0];
  let next = 0;
  const pick = (): Transport => {
    const t = transports[next];
    next = (next + 1) % transports.length;
    return t;
  };
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => pick().unary(method, signal, timeoutMs, header, input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => pick().stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

/**
 * A gRPC (HTTP/2) client for another service of the platform; `baseUrl` may list several
 * replicas (comma-separated), which the calls are spread over in turn.
 */
export function createServiceClient<T extends DescService>(
  service: T,
  baseUrl: string,
  credential: () => Promise<string>,
): Client<T> {
  const interceptors = [internalCallInterceptor(credential)];
  const transports = replicaUrls(baseUrl).map((url) =>
    createGrpcTransport({
      baseUrl: url,
      interceptors,
      defaultTimeoutMs: 10_000,
      // loopback or data-centre hops: compressing answers costs CPU on both ends and saves nothing
      acceptCompression: [],
    }),
  );
  return createClient(service, roundRobin(transports));
}
