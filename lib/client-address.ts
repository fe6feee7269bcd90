import { isIP } from "node:net";

/**
 * The caller's network address, as the gateway (the only public edge) saw it, in the metadata of
 * every call it forwards. The gateway sets it itself and never passes on one that came from
 * outside; the services trust it because only the gateway and other services reach them.
 */
export const CLIENT_ADDRESS_HEADER = "x-client-address";

/** An IP address in its plain form (`::ffff:1.2.3.4` → `1.2.3.4`), or undefined when it is none. */
export function normaliseAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let a = raw.trim();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  const v = isIP(a);
  if (v === 4) return a;
  if (v === 6) return a.toLowerCase();
  return undefined;
}

/**
 * The caller's address from the socket's peer and the X-Forwarded-For header, trusting that
 * header only as far as `trustedProxies` hops of our own put it there: with 0 (no proxy in front
 * of the gateway) the socket's peer is the caller and the header is ignored; with n, the address
 * n entries from the right of `X-Forwarded-For, <peer>` (entries further left are the caller's
 * own claims and could be forged). Undefined when that entry is not an IP address.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trustedProxies: number): string | undefined {
  if (trustedProxies <= 0 || !forwardedFor) return normaliseAddress(peer);
  const hops = [...forwardedFor.split(",").map((s) => s.trim()).filter(Boolean), peer ?? ""];
  return normaliseAddress(hops[Math.max(0, hops.length - 1 - trustedProxies)]);
}

/**
 * The subject of per-address limits: an IPv4 address as it is, an IPv6 address by its /64
 * network (one subscriber usually gets a whole /64, so counting single IPv6 addresses would let
 * anyone walk around a limit).
 */
export function addressSubject(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
