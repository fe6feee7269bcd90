import { randomUUID } from "node:crypto";
import QRCode from "qrcode";
import { qrSvg } from "../domain/qr.js";
import { generateSigningKey, signPayload } from "../domain/signing.js";
import { decodePng, decodeSvg } from "./qr.js";

/*
 * The QR code of a ticket decodes back to its payload with an independent decoder (jsQR, as the
 * scanner page uses): from a PNG rendered by `qrcode`, and from the SVG the service sends.
 */

const key = generateSigningKey();
const payloadOf = (seatId: string, holder: string) =>
  signPayload({ keyId: key.keyId, ticketId: randomUUID(), showtimeId: randomUUID(), seatId, holder }, key);

describe("ticket QR codes", () => {
  it.each([
    ["a short seat", "R1S1", "AL"],
    ["a long seat id and initials", "BALCONY-LEFT-ROW-12-SEAT-107", "ÅBØ"],
    ["the longest seat id", "S".repeat(64), "XYZ"],
  ])("a PNG of %s decodes back to the payload", async (_what, seatId, holder) => {
    const payload = payloadOf(seatId, holder);
    const png = await QRCode.toBuffer(payload, { type: "png", errorCorrectionLevel: "M", scale: 4, margin: 4 });
    expect(decodePng(png)).toBe(payload);
  });

  it("the service's SVG draws the same code, and it decodes back to the payload", async () => {
    const payload = payloadOf("R12S7", "AL");
    const svg = await qrSvg(payload);
    expect(svg).toMatch(/^<svg /);
    expect(decodeSvg(svg)).toBe(payload);
  });

  it("stays small: the payload is in QR's alphanumeric set (version 8 at level M for a short seat)", () => {
    const payload = payloadOf("R12S7", "AL");
    expect(payload).toMatch(/^TK1:[A-Z2-7]+$/);
    const code = QRCode.create(payload, { errorCorrectionLevel: "M" });
    expect(code.segments.map((s) => s.mode.id)).toEqual(["Alphanumeric"]);
    expect(code.version).toBeLessThanOrEqual(8);
  });

  it("a scrambled SVG does not decode to the payload (the check can fail)", async () => {
    const payload = payloadOf("R1S1", "AL");
    const svg = (await qrSvg(payload)).replace(/h(\d+)/g, (_m, n) => `h${Number(n) + 1}`);
    expect(decodeSvg(svg)).not.toBe(payload);
  });
});
