import type http from "node:http";
import type http2 from "node:http2";
import type { JsonValue } from "@bufbuild/protobuf";

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** An error detail as the REST contract shows it (the Connect protocol's JSON form). */
export interface JsonErrorDetail {
  /** Fully-qualified protobuf type name, e.g. `buf.validate.Violations`. */
  type: string;
  /** The detail message, binary protobuf, base64. */
  value: string;
  /** The same message as JSON, when the gateway knows its type. */
  debug?: JsonValue;
}

/** The spec's error body: `{code, message, details}`. */
export interface JsonError {
  code: string;
  message: string;
  details: JsonErrorDetail[];
}

/** An error the gateway answers itself; `code` is a Connect code name (`invalid_argument`). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: JsonErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }

  toJson(): JsonError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export const badRequest = (message: string) => new HttpError(400, "invalid_argument", message);

export function sendJson(res: NodeResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = status === 204 || status === 304 ? "" : JSON.stringify(body);
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (text) {
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", Buffer.byteLength(text));
  }
  res.end(text);
}

export function sendError(req: NodeRequest, res: NodeResponse, err: HttpError): void {
  const headers = { ...err.headers };
  // a body we refused may still be arriving: on HTTP/1.1 close the connection rather than read it
  if (err.status === 413 && req.httpVersionMajor === 1) headers.connection = "close";
  sendJson(res, err.status, err.toJson(), headers);
}

/**
 * Reads a request body up to `limit` bytes; past it, 413 (the rest is discarded, not buffered).
 */
export function readBody(req: NodeRequest, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(413, "resource_exhausted", `request body is larger than the limit of ${limit} bytes`);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    });
    req.on("error", () => {
      if (settled) return;
      settled = true;
      reject(badRequest("the request body could not be read"));
    });
  });
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return header.split(";")[0].trim().toLowerCase() || undefined;
}

export function isJsonMediaType(type: string | undefined): boolean {
  return type === "application/json" || (type !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(type));
}
