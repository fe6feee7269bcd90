/**
 * The Node side of the ticket payload codec (lib/ticket-payload.ts): Ed25519 with node:crypto,
 * key ids, and one verification that says why a payload is refused. Pure apart from crypto.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import {
  bytesToHex,
  formatPayload,
  parsePayload,
  PayloadFormatError,
  signedBytes,
  type TicketFields,
} from "../../../lib/ticket-payload.js";

/** A signing key as the service holds it: the public half always, the private half when loaded. */
export interface SigningKeyPair {
  keyId: string;
  /** The raw 32-byte Ed25519 public key. */
  publicKeyRaw: Uint8Array;
  publicKey: KeyObject;
  privateKey?: KeyObject;
}

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The key id of a raw public key: the first 4 bytes of its SHA-256, as 8 lower-case hex characters. */
export function keyIdOf(publicKeyRaw: Uint8Array): string {
  return bytesToHex(createHash("sha256").update(publicKeyRaw).digest().subarray(0, 4));
}

export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ type: "spki", format: "der" });
  return new Uint8Array(der.subarray(ED25519_SPKI_PREFIX.length));
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** A new key pair, with its id and its private half as PKCS#8 PEM (how the database keeps it). */
export function generateSigningKey(): SigningKeyPair & { privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const publicKeyRaw = rawPublicKey(publicKey);
  return {
    keyId: keyIdOf(publicKeyRaw),
    publicKeyRaw,
    publicKey,
    privateKey,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: "pem" });
}

/** The signed payload of a ticket; `fields.keyId` must be the key's id. */
export function signPayload(fields: TicketFields, key: SigningKeyPair): string {
  if (!key.privateKey) throw new Error(`the private half of key ${key.keyId} is not loaded`);
  if (fields.keyId !== key.keyId) throw new Error(`payload names key ${fields.keyId}, signed with ${key.keyId}`);
  const signed = signedBytes(fields);
  return formatPayload(signed, new Uint8Array(sign(null, signed, key.privateKey)));
}

export type InvalidReason = "bad_format" | "unknown_key" | "bad_signature";

export type Verification = { ok: true; fields: TicketFields } | { ok: false; reason: InvalidReason; detail: string };

/** What a door person reads for each reason. */
export const REASON_TEXT: Record<InvalidReason, string> = {
  bad_format: "not a ticket of this platform (unreadable code)",
  unknown_key: "not signed by a key of this platform",
  bad_signature: "the ticket has been altered or forged (signature does not match)",
};

/**
 * Verifies a payload against the public keys `keyOf` knows (by key id). Never throws for bad
 * input: a malformed payload, an unknown key and a bad signature are answers.
 */
export function verifyPayload(payload: string, keys: ReadonlyMap<string, KeyObject> | ((keyId: string) => KeyObject | undefined)): Verification {
  const keyOf = typeof keys === "function" ? keys : (id: string) => keys.get(id);
  let parsed;
  try {
    parsed = parsePayload(payload);
  } catch (err) {
    if (err instanceof PayloadFormatError) return { ok: false, reason: "bad_format", detail: err.message };
    throw err;
  }
  const key = keyOf(parsed.fields.keyId);
  if (!key) return { ok: false, reason: "unknown_key", detail: `key ${parsed.fields.keyId}` };
  if (!verify(null, parsed.signed, key, parsed.signature)) return { ok: false, reason: "bad_signature", detail: "Ed25519 verification failed" };
  return { ok: true, fields: parsed.fields };
}

/** The key id a payload names, when it parses (to decide whether unknown keys need a reload). */
export function keyIdOfPayload(payload: string): string | undefined {
  try {
    return parsePayload(payload).fields.keyId;
  } catch {
    return undefined;
  }
}
