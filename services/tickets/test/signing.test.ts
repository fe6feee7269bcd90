import { randomUUID, sign } from "node:crypto";
import {
  base32Decode,
  base32Encode,
  formatPayload,
  parsePayload,
  PAYLOAD_PREFIX,
  signedBytes,
  type TicketFields,
} from "../../../lib/ticket-payload.js";
import { reconcile } from "../domain/reconcile.js";
import { generateSigningKey, keyIdOf, publicKeyFromRaw, rawPublicKey, signPayload, verifyPayload } from "../domain/signing.js";

/*
 * The codec's Node side without a database: what a scanner holding only the public keys can
 * tell. Every refusal here is a payload the service's CheckIn answers "invalid" for
 * (tickets.test.ts checks that path end to end).
 */

const ours = generateSigningKey();
const keys = new Map([[ours.keyId, ours.publicKey]]);

function fields(over: Partial<TicketFields> = {}): TicketFields {
  return { keyId: ours.keyId, ticketId: randomUUID(), showtimeId: randomUUID(), seatId: "R12S7", holder: "AL", ...over };
}

/** The payload's bytes (body ‖ signature) after "TK1:". */
const bytesOf = (payload: string) => base32Decode(payload.slice(PAYLOAD_PREFIX.length));
const payloadOf = (bytes: Uint8Array) => PAYLOAD_PREFIX + base32Encode(bytes);

describe("key ids", () => {
  it("are the first 4 bytes of the SHA-256 of the raw public key, and raw keys round-trip", () => {
    expect(ours.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(keyIdOf(rawPublicKey(ours.publicKey))).toBe(ours.keyId);
    expect(Buffer.from(rawPublicKey(publicKeyFromRaw(ours.publicKeyRaw)))).toEqual(Buffer.from(ours.publicKeyRaw));
    expect(generateSigningKey().keyId).not.toBe(ours.keyId);
  });
});

describe("verifyPayload", () => {
  it("accepts what we signed and gives back its fields", () => {
    const f = fields();
    const v = verifyPayload(signPayload(f, ours), keys);
    expect(v).toEqual({ ok: true, fields: f });
  });

  it("refuses a payload signed by another key that claims our key id (forged)", () => {
    const forger = generateSigningKey();
    const signed = signedBytes(fields()); // names our key id
    const forged = formatPayload(signed, new Uint8Array(sign(null, signed, forger.privateKey!)));
    expect(verifyPayload(forged, keys)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("refuses a payload signed by a key it does not know", () => {
    const other = generateSigningKey();
    const payload = signPayload(fields({ keyId: other.keyId }), other);
    expect(verifyPayload(payload, keys)).toMatchObject({ ok: false, reason: "unknown_key" });
    expect(verifyPayload(payload, new Map([[other.keyId, other.publicKey]]))).toMatchObject({ ok: true });
  });

  it("refuses every single-byte change anywhere in the payload", () => {
    const payload = signPayload(fields(), ours);
    const bytes = bytesOf(payload);
    let tried = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x10, 0x80, 0xff]) {
        const changed = bytes.slice();
        changed[i] ^= mask;
        const v = verifyPayload(payloadOf(changed), keys);
        if (v.ok) throw new Error(`byte ${i} ^ ${mask} still verifies`);
        tried++;
      }
    }
    expect(tried).toBe(bytes.length * 4);
  });

  it("refuses every single-character change of the printed payload", () => {
    const payload = signPayload(fields(), ours);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567:a0";
    for (let i = 0; i < payload.length; i++) {
      for (const c of alphabet) {
        if (c === payload[i]) continue;
        const changed = payload.slice(0, i) + c + payload.slice(i + 1);
        if (verifyPayload(changed, keys).ok) throw new Error(`character ${i} → ${c} still verifies`);
      }
    }
  });

  it("refuses a payload whose seat was altered, also when re-encoded with a consistent length", () => {
    const f = fields({ seatId: "R12S7" });
    const payload = signPayload(f, ours);
    const { signature } = parsePayload(payload);
    // the same signature over another seat of the same length
    const altered = formatPayload(signedBytes({ ...f, seatId: "R01S1" }), signature);
    expect(verifyPayload(altered, keys)).toMatchObject({ ok: false, reason: "bad_signature" });
    // a longer seat id: the length byte and the layout change, the signature still does not fit
    const longer = formatPayload(signedBytes({ ...f, seatId: "R12S77" }), signature);
    expect(verifyPayload(longer, keys)).toMatchObject({ ok: false, reason: "bad_signature" });
    // each byte of the seat id, one at a time
    const bytes = bytesOf(payload);
    const seatAt = 4 + 16 + 16 + 1; // key id, ticket id, showtime id, length byte
    for (let i = seatAt; i < seatAt + f.seatId.length; i++) {
      const changed = bytes.slice();
      changed[i] = "X".charCodeAt(0);
      expect(verifyPayload(payloadOf(changed), keys)).toMatchObject({ ok: false, reason: "bad_signature" });
    }
  });

  it("refuses a ticket moved to another showtime (its signature covers the showtime)", () => {
    const f = fields();
    const { signature } = parsePayload(signPayload(f, ours));
    const moved = formatPayload(signedBytes({ ...f, showtimeId: randomUUID() }), signature);
    expect(verifyPayload(moved, keys)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("says bad_format for what is not a payload at all", () => {
    for (const junk of ["", "hello", "TK1:", "TK2:" + signPayload(fields(), ours).slice(4), "https://example.com/ticket/1", "TK1:abc"]) {
      expect(verifyPayload(junk, keys)).toMatchObject({ ok: false, reason: "bad_format" });
    }
  });
});

describe("reconcile (offline scans)", () => {
  const at = (min: number, gate = "g") => ({ scannedAt: new Date(Date.UTC(2026, 0, 1, 20, min)), gate });

  it("the first scan admits; an earlier one supersedes it; a later one is a duplicate; ties keep the admission", () => {
    expect(reconcile(at(5), undefined, false)).toEqual({ kind: "admit" });
    expect(reconcile(at(1, "east"), at(5, "north"), false)).toEqual({ kind: "supersede", previous: at(5, "north") });
    expect(reconcile(at(9), at(5), false)).toEqual({ kind: "duplicate" });
    expect(reconcile(at(5, "east"), at(5, "north"), false)).toEqual({ kind: "duplicate" });
  });

  it("the same scan again changes nothing", () => {
    expect(reconcile(at(5, "north"), at(5, "north"), false)).toEqual({ kind: "same_admission" });
    expect(reconcile(at(9), at(5), true)).toEqual({ kind: "same_duplicate" });
  });
});
