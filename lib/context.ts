import { AsyncLocalStorage } from "node:async_hooks";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { CLIENT_ADDRESS_HEADER, normaliseAddress } from "./client-address.js";

/**
 * The roles of accounts: buyers, door staff (check tickets in at the entrance; otherwise what a
 * user may do) and admins.
 */
export const ROLES = ["user", "door", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as established by the auth interceptor. */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "user"; userId: string; role: Role; sessionId: string }
  | { kind: "service"; service: string };

export const ANONYMOUS: Caller = { kind: "anonymous" };

export const callerKey = createContextKey<Caller>(ANONYMOUS, { description: "the authenticated caller" });

/** Header that carries the request id from the gateway through every internal hop. */
export const REQUEST_ID_HEADER = "x-request-id";

interface RequestScope {
  requestId: string;
}

/**
 * The request id of the RPC being handled, available to outgoing clients without threading it
 * through every call (the server interceptor opens the scope).
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();

export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

export function callerOf(ctx: HandlerContext): Caller {
  return ctx.values.get(callerKey);
}

export function isAdmin(caller: Caller): boolean {
  return caller.kind === "user" && caller.role === "admin";
}

/** The network peer of the call (set by lib/server.ts from the socket): the gateway, or a service. */
export const peerAddressKey = createContextKey<string | undefined>(undefined, { description: "the socket's peer address" });

/**
 * The address of the client behind the call: what the gateway put in `x-client-address`
 * (lib/client-address.ts), else, for a direct internal call, the socket's peer; "unknown" when
 * neither is an IP address. For per-address limits, see addressSubject.
 */
export function clientAddressOf(ctx: HandlerContext): string {
  return normaliseAddress(ctx.requestHeader.get(CLIENT_ADDRESS_HEADER) ?? undefined) ?? ctx.values.get(peerAddressKey) ?? "unknown";
}
