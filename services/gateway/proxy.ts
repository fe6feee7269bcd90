import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createContextKey,
  type CallOptions,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import type { Logger } from "../../lib/logger.js";
import { upstreamConnectError } from "./errors.js";
import { forwardedHeaders, refusalOf, type Backend } from "./forwarding.js";
import { withRefreshCookie, type RefreshCookieOptions } from "./refresh-cookie.js";
import type { Upstream } from "./upstreams.js";

/** The request id the gateway assigned to the HTTP request (see server.ts). */
export const requestIdKey = createContextKey<string>("", { description: "gateway request id" });

/** The caller's address as the gateway established it (forwarding.ts callerAddressOf). */
export const clientAddressKey = createContextKey<string | undefined>(undefined, { description: "the caller's address" });

/** Services the gateway never proxies: each backend's health is its own business (/healthz). */
export const NOT_PROXIED = new Set(["grpc.health.v1.Health"]);

/** Refuses internal service credentials from outside (401) before anything is forwarded. */
export function refuseServiceCredentials(): Interceptor {
  return (next) => async (req) => {
    const refusal = refusalOf(req.header.get("authorization") ?? undefined);
    if (refusal) throw new ConnectError(refusal, Code.Unauthenticated);
    return next(req);
  };
}

type AnyFn = (...args: unknown[]) => unknown;

export interface ProxyOptions {
  upstreams: readonly Upstream[];
  backends: ReadonlyMap<string, Backend>;
  logger: Logger;
  /** Deadline for unary and client-streaming calls whose caller set none. */
  upstreamTimeoutMs: number;
  /** The web app's refresh cookie on UsersService Login/Refresh/Logout (refresh-cookie.ts). */
  refreshCookie: RefreshCookieOptions;
}

/**
 * Connect, gRPC-Web and gRPC for every upstream service: each procedure is registered on the
 * gateway's own router with a handler that calls the same procedure on the backend (unary and
 * all three kinds of streams), passing the caller's Authorization, Idempotency-Key, the
 * request id and the caller's address, the caller's deadline and cancellation. The backend's errors pass through
 * unchanged; an unreachable backend is `unavailable` naming the service. The only procedures
 * the gateway looks into are UsersService Login, Refresh and Logout, for the web app's refresh
 * cookie (refresh-cookie.ts).
 */
export function proxyRoutes(opts: ProxyOptions): (router: ConnectRouter) => void {
  return (router) => {
    for (const { service, backend: name } of opts.upstreams) {
      if (NOT_PROXIED.has(service.typeName)) continue;
      const backend = opts.backends.get(name);
      if (!backend) throw new Error(`no backend ${name} for ${service.typeName}`);
      router.service(service, serviceImpl(service, backend, opts) as ServiceImpl<DescService>);
    }
  };
}

function serviceImpl(service: DescService, backend: Backend, opts: ProxyOptions): Record<string, unknown> {
  const client = createClient(service, backend.transport) as unknown as Record<string, AnyFn>;
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    impl[method.localName] = withRefreshCookie(method, forwarder(method, client[method.localName], backend.name, opts), opts.refreshCookie);
  }
  return impl;
}

function forwarder(method: DescMethod, call: AnyFn, backend: string, opts: ProxyOptions): unknown {
  const { logger } = opts;
  const callOptions = (ctx: HandlerContext, defaultTimeoutMs?: number): CallOptions => ({
    headers: forwardedHeaders((n) => ctx.requestHeader.get(n) ?? undefined, ctx.values.get(requestIdKey), ctx.values.get(clientAddressKey)),
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs() ?? defaultTimeoutMs,
  });
  const fail = (err: unknown, ctx: HandlerContext) =>
    upstreamConnectError(err, backend, logger, { requestId: ctx.values.get(requestIdKey), procedure: `/${method.parent.typeName}/${method.name}` });

  switch (method.methodKind) {
    case "unary":
    case "client_streaming":
      return async (input: Message | AsyncIterable<Message>, ctx: HandlerContext) => {
        try {
          return await (call(input, callOptions(ctx, opts.upstreamTimeoutMs)) as Promise<Message>);
        } catch (err) {
          throw fail(err, ctx);
        }
      };
    case "server_streaming":
    case "bidi_streaming":
      return async function* (input: Message | AsyncIterable<Message>, ctx: HandlerContext) {
        try {
          yield* call(input, callOptions(ctx)) as AsyncIterable<Message>;
        } catch (err) {
          throw fail(err, ctx);
        }
      };
  }
}
