import { createHash } from "node:crypto";

/** Namespace of the catalog's name-based ids (demo data); any fixed UUID would do. */
export const CATALOG_ID_NAMESPACE = "3b8f4a52-9d1e-4c67-a0f2-6c1d2e7b9a10";

/**
 * RFC 4122 version-5 UUID: SHA-1 of a namespace and a name. The same name always gives the same
 * id, which is what makes loading the demo data twice a no-op.
 */
export function uuidV5(name: string, namespace: string = CATALOG_ID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new Error(`not a UUID: ${namespace}`);
  const bytes = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
