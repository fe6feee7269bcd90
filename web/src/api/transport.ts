/**
 * The one Connect-Web transport every RPC of the app goes through (connect-query's hooks and the
 * seat-map stream alike). It speaks the Connect protocol to the gateway that served the app, and
 * sends side-effect-free reads (RPCs marked NO_SIDE_EFFECTS in the contracts) as HTTP GETs, which
 * browsers and CDNs can cache.
 */
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import type { Session } from "../auth/session";

export function baseTransport(): Transport {
  return createConnectTransport({ baseUrl: window.location.origin, useHttpGet: true });
}

/**
 * Adds the session's access token. A unary call refused as unauthenticated (the token expired
 * meanwhile) is retried once with a refreshed token.
 */
function authInterceptor(session: Session): Interceptor {
  return (next) => async (req) => {
    const token = session.accessToken();
    if (token) req.header.set("authorization", `Bearer ${token}`);
    try {
      return await next(req);
    } catch (err) {
      if (!token || req.stream || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
      const fresh = await session.refresh();
      if (!fresh) throw err;
      req.header.set("authorization", `Bearer ${fresh}`);
      return next(req);
    }
  };
}

export function appTransport(session: Session): Transport {
  return createConnectTransport({ baseUrl: window.location.origin, useHttpGet: true, interceptors: [authInterceptor(session)] });
}
