import type { Message, Registry } from "@bufbuild/protobuf";
import { createClient, type CallOptions } from "@connectrpc/connect";
import type { Logger } from "../../lib/logger.js";
import { upstreamHttpError } from "./errors.js";
import { callerAddressOf, forwardedHeaders, refusalOf, type Backend } from "./forwarding.js";
import { HttpError, readBody, sendError, sendJson, type NodeRequest, type NodeResponse } from "./http-io.js";
import { restBindings, type RestBinding } from "./http-rules.js";
import { compareSpecificity, matchPath, templateShape } from "./path-template.js";
import { buildRequestMessage, responseJson } from "./request-message.js";
import type { Upstream } from "./upstreams.js";

export type RouteResult =
  | { kind: "match"; binding: RestBinding; variables: Map<string, string> }
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "not_found" };

/**
 * The REST routes of every upstream service, compiled once from the google.api.http rules of
 * their descriptors. No route is written by hand.
 */
export class RestRouter {
  readonly bindings: readonly RestBinding[];

  constructor(upstreams: readonly Upstream[], warn: (message: string) => void = () => {}) {
    const all = upstreams.flatMap((u) => restBindings(u.service, u.backend, warn));
    const seen = new Map<string, RestBinding>();
    for (const b of all) {
      const key = `${b.httpMethod} ${templateShape(b.template)}`;
      const other = seen.get(key);
      if (other) {
        throw new Error(
          `REST route conflict: ${b.httpMethod} ${b.template.source} (${b.method.parent.typeName}.${b.method.name}) ` +
            `and ${other.httpMethod} ${other.template.source} (${other.method.parent.typeName}.${other.method.name})`,
        );
      }
      seen.set(key, b);
    }
    this.bindings = [...all].sort((a, b) => compareSpecificity(a.template, b.template));
  }

  /** The most specific route for a method and raw path; or why there is none (404/405). */
  route(httpMethod: string, pathname: string): RouteResult {
    const allow = new Set<string>();
    for (const binding of this.bindings) {
      const variables = matchPath(binding.template, pathname);
      if (!variables) continue;
      if (binding.httpMethod === httpMethod) return { kind: "match", binding, variables };
      allow.add(binding.httpMethod);
    }
    if (allow.size > 0) return { kind: "method_not_allowed", allow: [...allow].sort() };
    return { kind: "not_found" };
  }

  /** The methods a path answers to (for OPTIONS and 405). */
  allowedMethods(pathname: string): string[] {
    return [...new Set(this.bindings.filter((b) => matchPath(b.template, pathname)).map((b) => b.httpMethod))].sort();
  }
}

type DynamicUnary = (request: Message, options?: CallOptions) => Promise<Message>;

export interface TranscoderOptions {
  router: RestRouter;
  backends: ReadonlyMap<string, Backend>;
  registry: Registry;
  logger: Logger;
  maxBodyBytes: number;
  /** Deadline of a backend call (REST callers cannot set their own). */
  upstreamTimeoutMs: number;
  /** Proxies of ours in front of the gateway whose X-Forwarded-For entries are trusted (GATEWAY_TRUSTED_PROXIES). */
  trustedProxies?: number;
}

/** Splits a raw request target into its still-encoded path and its query (no normalisation). */
export function splitTarget(target: string): { pathname: string; search: string } {
  const q = target.indexOf("?");
  return q < 0 ? { pathname: target, search: "" } : { pathname: target.slice(0, q), search: target.slice(q + 1) };
}

/**
 * REST → RPC: matches the route, builds the request message (path, query, body), calls the
 * backend over gRPC with the caller's Authorization, Idempotency-Key, the request id and the
 * caller's address, and
 * answers with the response as proto3 JSON (every field shown) and the method's success status,
 * or with the spec's error `{code, message, details}`.
 */
export class Transcoder {
  private readonly clients = new Map<string, Record<string, DynamicUnary>>();

  constructor(private readonly opts: TranscoderOptions) {
    for (const b of opts.router.bindings) {
      const key = b.service.typeName;
      if (this.clients.has(key)) continue;
      const backend = opts.backends.get(b.backend);
      if (!backend) throw new Error(`no backend ${b.backend} for ${key}`);
      this.clients.set(key, createClient(b.service, backend.transport) as unknown as Record<string, DynamicUnary>);
    }
  }

  async handle(req: NodeRequest, res: NodeResponse, requestId: string): Promise<void> {
    const { pathname, search } = splitTarget(req.url ?? "/");
    const method = (req.method ?? "GET").toUpperCase();
    const route = this.opts.router.route(method, pathname);
    try {
      if (route.kind === "not_found") throw new HttpError(404, "not_found", `no route for ${method} ${pathname}`);
      if (route.kind === "method_not_allowed") {
        throw new HttpError(405, "unimplemented", `${method} is not allowed on ${pathname}; allowed: ${route.allow.join(", ")}`, [], {
          allow: route.allow.join(", "),
        });
      }
      const refusal = refusalOf(header(req, "authorization"));
      if (refusal) throw new HttpError(401, "unauthenticated", refusal);

      const { binding, variables } = route;
      const body = await readBody(req, this.opts.maxBodyBytes);
      const request = buildRequestMessage(
        binding,
        { pathVariables: variables, query: new URLSearchParams(search), body, contentType: header(req, "content-type") },
        this.opts.registry,
      );

      const abort = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) abort.abort();
      };
      res.once("close", onClose);
      let response: Message;
      try {
        const call = this.clients.get(binding.service.typeName)![binding.method.localName];
        response = await call(request, {
          headers: forwardedHeaders((n) => header(req, n), requestId, callerAddressOf(req, this.opts.trustedProxies ?? 0)),
          timeoutMs: this.opts.upstreamTimeoutMs,
          signal: abort.signal,
        });
      } catch (err) {
        throw upstreamHttpError(err, binding.backend, this.opts.logger, this.opts.registry, {
          requestId,
          procedure: `/${binding.service.typeName}/${binding.method.name}`,
        });
      } finally {
        res.off("close", onClose);
      }
      sendJson(res, binding.successStatus, responseJson(binding, response, this.opts.registry));
    } catch (err) {
      if (err instanceof HttpError) {
        sendError(req, res, err);
        return;
      }
      this.opts.logger.error({ err, requestId }, "unexpected error in the REST transcoder");
      sendError(req, res, new HttpError(500, "internal", "internal error"));
    }
  }
}

export function header(req: NodeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}
