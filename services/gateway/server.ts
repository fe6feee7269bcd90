import { createRegistry, type DescFile, type Registry } from "@bufbuild/protobuf";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import { file_ticketing_common_v1_errors } from "../../gen/ticketing/common/v1/errors_pb.js";
import { sessionVars } from "../../lib/common-config.js";
import { REQUEST_ID_HEADER } from "../../lib/context.js";
import { listenHttp1And2, type Listener } from "../../lib/listener.js";
import type { Logger } from "../../lib/logger.js";
import { handleCors, type CorsOrigins } from "./cors.js";
import { callerAddressOf, createBackend, requestIdFrom, type Backend } from "./forwarding.js";
import { checkBackends } from "./health.js";
import { HttpError, sendError, sendJson, type NodeRequest, type NodeResponse } from "./http-io.js";
import { handleJwks, JWKS_PATH } from "./jwks.js";
import { clientAddressKey, NOT_PROXIED, proxyRoutes, refuseServiceCredentials, requestIdKey } from "./proxy.js";
import { tlsRequestKey, type RefreshCookieOptions } from "./refresh-cookie.js";
import { StaticFiles } from "./static.js";
import { RestRouter, splitTarget, Transcoder } from "./transcoder.js";
import type { Upstream } from "./upstreams.js";
import { APP_CONFIG_PATH, appConfigHandler, htmlSecurityHeaders, isWebAppRequest, restPrefixes, type WebAppSettings } from "./web-app.js";
import { findWebhookRpc, handleWebhook, WEBHOOK_PATH } from "./webhook.js";

export interface GatewayDeps {
  host: string;
  port: number;
  logger: Logger;
  /** The services served (REST + Connect/gRPC-Web/gRPC), see upstreams.ts. */
  upstreams: readonly Upstream[];
  /** Base URL of each backend by name (lib/services.ts names). */
  urls: Readonly<Partial<Record<string, string>>>;
  corsOrigins: CorsOrigins;
  /** Largest REST/Connect request body (413 past it). */
  maxBodyBytes: number;
  /** Deadline of a backend call when the caller sets none. */
  upstreamTimeoutMs: number;
  /** The gateway's own credential, used only for the payment webhook pass-through. */
  serviceCredential: () => Promise<string>;
  /** The backends /healthz requires (default: every upstream's backend). */
  healthServices?: readonly string[];
  /** Deadline of each backend's health check in /healthz. */
  healthTimeoutMs?: number;
  /**
   * The browser app: `dir` is its build (absolute; unset = no static files, every path that is
   * not the API's is a JSON 404 as for any unknown route), the rest is /app-config.json's.
   */
  web?: WebAppSettings & { dir?: string };
  /** The web app's refresh cookie (default: REFRESH_TOKEN_TTL_SECONDS' default, Secure over HTTPS only). */
  refreshCookie?: Partial<RefreshCookieOptions>;
  /**
   * Proxies of ours in front of the gateway (GATEWAY_TRUSTED_PROXIES, default 0): the caller's
   * address is taken that many hops into X-Forwarded-For rather than from the socket.
   */
  trustedProxies?: number;
}

export interface RunningGateway {
  port: number;
  close(): Promise<void>;
}

/** Every message type the upstream contracts use (for error details and google.protobuf.Any). */
function registryOf(upstreams: readonly Upstream[]): Registry {
  const files = new Map<string, DescFile>();
  const add = (f: DescFile) => {
    if (files.has(f.name)) return;
    files.set(f.name, f);
    f.dependencies.forEach(add);
  };
  upstreams.forEach((u) => add(u.service.file));
  add(file_grpc_health_v1_health);
  add(file_ticketing_common_v1_errors); // RateLimited, the detail of every 429
  return createRegistry(...files.values());
}

/**
 * Builds the public edge on one port (HTTP/1.1 and h2c):
 *   - CORS for browsers, preflights answered here;
 *   - `/<package.Service>/<Method>`: Connect, gRPC-Web and gRPC, proxied to the backend;
 *   - `GET /healthz` (every backend's gRPC health), `GET /readyz` (the gateway itself),
 *     `GET /.well-known/jwks.json` (the users service's keys);
 *   - `POST /api/v1/payments/webhook`: raw Stripe webhook pass-through;
 *   - `GET /app-config.json`: the browser app's settings;
 *   - every path under a REST prefix (`/api/...`), and every method but GET and HEAD: the REST
 *     routes transcoded from the google.api.http rules (JSON 404/405 when none matches);
 *   - any other GET or HEAD: the browser app's files, with a fallback to index.html (static.ts).
 * Every response carries `x-request-id` (the caller's, or a new one), which every backend call
 * carries too, with the caller's address (`x-client-address`: the socket's peer, or with
 * `trustedProxies` the X-Forwarded-For entry of the outermost proxy of ours); the same headers
 * from outside are never passed on. A rate-limited call (429 / resource_exhausted) answers with
 * `Retry-After`. Importing this module starts nothing.
 */
export async function build(deps: GatewayDeps): Promise<RunningGateway> {
  const { logger } = deps;
  const registry = registryOf(deps.upstreams);

  const backends = new Map<string, Backend>();
  for (const { backend } of deps.upstreams) {
    if (backends.has(backend)) continue;
    const url = deps.urls[backend];
    if (!url) throw new Error(`no URL configured for the ${backend} service`);
    backends.set(backend, createBackend(backend, url));
  }

  const router = new RestRouter(deps.upstreams, (m) => logger.warn(m));
  const transcoder = new Transcoder({
    router,
    backends,
    registry,
    logger,
    maxBodyBytes: deps.maxBodyBytes,
    upstreamTimeoutMs: deps.upstreamTimeoutMs,
    trustedProxies: deps.trustedProxies ?? 0,
  });

  const webhookRpc = findWebhookRpc(deps.upstreams, backends);
  if (typeof webhookRpc === "string") logger.warn({ reason: webhookRpc }, `${WEBHOOK_PATH} cannot forward yet`);

  const procedures = new Set<string>();
  for (const { service } of deps.upstreams) {
    if (NOT_PROXIED.has(service.typeName)) continue;
    for (const m of service.methods) procedures.add(`/${service.typeName}/${m.name}`);
  }
  const requestIds = new WeakMap<object, string>();
  const refreshCookie: RefreshCookieOptions = {
    maxAgeSeconds: deps.refreshCookie?.maxAgeSeconds ?? Number(sessionVars.refreshTokenTtlSeconds.default),
    alwaysSecure: deps.refreshCookie?.alwaysSecure ?? false,
  };
  const connectHandler = connectNodeAdapter({
    routes: proxyRoutes({ upstreams: deps.upstreams, backends, logger, upstreamTimeoutMs: deps.upstreamTimeoutMs, refreshCookie }),
    interceptors: [refuseServiceCredentials()],
    readMaxBytes: deps.maxBodyBytes,
    contextValues: (req) =>
      createContextValues()
        .set(requestIdKey, requestIds.get(req) ?? requestIdFrom(req.headers[REQUEST_ID_HEADER]))
        .set(tlsRequestKey, (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true)
        .set(clientAddressKey, callerAddressOf(req, deps.trustedProxies ?? 0)),
    fallback: (req, res) => sendError(req, res as NodeResponse, new HttpError(404, "not_found", `no route for ${req.method} ${req.url}`)),
  });

  const allowFor = (path: string) => (procedures.has(path) ? ["GET", "POST"] : router.allowedMethods(path));
  const healthTimeoutMs = deps.healthTimeoutMs ?? 2_000;
  const healthBackends = [...backends.values()].filter((b) => !deps.healthServices || deps.healthServices.includes(b.name));

  const web = deps.web ?? {};
  const appConfig = appConfigHandler(web);
  const staticFiles = web.dir === undefined ? undefined : new StaticFiles({ dir: web.dir, htmlHeaders: htmlSecurityHeaders(web), logger });
  if (staticFiles && !(await staticFiles.built())) {
    logger.warn({ webDir: web.dir }, "the web app is not built (no index.html): / answers 404 until `npm run build:web`");
  }
  const apiPrefixes = restPrefixes(router);

  const handle = async (req: NodeRequest, res: NodeResponse, requestId: string, pathname: string) => {
    if (procedures.has(pathname)) {
      connectHandler(req, res);
      return;
    }
    switch (pathname) {
      case "/healthz": {
        if (req.method !== "GET" && req.method !== "HEAD") break;
        const report = await checkBackends(healthBackends, healthTimeoutMs);
        if (report.status !== "ok") logger.warn({ requestId, report }, "health check failing");
        sendJson(res, report.status === "ok" ? 200 : 503, report, { "cache-control": "no-store" });
        return;
      }
      case "/readyz":
        if (req.method !== "GET" && req.method !== "HEAD") break;
        sendJson(res, 200, { status: "ok" }, { "cache-control": "no-store" });
        return;
      case JWKS_PATH:
        await handleJwks(req, res, deps.urls.users, logger);
        return;
      case WEBHOOK_PATH:
        await handleWebhook(req, res, requestId, { rpc: webhookRpc, credential: deps.serviceCredential, registry, logger });
        return;
      case APP_CONFIG_PATH:
        if (req.method !== "GET" && req.method !== "HEAD") break;
        appConfig(req, res);
        return;
      default:
        if (staticFiles && isWebAppRequest(req.method, pathname, apiPrefixes)) await staticFiles.handle(req, res, pathname);
        else await transcoder.handle(req, res, requestId);
        return;
    }
    const allow = "GET, HEAD";
    sendError(req, res, new HttpError(405, "unimplemented", `${req.method} is not allowed on ${pathname}; allowed: ${allow}`, [], { allow }));
  };

  const listener: Listener = await listenHttp1And2(
    (req, res) => {
      const started = performance.now();
      const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
      requestIds.set(req, requestId);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      const { pathname } = splitTarget(req.url ?? "/");
      res.once("close", () => {
        const entry = { requestId, method: req.method, path: pathname, status: res.statusCode, ms: +(performance.now() - started).toFixed(1) };
        if (res.statusCode >= 500) logger.warn(entry, "request failed");
        else logger.info(entry, "request");
      });
      if (handleCors(req, res, deps.corsOrigins, allowFor)) return;
      handle(req, res, requestId, pathname).catch((err: unknown) => {
        logger.error({ err, requestId }, "unexpected error in the gateway");
        sendError(req, res, new HttpError(500, "internal", "internal error"));
      });
    },
    deps.port,
    deps.host,
  );
  logger.info(
    { port: listener.port, restRoutes: router.bindings.length, procedures: procedures.size, backends: [...backends.keys()] },
    "gateway listening",
  );
  for (const b of router.bindings) {
    logger.debug({ route: `${b.httpMethod} ${b.template.source}`, rpc: `${b.service.typeName}/${b.method.name}` }, "REST route");
  }
  return {
    port: listener.port,
    async close() {
      await listener.close();
      for (const b of backends.values()) b.close();
    },
  };
}
