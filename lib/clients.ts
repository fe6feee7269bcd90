import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
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

/** A gRPC (HTTP/2) client for another service of the platform. */
export function createServiceClient<T extends DescService>(
  service: T,
  baseUrl: string,
  credential: () => Promise<string>,
): Client<T> {
  const transport = createGrpcTransport({
    baseUrl,
    interceptors: [internalCallInterceptor(credential)],
    defaultTimeoutMs: 10_000,
    // loopback or data-centre hops: compressing answers costs CPU on both ends and saves nothing
    acceptCompression: [],
  });
  return createClient(service, transport);
}
