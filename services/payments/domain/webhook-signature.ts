import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Stripe's webhook signature scheme, both ways: the `Stripe-Signature` header is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (more than one `v1` while a
 * secret is being rolled). Implemented here rather than through the stripe SDK so that the
 * development provider, which has no API key, signs and verifies exactly like Stripe; the tests
 * check it against the SDK's own `generateTestHeaderString` and `constructEvent`.
 */

/** Stripe's default tolerance: a signature older than this is refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export class WebhookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSignatureError";
  }
}

const encoder = new TextEncoder();

function bytesOf(payload: Uint8Array | string): Uint8Array {
  return typeof payload === "string" ? encoder.encode(payload) : payload;
}

/** The hex `v1` signature of `payload` signed at `timestamp` (unix seconds). */
export function computeSignature(payload: Uint8Array | string, secret: string, timestamp: number): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(bytesOf(payload)).digest("hex");
}

/** A `Stripe-Signature` header value for `payload`, signed now (or at `timestamp`). */
export function signatureHeader(payload: Uint8Array | string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${computeSignature(payload, secret, timestamp)}`;
}

function parseHeader(header: string): { timestamp: number; signatures: string[] } {
  let timestamp = NaN;
  const signatures: string[] = [];
  for (const item of header.split(",")) {
    const eq = item.indexOf("=");
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1") signatures.push(value);
  }
  return { timestamp, signatures };
}

/**
 * Checks a `Stripe-Signature` header against the raw body: some `v1` must match (compared in
 * constant time) and the timestamp must be within `toleranceSeconds` of now, either way (an old
 * one is a replay, a far-future one a forgery or a broken clock). Throws WebhookSignatureError.
 */
export function verifySignature(
  payload: Uint8Array,
  header: string,
  secret: string,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): { timestamp: number } {
  const { timestamp, signatures } = parseHeader(header);
  if (!Number.isFinite(timestamp)) throw new WebhookSignatureError("Stripe-Signature: no timestamp (t=...)");
  if (signatures.length === 0) throw new WebhookSignatureError("Stripe-Signature: no v1 signature");
  const expected = Buffer.from(computeSignature(payload, secret, timestamp), "hex");
  const matches = signatures.some((s) => {
    if (!/^[0-9a-f]+$/i.test(s)) return false;
    const given = Buffer.from(s, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookSignatureError("Stripe-Signature: no signature matches the payload");
  const tolerance = opts.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookSignatureError(`Stripe-Signature: timestamp outside the ${tolerance} s tolerance`);
  }
  return { timestamp };
}
