import { create, fromBinary, toBinary, toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RateLimitedSchema } from "../../gen/ticketing/common/v1/errors_pb.js";
import { codeName, httpStatusFor, RETRY_AFTER_HEADER } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { HttpError, type JsonErrorDetail } from "./http-io.js";

/** A ConnectError's details as the REST contract shows them: `{type, value (base64), debug}`. */
export function detailsToJson(details: ConnectError["details"], registry?: Registry): JsonErrorDetail[] {
  const out: JsonErrorDetail[] = [];
  for (const d of details) {
    try {
      if ("desc" in d) {
        const msg = create(d.desc, d.value);
        out.push({
          type: d.desc.typeName,
          value: Buffer.from(toBinary(d.desc, msg)).toString("base64"),
          debug: toJson(d.desc, msg, { registry }),
        });
      } else {
        const desc = registry?.getMessage(d.type);
        let debug: JsonValue | undefined = d.debug as JsonValue | undefined;
        if (desc) debug = toJson(desc, fromBinary(desc, d.value), { registry });
        out.push({ type: d.type, value: Buffer.from(d.value).toString("base64"), ...(debug !== undefined ? { debug } : {}) });
      }
    } catch {
      // a detail we cannot decode is still passed on, without its debug form
      if (!("desc" in d)) out.push({ type: d.type, value: Buffer.from(d.value).toString("base64") });
    }
  }
  return out;
}

/**
 * The Node.js system error code (ECONNREFUSED, ECONNRESET, ENOTFOUND...) behind a failed call,
 * when the call never got an answer from the backend: connect-node keeps the Node.js error as
 * the cause. An error the backend itself sent has no such cause. Duck-typed on purpose: errors
 * from Node's core are not always `instanceof Error` of the caller's realm (e.g. under jest).
 */
export function transportErrorCode(err: ConnectError): string | undefined {
  let cause: unknown = err.cause;
  for (let i = 0; i < 8 && typeof cause === "object" && cause !== null; i++) {
    const code = (cause as { code?: unknown }).code;
    if (!(cause instanceof ConnectError) && typeof code === "string") return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isTransportFailure(err: ConnectError): boolean {
  return transportErrorCode(err) !== undefined;
}

export function unavailable(backend: string): string {
  return `the ${backend} service is unavailable; try again later`;
}

/**
 * What a failed backend call becomes for the caller: the backend's own Connect error (code,
 * message, details), a transport failure as `unavailable` naming the service (the cause is
 * logged, addresses are not sent), anything else as `internal` (logged, never sent).
 */
export function upstreamConnectError(err: unknown, backend: string, logger: Logger, context: Record<string, unknown> = {}): ConnectError {
  if (err instanceof ConnectError) {
    if (isTransportFailure(err)) {
      logger.warn({ ...context, backend, err: err.cause }, "backend unreachable");
      return new ConnectError(unavailable(backend), Code.Unavailable);
    }
    // Its code, message and details, not its metadata: that holds the backend's own response
    // headers and trailers (content-type, grpc-status...), which would overwrite the caller's
    // protocol headers (a Connect error answered as application/grpc+proto cannot be read).
    // The one header that does cross: a rate limit's Retry-After.
    const retryAfter = retryAfterOf(err);
    const passed = new ConnectError(
      err.rawMessage,
      err.code,
      retryAfter === undefined ? undefined : { [RETRY_AFTER_HEADER]: retryAfter },
      undefined,
      err.cause,
    );
    passed.details = err.details;
    return passed;
  }
  logger.error({ ...context, backend, err }, "unexpected error calling backend");
  return new ConnectError("internal error", Code.Internal);
}

/**
 * The seconds to wait of a rate-limited call (resource_exhausted), as a Retry-After value: from
 * its RateLimited detail, else from the backend's `retry-after` metadata.
 */
export function retryAfterOf(err: ConnectError): string | undefined {
  if (err.code !== Code.ResourceExhausted) return undefined;
  for (const d of err.details) {
    try {
      const seconds =
        "desc" in d
          ? d.desc.typeName === RateLimitedSchema.typeName
            ? (d.value as { retryAfterSeconds?: number }).retryAfterSeconds
            : undefined
          : d.type === RateLimitedSchema.typeName
            ? fromBinary(RateLimitedSchema, d.value).retryAfterSeconds
            : undefined;
      if (seconds && seconds > 0) return String(seconds);
    } catch {
      // not decodable: try the metadata
    }
  }
  const header = err.metadata.get(RETRY_AFTER_HEADER);
  return header && /^\d{1,9}$/.test(header) ? header : undefined;
}

/** The REST form of upstreamConnectError: status by the spec's mapping, body `{code, message, details}`. */
export function upstreamHttpError(
  err: unknown,
  backend: string,
  logger: Logger,
  registry?: Registry,
  context: Record<string, unknown> = {},
): HttpError {
  const ce = upstreamConnectError(err, backend, logger, context);
  const retryAfter = retryAfterOf(ce);
  return new HttpError(
    httpStatusFor(ce.code),
    codeName(ce.code),
    ce.rawMessage,
    detailsToJson(ce.details, registry),
    retryAfter === undefined ? {} : { [RETRY_AFTER_HEADER]: retryAfter },
  );
}
