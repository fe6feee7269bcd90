import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { RateLimitedSchema } from "../gen/ticketing/common/v1/errors_pb.js";
import type { Logger } from "./logger.js";

/** A structured error detail, sent as a Connect error detail (and shown by the gateway). */
export interface ErrorDetail {
  desc: DescMessage;
  value: MessageInitShape<DescMessage>;
}

/**
 * The one error type domain code throws. Its `code` is a Connect code; the error interceptor
 * turns it into a ConnectError and the gateway into the matching HTTP status. Messages are
 * meant for API users: they name the field or the thing that is wrong.
 */
export class AppError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Response metadata sent with the error (e.g. `retry-after`): headers, or gRPC trailers. */
    readonly metadata?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

/** 400: `field` is the request's JSON field name, e.g. `seatLayout.sections[0].rows[1].seats[2].id`. */
export const invalidArgument = (field: string, problem: string) =>
  new AppError(Code.InvalidArgument, `${field}: ${problem}`);
/** 404 */
export const notFound = (what: string, id: string) => new AppError(Code.NotFound, `${what} ${id} not found`);
/** 409: a duplicate. */
export const alreadyExists = (message: string) => new AppError(Code.AlreadyExists, message);
/** 409: a conflicting concurrent change (e.g. a seat taken meanwhile). */
export const conflict = (message: string, details: ErrorDetail[] = []) =>
  new AppError(Code.Aborted, message, details);
/** 400: the request is valid but the system's state does not allow it (e.g. show started). */
export const failedPrecondition = (message: string) => new AppError(Code.FailedPrecondition, message);
/** 401 */
export const unauthenticated = (message: string) => new AppError(Code.Unauthenticated, message);
/** 403 */
export const permissionDenied = (message: string) => new AppError(Code.PermissionDenied, message);
/** 429 */
export const resourceExhausted = (message: string) => new AppError(Code.ResourceExhausted, message);

/** The response header (and metadata key) that says how many seconds to wait before retrying. */
export const RETRY_AFTER_HEADER = "retry-after";

/**
 * 429 from a rate limit (lib/rate-limit.ts, lib/lockout.ts): carries the RateLimited detail
 * (which limit, seconds to wait) and a `retry-after` header, which the gateway passes on to
 * REST, Connect and gRPC-Web callers.
 */
export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(
    message: string,
    readonly limit: string,
    retryAfterSeconds: number,
  ) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(
      Code.ResourceExhausted,
      `${message}; try again in ${seconds} s`,
      [{ desc: RateLimitedSchema, value: { retryAfterSeconds: seconds, limit } }],
      { [RETRY_AFTER_HEADER]: String(seconds) },
    );
    this.name = "RateLimitedError";
    this.retryAfterSeconds = seconds;
  }
}

/**
 * A service's translation of its own domain errors (e.g. "seats taken") into API errors. Returns
 * undefined for an error it does not know; that one passes on unchanged. Each service has one,
 * given to `startServer` as `mapError`, so every handler and stream of the service throws domain
 * errors and none maps them by hand.
 */
export type DomainErrorMapper = (err: unknown) => AppError | ConnectError | undefined;

/** Converts anything thrown into a ConnectError; unexpected errors become Internal, cause logged. */
export function toConnectError(
  err: unknown,
  logger: Logger,
  context: Record<string, unknown> = {},
  mapError?: DomainErrorMapper,
): ConnectError {
  const mapped = mapError?.(err) ?? err;
  if (mapped instanceof AppError) {
    return new ConnectError(mapped.message, mapped.code, mapped.metadata, mapped.details);
  }
  if (mapped instanceof ConnectError) {
    return mapped;
  }
  logger.error({ err, ...context }, "unexpected error");
  return new ConnectError("internal error", Code.Internal);
}

/**
 * Maps errors thrown by handlers, and by server streams while they run, through the service's
 * `mapError` and then toConnectError: the one place where domain errors reach the wire.
 */
export function errorInterceptor(logger: Logger, mapError?: DomainErrorMapper): Interceptor {
  return (next) => async (req) => {
    const fail = (err: unknown) => toConnectError(err, logger, { procedure: req.url }, mapError);
    let res;
    try {
      res = await next(req);
    } catch (err) {
      throw fail(err);
    }
    if (!res.stream) return res;
    return { ...res, message: mapStreamErrors(res.message, fail) };
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, fail: (err: unknown) => ConnectError): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw fail(err);
  }
}

/** Connect code → HTTP status, the standard mapping the public REST contract uses. */
export function httpStatusFor(code: Code): number {
  switch (code) {
    case Code.Canceled:
      return 499;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.ResourceExhausted:
      return 429;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

/** Connect code as its lowercase wire name, e.g. `invalid_argument`. */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
