/**
 * The QR payload of a ticket: its layout, encoding and what the signature covers
 * (docs/adr/0009-tickets.md). Pure and dependency-free, so the tickets service (Node's crypto),
 * the browser scanner (WebCrypto) and the benchmark share one codec; each brings its own Ed25519.
 *
 *   payload = "TK1:" + BASE32(body ‖ signature)          (RFC 4648 alphabet, no padding)
 *   body    = keyId(4) ‖ ticketId(16) ‖ showtimeId(16) ‖ len(1) seatId ‖ len(1) holder
 *   signature = Ed25519(private key, "TK1:" ‖ body)       (64 bytes)
 *
 * Upper-case base32 and ":" are all in the QR code's alphanumeric set, which packs 5.5 bits per
 * character instead of byte mode's 8, so the code stays small (about 176 characters for a short
 * seat id: QR version 8 at level M). The version prefix is signed too, so a payload cannot be
 * replayed under another layout.
 */

export const PAYLOAD_PREFIX = "TK1:";
export const KEY_ID_BYTES = 4;
export const SIGNATURE_BYTES = 64;
export const MAX_SEAT_ID_BYTES = 64;
export const MAX_HOLDER_BYTES = 16;
/** Longest payload the layout allows (bounds what a scanner or the service reads). */
export const MAX_PAYLOAD_LENGTH = PAYLOAD_PREFIX.length + Math.ceil(((KEY_ID_BYTES + 32 + 2 + MAX_SEAT_ID_BYTES + MAX_HOLDER_BYTES + SIGNATURE_BYTES) * 8) / 5);

/** What a ticket's payload says. */
export interface TicketFields {
  /** 8 lower-case hex characters: the signing key's id. */
  keyId: string;
  ticketId: string;
  showtimeId: string;
  seatId: string;
  /** Initials, at most 16 bytes of UTF-8. */
  holder: string;
}

/** A payload split into what was signed and the signature, with the fields it carries. */
export interface ParsedPayload {
  fields: TicketFields;
  /** The bytes the signature covers: "TK1:" ‖ body. */
  signed: Uint8Array;
  signature: Uint8Array;
}

export class PayloadFormatError extends Error {}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let i = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new PayloadFormatError(`not base32: ${JSON.stringify(ch)}`);
    buffer = ((buffer << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out[i++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  // the leftover bits must be the zero padding an encoder writes, or two texts would decode alike
  if (bits >= 5) throw new PayloadFormatError("one character too many");
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new PayloadFormatError("trailing bits are not zero");
  return out;
}

function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new PayloadFormatError(`not a uuid: ${uuid}`);
  return hexToBytes(hex);
}

function bytesToUuid(b: Uint8Array): string {
  const h = bytesToHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function lengthPrefixed(text: string, max: number, what: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length > max) throw new PayloadFormatError(`${what} is longer than ${max} bytes`);
  return Uint8Array.of(bytes.length, ...bytes);
}

/** The bytes a ticket's signature covers: "TK1:" ‖ body. */
export function signedBytes(f: TicketFields): Uint8Array {
  if (!/^[0-9a-f]{8}$/.test(f.keyId)) throw new PayloadFormatError("keyId must be 8 hex characters");
  const parts = [
    encoder.encode(PAYLOAD_PREFIX),
    hexToBytes(f.keyId),
    uuidToBytes(f.ticketId),
    uuidToBytes(f.showtimeId),
    lengthPrefixed(f.seatId, MAX_SEAT_ID_BYTES, "seatId"),
    lengthPrefixed(f.holder, MAX_HOLDER_BYTES, "holder"),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The payload of signed bytes (from signedBytes) and their 64-byte signature. */
export function formatPayload(signed: Uint8Array, signature: Uint8Array): string {
  if (signature.length !== SIGNATURE_BYTES) throw new PayloadFormatError("an Ed25519 signature is 64 bytes");
  const prefix = PAYLOAD_PREFIX.length;
  const all = new Uint8Array(signed.length - prefix + SIGNATURE_BYTES);
  all.set(signed.subarray(prefix));
  all.set(signature, signed.length - prefix);
  return PAYLOAD_PREFIX + base32Encode(all);
}

/**
 * Splits a payload into its fields, the signed bytes and the signature. Throws
 * PayloadFormatError for anything that is not a well-formed payload; says nothing about the
 * signature, which the caller verifies with the key `fields.keyId` names.
 */
export function parsePayload(payload: string): ParsedPayload {
  const text = payload.trim();
  if (text.length > MAX_PAYLOAD_LENGTH) throw new PayloadFormatError("too long to be a ticket");
  if (!text.startsWith(PAYLOAD_PREFIX)) throw new PayloadFormatError("not a ticket of this platform");
  const all = base32Decode(text.slice(PAYLOAD_PREFIX.length));
  const minBody = KEY_ID_BYTES + 32 + 2;
  if (all.length < minBody + SIGNATURE_BYTES) throw new PayloadFormatError("too short to be a ticket");
  const body = all.subarray(0, all.length - SIGNATURE_BYTES);
  let at = 0;
  const take = (n: number) => {
    if (at + n > body.length) throw new PayloadFormatError("truncated");
    const part = body.subarray(at, at + n);
    at += n;
    return part;
  };
  const text8 = (max: number, what: string) => {
    const n = take(1)[0];
    if (n > max) throw new PayloadFormatError(`${what} is longer than ${max} bytes`);
    try {
      return decoder.decode(take(n));
    } catch {
      throw new PayloadFormatError(`${what} is not UTF-8`);
    }
  };
  const keyId = bytesToHex(take(KEY_ID_BYTES));
  const ticketId = bytesToUuid(take(16));
  const showtimeId = bytesToUuid(take(16));
  const seatId = text8(MAX_SEAT_ID_BYTES, "seatId");
  const holder = text8(MAX_HOLDER_BYTES, "holder");
  if (at !== body.length) throw new PayloadFormatError("unexpected bytes after the holder");
  const prefix = encoder.encode(PAYLOAD_PREFIX);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  return { fields: { keyId, ticketId, showtimeId, seatId, holder }, signed, signature: all.slice(all.length - SIGNATURE_BYTES) };
}

/** Initials of a name for the ticket ("Ada Lovelace" → "AL"), at most three letters. */
export function initialsOf(name: string): string {
  const letters = name
    .trim()
    .split(/[\s\-.]+/)
    .filter(Boolean)
    .map((w) => Array.from(w)[0].toLocaleUpperCase());
  const picked = letters.length > 3 ? [...letters.slice(0, 2), letters[letters.length - 1]] : letters;
  let out = picked.join("");
  while (encoder.encode(out).length > MAX_HOLDER_BYTES) out = Array.from(out).slice(0, -1).join("");
  return out;
}
