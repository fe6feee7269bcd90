import { randomUUID } from "node:crypto";
import type http from "node:http";
import type http2 from "node:http2";
import { Code, ConnectError, createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../gen/grpc/health/v1/health_pb.js";
import { authInterceptor, type TokenVerifier } from "./auth.js";
import { normaliseAddress } from "./client-address.js";
import { peerAddressKey, REQUEST_ID_HEADER, requestScope } from "./context.js";
import { errorInterceptor, type DomainErrorMapper } from "./errors.js";
import { serveReflection } from "./reflection.js";
import { listenHttp1And2, type Listener } from "./listener.js";
import type { Logger } from "./logger.js";
import { validationInterceptor } from "./validation.js";

/** A named dependency probe; throws when the dependency is not usable. */
export type HealthCheck = () => Promise<void>;

export interface ServerOptions {
  /** Service name, used in logs and as the gRPC health service name. */
  name: string;
  host: string;
  port: number;
  logger: Logger;
  verifier: TokenVerifier;
  routes: (router: ConnectRouter) => void;
  /** Dependency probes reported by gRPC health (and so by the gateway's /healthz). */
  healthChecks?: Record<string, HealthCheck>;
  /** The service's translation of its domain errors into API errors (see DomainErrorMapper). */
  mapError?: DomainErrorMapper;
  /** Interceptors that run after auth and validation, innermost last (e.g. idempotency keys). */
  interceptors?: Interceptor[];
  /** Plain HTTP routes served before Connect (e.g. the JWKS document). Return true if handled. */
  httpRoutes?: (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => boolean;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Opens the request scope (request id), logs each call's outcome. Outermost interceptor. */
function requestInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const requestId = req.header.get(REQUEST_ID_HEADER) || randomUUID();
    const started = performance.now();
    return requestScope.run({ requestId }, async () => {
      try {
        const res = await next(req);
        logger.debug({ requestId, procedure: req.url, ms: +(performance.now() - started).toFixed(1) }, "rpc ok");
        return res;
      } catch (err) {
        const code = err instanceof ConnectError ? Code[err.code] : "Unknown";
        logger.info({ requestId, procedure: req.url, code, ms: +(performance.now() - started).toFixed(1) }, "rpc failed");
        throw err;
      }
    });
  };
}

/** Runs every probe; returns the names of the failing ones with their errors. */
export async function runHealthChecks(checks: Record<string, HealthCheck>): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 2s")), 2_000).unref()),
        ]);
      } catch (err) {
        failures[name] = (err as Error).message;
      }
    }),
  );
  return failures;
}

/**
 * Serves a service's routes over gRPC, gRPC-Web and Connect on one port (HTTP/1.1 and h2c),
 * with the shared interceptors in this order: request id and logging → error mapping → auth
 * (the RPC's declared access level) → protovalidate rules → the service's own (e.g.
 * idempotency keys). Also serves grpc.health.v1.Health and gRPC server reflection (v1 and
 * v1alpha), both public.
 * Importing this starts nothing.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const checks = opts.healthChecks ?? {};
  const routes = (router: ConnectRouter) => {
    opts.routes(router);
    router.service(Health, {
      async check(req) {
        if (req.service !== "" && req.service !== opts.name) {
          throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
        }
        const failures = await runHealthChecks(checks);
        const ok = Object.keys(failures).length === 0;
        if (!ok) opts.logger.warn({ failures }, "health check failing");
        return { status: ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING };
      },
    });
    serveReflection(router);
  };
  const connectHandler = connectNodeAdapter({
    routes,
    interceptors: [
      requestInterceptor(opts.logger),
      errorInterceptor(opts.logger, opts.mapError),
      authInterceptor(opts.verifier),
      validationInterceptor(opts.logger),
      ...(opts.interceptors ?? []),
    ],
    contextValues: (req) => createContextValues().set(peerAddressKey, normaliseAddress(req.socket?.remoteAddress)),
    // keep server-streaming RPCs (live seat maps) open while the client wants them
    readMaxBytes: 8 * 1024 * 1024,
  });
  const listener: Listener = await listenHttp1And2(
    (req, res) => {
      if (opts.httpRoutes?.(req, res)) return;
      connectHandler(req, res);
    },
    opts.port,
    opts.host,
  );
  opts.logger.info({ port: listener.port }, `${opts.name} listening`);
  return { port: listener.port, close: () => listener.close() };
}

/**
 * Runs a service's main: starts it, then on SIGINT/SIGTERM closes it gracefully (stop listening,
 * finish in-flight calls, then release dependencies) and exits. A failure to start exits 1.
 */
export function runMain(logger: Logger, start: () => Promise<{ close(): Promise<void> }>): void {
  let running: { close(): Promise<void> } | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await running?.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, "error during shutdown");
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  start().then(
    (r) => {
      running = r;
      if (stopping) void r.close().then(() => process.exit(0));
    },
    (err: unknown) => {
      logger.error({ err }, "failed to start");
      process.exit(1);
    },
  );
}
