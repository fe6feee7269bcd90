import QRCode from "qrcode";

/**
 * A payload's QR code as an SVG document, at error correction level M (15 % of the code may be
 * damaged: a crease, a scratched phone screen). The payload is upper-case base32 and ":", all in
 * QR's alphanumeric mode, so the code stays small (lib/ticket-payload.ts).
 */
export function qrSvg(payload: string): Promise<string> {
  return QRCode.toString(payload, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
}
