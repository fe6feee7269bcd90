import { formatMoney } from "../../../lib/money.js";
import type { IssuedTicket } from "../../../workflows/ticket-types.js";
import { formatShowTime, ticketReference } from "./format.js";
import type { NotificationKind } from "./kinds.js";

/**
 * The message templates: one email (subject + plain-text body) and one SMS (a one-line summary
 * and a short text) per kind, rendered from what the booking, the catalog and the users
 * service know. Pure; a missing detail (e.g. a showtime the catalog no longer knows) leaves
 * its line out rather than failing the message.
 *
 * A confirmation with tickets also gets an HTML part: the same message with each ticket's QR
 * code as an inline image (`cid:`, ticketCid; the delivery draws the images from the payloads),
 * and the text part lists the payloads, so a reader without images still has them. The SMS
 * carries neither: a payload is no SMS material.
 */

export interface MessageContext {
  kind: NotificationKind;
  /** The user's display name, for the greeting. */
  displayName: string;
  bookingId?: string;
  eventName?: string;
  venueName?: string;
  venueCity?: string;
  startsAt?: Date;
  /** Seat ids of the booking, e.g. ["A1", "A2"]. */
  seats: string[];
  /** Integer minor units of `currency`. */
  amountMinor?: number;
  currency?: string;
  /** IANA zone the show time is written in (venues carry no zone: the service's, UTC by default). */
  timeZone: string;
  /** booking_confirmed: the booking's tickets, one per seat. */
  tickets?: IssuedTicket[];
}

export interface RenderedMessage {
  /** Email subject; for SMS a one-line summary (what the message log shows). */
  subject: string;
  text: string;
  /** Email only, when the message has tickets: the HTML part (its images are `cid:` ticketCid). */
  html?: string;
}

/** The Content-ID of a ticket's QR image in the email (the HTML refers to it as `cid:...`). */
export function ticketCid(ticketId: string): string {
  return `ticket-${ticketId}@ticketing`;
}

/** Kinds whose messages carry the ticket reference (the booking is confirmed). */
const WITH_TICKET: ReadonlySet<NotificationKind> = new Set(["booking_confirmed", "showtime_reminder"]);

interface Facts {
  event: string;
  venue?: string;
  when?: string;
  seats?: string;
  amount?: string;
  ticket?: string;
}

function facts(ctx: MessageContext): Facts {
  return {
    event: ctx.eventName?.trim() || "your show",
    venue: ctx.venueName ? (ctx.venueCity ? `${ctx.venueName}, ${ctx.venueCity}` : ctx.venueName) : undefined,
    when: ctx.startsAt ? formatShowTime(ctx.startsAt, ctx.timeZone) : undefined,
    seats: ctx.seats.length ? ctx.seats.join(", ") : undefined,
    amount: ctx.amountMinor !== undefined && ctx.currency ? formatMoney(ctx.amountMinor, ctx.currency) : undefined,
    ticket: ctx.bookingId && WITH_TICKET.has(ctx.kind) ? ticketReference(ctx.bookingId) : undefined,
  };
}

function detailRows(ctx: MessageContext, f: Facts, amountLabel: string): Array<[string, string]> {
  const rows: Array<[string, string | undefined]> = [
    ["Event", f.event],
    ["Venue", f.venue],
    ["Time", f.when],
    ["Seats", f.seats],
    [amountLabel, f.amount],
    ["Ticket", f.ticket],
    ["Booking", ctx.bookingId],
  ];
  return rows.filter((r): r is [string, string] => Boolean(r[1]));
}

const SIGNATURE = ["", "Ticketing"];

export function renderEmail(ctx: MessageContext): RenderedMessage {
  const f = facts(ctx);
  const tickets = ctx.kind === "booking_confirmed" && ctx.tickets?.length ? ctx.tickets : undefined;
  const hello = `Hi ${ctx.displayName.trim() || "there"},`;
  const at = f.when ? `, ${f.when}` : "";
  let subject: string;
  let intro: string[];
  let outro: string[] = [];
  let amountLabel = "Amount";
  switch (ctx.kind) {
    case "booking_confirmed":
      subject = `Booking confirmed: ${f.event}${at}`;
      intro = ["Your booking is confirmed and paid. Enjoy the show!"];
      outro = tickets
        ? ["Show each seat's QR code at the entrance."]
        : f.ticket
          ? [`Show your ticket reference ${f.ticket} at the entrance.`]
          : [];
      amountLabel = "Paid";
      break;
    case "booking_cancelled":
      subject = `Booking cancelled: ${f.event}${at}`;
      intro = ["Your booking has been cancelled and its seats released."];
      outro = ["If you had paid, the refund follows in a separate message."];
      break;
    case "booking_refunded":
      subject = `Refund issued: ${f.amount ?? "your payment"} for ${f.event}`;
      intro = [`We have refunded ${f.amount ?? "your payment"} to your original payment method.`];
      outro = ["It can take a few business days to appear on your statement."];
      amountLabel = "Refunded";
      break;
    case "payment_failed":
      subject = `Payment failed: ${f.event}${at}`;
      intro = ["Your payment for this booking did not go through, so the booking is not confirmed."];
      outro = ["While your seats are still held you can try again with another payment method."];
      break;
    case "hold_expired":
      subject = `Seat hold expired: ${f.event}${at}`;
      intro = ["Your seat hold expired before the payment was completed, so the seats were released.", "Nothing was charged."];
      break;
    case "showtime_reminder":
      subject = `Reminder: ${f.event} starts ${f.when ?? "soon"}`;
      intro = ["A reminder that your show is coming up."];
      outro = f.ticket ? [`Show your ticket reference ${f.ticket} at the entrance.`] : [];
      amountLabel = "Paid";
      break;
  }
  const rows = detailRows(ctx, f, amountLabel);
  const ticketLines = tickets
    ? ["", "Your tickets, one per seat (the HTML version of this email shows each as a QR code):", ...tickets.map((t) => `  Seat ${t.seatId}: ${t.payload}`)]
    : [];
  const text = [
    hello,
    "",
    ...intro,
    "",
    ...rows.map(([k, v]) => `  ${(k + ":").padEnd(9)} ${v}`),
    ...ticketLines,
    ...(outro.length ? ["", ...outro] : []),
    ...SIGNATURE,
  ].join("\n");
  return { subject, text: text + "\n", ...(tickets ? { html: ticketsHtml({ hello, intro, rows, outro, tickets }) } : {}) };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The HTML part of an email with tickets: the text's content, then one QR image per ticket. */
function ticketsHtml(m: { hello: string; intro: string[]; rows: Array<[string, string]>; outro: string[]; tickets: IssuedTicket[] }): string {
  const p = (line: string) => `<p>${escapeHtml(line)}</p>`;
  const rows = m.rows.map(([k, v]) => `<tr><th align="left" style="padding-right:12px">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`);
  const tickets = m.tickets.map((t) => {
    const seat = escapeHtml(t.seatId);
    return [
      `<div style="margin:16px 0">`,
      `<h3 style="margin:0 0 8px">Seat ${seat}</h3>`,
      `<img src="cid:${escapeHtml(ticketCid(t.ticketId))}" alt="QR code of the ticket for seat ${seat}" style="display:block;max-width:100%">`,
      `<p style="font-family:monospace;font-size:11px;word-break:break-all;color:#555">${escapeHtml(t.payload)}</p>`,
      `</div>`,
    ].join("");
  });
  return [
    `<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#111">`,
    p(m.hello),
    ...m.intro.map(p),
    `<table>${rows.join("")}</table>`,
    `<h2>Your tickets</h2>`,
    ...tickets,
    ...m.outro.map(p),
    p(SIGNATURE.filter(Boolean).join(" ")),
    `</body></html>`,
  ].join("\n");
}

export function renderSms(ctx: MessageContext): RenderedMessage {
  const f = facts(ctx);
  const at = f.when ? `, ${f.when}` : "";
  const where = f.venue ? ` at ${f.venue}` : "";
  const seats = f.seats ? ` Seats ${f.seats}.` : "";
  let subject: string;
  let text: string;
  switch (ctx.kind) {
    case "booking_confirmed":
      subject = `Booking confirmed: ${f.event}`;
      text = `Booking confirmed: ${f.event}${at}${where}.${seats}${f.ticket ? ` Ticket ${f.ticket}.` : ""}`;
      break;
    case "booking_cancelled":
      subject = `Booking cancelled: ${f.event}`;
      text = `Your booking for ${f.event}${at} was cancelled.${seats}`;
      break;
    case "booking_refunded":
      subject = `Refund issued: ${f.event}`;
      text = `Refund of ${f.amount ?? "your payment"} issued for ${f.event}.`;
      break;
    case "payment_failed":
      subject = `Payment failed: ${f.event}`;
      text = `Payment for ${f.event}${at} failed; the booking is not confirmed.`;
      break;
    case "hold_expired":
      subject = `Seat hold expired: ${f.event}`;
      text = `Your seat hold for ${f.event}${at} expired; nothing was charged.`;
      break;
    case "showtime_reminder":
      subject = `Reminder: ${f.event}`;
      text = `Reminder: ${f.event}${at}${where}.${seats}${f.ticket ? ` Ticket ${f.ticket}.` : ""}`;
      break;
  }
  return { subject, text: `Ticketing: ${text}` };
}
