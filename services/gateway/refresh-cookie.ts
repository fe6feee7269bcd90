import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import {
  UsersService,
  type LoginResponse,
  type RefreshRequest,
  type RefreshResponse,
} from "../../gen/ticketing/users/v1/users_pb.js";

/**
 * The web app's refresh token lives in an httpOnly cookie that the gateway sets and reads, so
 * that no script (an XSS included) can ever read it. Opt-in per request with the
 * `X-Refresh-Cookie: 1` header, on UsersService Login, Refresh and Logout over Connect,
 * gRPC-Web or gRPC; without the header (REST, apps, other clients) nothing changes.
 *
 * The header is also what protects Refresh from cross-site requests: a form cannot send a custom
 * header, and a cross-origin script must pass a CORS preflight that does not allow this header
 * (see cors.ts), besides the cookie being SameSite=Strict and never sent cross-site.
 */
export const REFRESH_COOKIE = "ticketing_refresh";
export const REFRESH_COOKIE_HEADER = "x-refresh-cookie";
/** Sent only to the users service's procedures: the only ones that read it. */
export const REFRESH_COOKIE_PATH = `/${UsersService.typeName}/`;

/** True when the request reached the gateway over TLS (set per request in server.ts). */
export const tlsRequestKey = createContextKey<boolean>(false, { description: "request arrived over TLS" });

export interface RefreshCookieOptions {
  /** Max-Age of the cookie: the refresh token's lifetime (REFRESH_TOKEN_TTL_SECONDS). */
  maxAgeSeconds: number;
  /** Always mark the cookie Secure (production), not only when the request came over HTTPS. */
  alwaysSecure: boolean;
}

/** A refresh token as the users service issues them (`rt_` + base64url); anything else is no session. */
const SANE_TOKEN = /^[A-Za-z0-9._~-]{1,512}$/;

/** The value of a cookie in a Cookie header (HTTP/2 may split it; joined with `; ` or `, `). */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    return part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
  }
  return undefined;
}

/** The Set-Cookie value that stores (or, with an empty value and Max-Age 0, clears) the token. */
export function refreshCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${REFRESH_COOKIE}=${value}`,
    `Path=${REFRESH_COOKIE_PATH}`,
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/** Whether the request came over HTTPS: a TLS socket, or `X-Forwarded-Proto: https` from a proxy in front. */
function cameOverHttps(ctx: HandlerContext): boolean {
  if (ctx.values.get(tlsRequestKey)) return true;
  const proto = ctx.requestHeader.get("x-forwarded-proto");
  return proto?.split(",")[0].trim().toLowerCase() === "https";
}

type Unary = (input: unknown, ctx: HandlerContext) => Promise<unknown>;

const noSession = () => new ConnectError("no session: sign in again", Code.Unauthenticated);

/**
 * The proxy's handler for a method, with the refresh cookie when the method is UsersService
 * Login, Refresh or Logout and the caller opts in; the handler itself for every other method.
 *   - Login, Refresh: the refresh token of the answer goes into the cookie and out of the body.
 *   - Refresh with an empty `refreshToken` takes the cookie's (none: `unauthenticated`, the
 *     backend is not called); when the backend refuses the cookie's token, the cookie is cleared.
 *   - Logout clears the cookie, whatever the backend answers.
 * The token is never logged: neither the Cookie header nor the messages are.
 */
export function withRefreshCookie(method: DescMethod, handler: unknown, opts: RefreshCookieOptions): unknown {
  if (method.parent.typeName !== UsersService.typeName || method.methodKind !== "unary") return handler;
  const forward = handler as Unary;
  const cookie = (ctx: HandlerContext, token: string, maxAge: number) =>
    ctx.responseHeader.append("set-cookie", refreshCookie(token, maxAge, opts.alwaysSecure || cameOverHttps(ctx)));
  const optedIn = (ctx: HandlerContext) => ctx.requestHeader.get(REFRESH_COOKIE_HEADER)?.trim() === "1";
  /** Moves the answer's refresh token into the cookie. */
  const keep = (ctx: HandlerContext, res: LoginResponse | RefreshResponse) => {
    if (!res.refreshToken) return res;
    cookie(ctx, res.refreshToken, opts.maxAgeSeconds);
    return { ...res, refreshToken: "" };
  };

  switch (method.name) {
    case UsersService.method.login.name:
      return async (input: unknown, ctx: HandlerContext) => {
        if (!optedIn(ctx)) return forward(input, ctx);
        return keep(ctx, (await forward(input, ctx)) as LoginResponse);
      };
    case UsersService.method.refresh.name:
      return async (input: unknown, ctx: HandlerContext) => {
        if (!optedIn(ctx)) return forward(input, ctx);
        let req = input as RefreshRequest;
        const fromCookie = req.refreshToken === "";
        if (fromCookie) {
          const token = readCookie(ctx.requestHeader.get("cookie"), REFRESH_COOKIE);
          if (token === undefined) throw noSession();
          if (!SANE_TOKEN.test(token)) {
            cookie(ctx, "", 0);
            throw noSession();
          }
          req = { ...req, refreshToken: token };
        }
        try {
          return keep(ctx, (await forward(req, ctx)) as RefreshResponse);
        } catch (err) {
          if (fromCookie && err instanceof ConnectError && err.code === Code.Unauthenticated) cookie(ctx, "", 0);
          throw err;
        }
      };
    case UsersService.method.logout.name:
      return async (input: unknown, ctx: HandlerContext) => {
        if (!optedIn(ctx)) return forward(input, ctx);
        try {
          return await forward(input, ctx);
        } finally {
          cookie(ctx, "", 0);
        }
      };
    default:
      return handler;
  }
}
