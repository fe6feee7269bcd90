import QRCode from "qrcode";
import type { IssuedTicket } from "../../workflows/ticket-types.js";
import type { InlineImage } from "./channels/types.js";
import { ticketCid } from "./domain/templates.js";

/**
 * The QR code of each ticket as a PNG for the email (error correction M, like the tickets
 * service's SVG; a quiet zone of 4 modules, 6 pixels a module: about 340 pixels for a payload's
 * version 8 code). Drawn at delivery from the payload stored with the message, so a retried
 * delivery sends the same images and the message log keeps no image bytes.
 */
export async function ticketImages(tickets: IssuedTicket[]): Promise<InlineImage[]> {
  return Promise.all(
    tickets.map(async (t) => ({
      cid: ticketCid(t.ticketId),
      filename: `ticket-${t.seatId.replace(/[^A-Za-z0-9_-]/g, "_")}.png`,
      contentType: "image/png",
      content: await QRCode.toBuffer(t.payload, { type: "png", errorCorrectionLevel: "M", margin: 4, scale: 6 }),
    })),
  );
}
