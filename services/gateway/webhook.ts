import { create, toJson, ScalarType, type DescField, type DescMethod, type Message, type Registry } from "@bufbuild/protobuf";
import { createClient, type CallOptions } from "@connectrpc/connect";
import { REQUEST_ID_HEADER } from "../../lib/context.js";
import type { Logger } from "../../lib/logger.js";
import { upstreamHttpError, unavailable } from "./errors.js";
import type { Backend } from "./forwarding.js";
import { HttpError, badRequest, readBody, sendError, sendJson, type NodeRequest, type NodeResponse } from "./http-io.js";
import { WEBHOOK_RPC, type Upstream } from "./upstreams.js";

export const WEBHOOK_PATH = "/api/v1/payments/webhook";
/** Stripe events are small; 1 MiB is far above any real one. */
export const WEBHOOK_MAX_BYTES = 1024 * 1024;
const WEBHOOK_TIMEOUT_MS = 20_000;

type DynamicUnary = (request: Message, options?: CallOptions) => Promise<Message>;

/** How the payments RPC takes the webhook, found in its descriptor. */
export interface WebhookRpc {
  backend: Backend;
  method: DescMethod;
  payloadField: DescField;
  signatureField: DescField;
  call: DynamicUnary;
}

/**
 * Finds `PaymentsService.HandleWebhook` among the upstreams and the fields it takes: the raw
 * body in a `bytes` field (`payload`, or the only bytes field) and the Stripe-Signature header
 * in a string field (`signature`, or the only string field whose name contains "signature").
 * Returns why not when it cannot (payments not in UPSTREAMS yet, or another request shape).
 */
export function findWebhookRpc(upstreams: readonly Upstream[], backends: ReadonlyMap<string, Backend>): WebhookRpc | string {
  const upstream = upstreams.find((u) => u.service.typeName === WEBHOOK_RPC.service);
  if (!upstream) return `${WEBHOOK_RPC.service} is not in the gateway's upstreams (services/gateway/upstreams.ts)`;
  const method = upstream.service.methods.find((m) => m.name === WEBHOOK_RPC.method);
  if (!method || method.methodKind !== "unary") return `${WEBHOOK_RPC.service} has no unary ${WEBHOOK_RPC.method}`;
  const scalars = method.input.fields.filter((f) => f.fieldKind === "scalar");
  const bytes = scalars.filter((f) => f.scalar === ScalarType.BYTES);
  const strings = scalars.filter((f) => f.scalar === ScalarType.STRING);
  const payloadField = bytes.find((f) => f.name === "payload") ?? (bytes.length === 1 ? bytes[0] : undefined);
  const signatureField =
    strings.find((f) => f.name === "signature") ??
    (strings.filter((f) => f.name.includes("signature")).length === 1 ? strings.find((f) => f.name.includes("signature")) : undefined);
  if (!payloadField || !signatureField) {
    return `${method.input.typeName} needs a bytes field "payload" and a string field "signature"`;
  }
  const backend = backends.get(upstream.backend);
  if (!backend) return `no backend ${upstream.backend}`;
  const client = createClient(upstream.service, backend.transport) as unknown as Record<string, DynamicUnary>;
  return { backend, method, payloadField, signatureField, call: client[method.localName] };
}

export interface WebhookOptions {
  rpc: WebhookRpc | string;
  credential: () => Promise<string>;
  registry: Registry;
  logger: Logger;
}

/**
 * `POST /api/v1/payments/webhook`: the raw bytes (not parsed: Stripe signs the exact body) and
 * the Stripe-Signature header go to the payments service's internal HandleWebhook RPC, in the
 * gateway's own name (its service credential). The backend's status is passed through: 400 for a
 * bad signature, 5xx when it cannot record the event so that Stripe retries.
 */
export async function handleWebhook(req: NodeRequest, res: NodeResponse, requestId: string, opts: WebhookOptions): Promise<void> {
  try {
    if (req.method !== "POST") {
      throw new HttpError(405, "unimplemented", `${req.method} is not allowed on ${WEBHOOK_PATH}; allowed: POST`, [], { allow: "POST" });
    }
    if (typeof opts.rpc === "string") {
      opts.logger.error({ requestId, reason: opts.rpc }, "payment webhook received but cannot be forwarded");
      throw new HttpError(503, "unavailable", unavailable("payments"));
    }
    const rpc = opts.rpc;
    const signature = req.headers["stripe-signature"];
    if (typeof signature !== "string" || signature === "") throw badRequest("Stripe-Signature header is required");
    const payload = await readBody(req, WEBHOOK_MAX_BYTES);
    const request = create(rpc.method.input) as Message & Record<string, unknown>;
    request[rpc.payloadField.localName] = new Uint8Array(payload);
    request[rpc.signatureField.localName] = signature;
    let response: Message;
    try {
      response = await rpc.call(request, {
        headers: { authorization: `Bearer ${await opts.credential()}`, [REQUEST_ID_HEADER]: requestId },
        timeoutMs: WEBHOOK_TIMEOUT_MS,
      });
    } catch (err) {
      throw upstreamHttpError(err, rpc.backend.name, opts.logger, opts.registry, { requestId, procedure: "HandleWebhook" });
    }
    sendJson(res, 200, toJson(rpc.method.output, response, { alwaysEmitImplicit: true, registry: opts.registry }));
  } catch (err) {
    if (err instanceof HttpError) {
      sendError(req, res, err);
      return;
    }
    opts.logger.error({ err, requestId }, "unexpected error in the payment webhook pass-through");
    sendError(req, res, new HttpError(500, "internal", "internal error"));
  }
}
