import Stripe from "stripe";
import { computeSignature, signatureHeader, verifySignature, WebhookSignatureError } from "../domain/webhook-signature.js";

/**
 * The webhook signature scheme against the stripe SDK's own implementation: what we sign, Stripe's
 * `constructEvent` accepts; what Stripe's test helper signs, we accept; and every way a signature
 * can be wrong is refused.
 */

const SECRET = "whsec_unit_test_secret";
const stripe = new Stripe("sk_test_not_used_offline");
const payload = Buffer.from(JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded", data: { object: { id: "pi_1" } } }));
const now = () => Math.floor(Date.now() / 1000);

describe("Stripe-Signature", () => {
  it("what we sign verifies with the stripe SDK (constructEvent, 300 s tolerance)", () => {
    const event = stripe.webhooks.constructEvent(payload, signatureHeader(payload, SECRET), SECRET, 300);
    expect(event.id).toBe("evt_1");
  });

  it("what the stripe SDK's test helper signs verifies with ours", () => {
    const header = stripe.webhooks.generateTestHeaderString({ payload: payload.toString("utf8"), secret: SECRET });
    expect(() => verifySignature(payload, header, SECRET)).not.toThrow();
  });

  it("is t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.payload\">", () => {
    const header = signatureHeader(payload, SECRET, 1_700_000_000);
    expect(header).toBe(`t=1700000000,v1=${computeSignature(payload, SECRET, 1_700_000_000)}`);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it("refuses a tampered body, another secret, a missing or malformed part", () => {
    const header = signatureHeader(payload, SECRET);
    const refused = (p: Buffer, h: string, s = SECRET) => expect(() => verifySignature(p, h, s)).toThrow(WebhookSignatureError);
    refused(Buffer.concat([payload, Buffer.from(" ")]), header);
    refused(payload, header, "whsec_other");
    refused(payload, header.replace(/t=\d+,/, ""));
    refused(payload, `t=${now()}`);
    refused(payload, "garbage");
    refused(payload, `t=${now()},v1=zz`);
    refused(payload, `t=${now()},v0=${computeSignature(payload, SECRET, now())}`);
  });

  it("refuses a 301-second-old or 301-second-future timestamp; accepts 299 s", () => {
    const at = (age: number) => signatureHeader(payload, SECRET, now() - age);
    expect(() => verifySignature(payload, at(301), SECRET)).toThrow(/tolerance/);
    expect(() => verifySignature(payload, at(-301), SECRET)).toThrow(/tolerance/);
    expect(() => verifySignature(payload, at(299), SECRET)).not.toThrow();
    // the SDK agrees on the old one
    expect(() => stripe.webhooks.constructEvent(payload, at(301), SECRET, 300)).toThrow();
  });

  it("accepts any matching v1 among several (secret rotation)", () => {
    const t = now();
    const header = `t=${t},v1=${computeSignature(payload, "whsec_old", t)},v1=${computeSignature(payload, SECRET, t)}`;
    expect(() => verifySignature(payload, header, SECRET)).not.toThrow();
  });
});
