import { backoffMs } from "../delivery.js";
import { formatMoney, roundToMinorUnits } from "../../../lib/money.js";
import { formatShowTime, isTimeZone, maskEmail, maskPhone, ticketReference } from "../domain/format.js";
import { kindFromWorkflow, NOTIFICATION_KINDS } from "../domain/kinds.js";
import { renderEmail, renderSms, ticketCid, type MessageContext } from "../domain/templates.js";
import { factsFromData } from "../handlers.js";
import { readNotificationsConfig } from "../config.js";
import { notificationsTaskQueue } from "../worker.js";
import { activityQueue } from "../../../workflows/task-queues.js";

/** Pure rules of the notifications service: formatting, templates, backoff, config. */

const ctx = (over: Partial<MessageContext> = {}): MessageContext => ({
  kind: "booking_confirmed",
  displayName: "Ada",
  bookingId: "6c1f7f1e-8a5b-4b59-9d0e-2f1f5d3a9c11",
  eventName: "Interstellar",
  venueName: "Cineplex 101",
  venueCity: "Hyderabad",
  startsAt: new Date("2030-09-09T19:30:00Z"),
  seats: ["A1", "A2"],
  amountMinor: 9000,
  currency: "USD",
  timeZone: "UTC",
  ...over,
});

describe("formatting", () => {
  it("writes money in the currency's digits", () => {
    expect(formatMoney(9000, "USD")).toBe("90.00 USD");
    expect(formatMoney(4550, "EUR")).toBe("45.50 EUR");
    expect(formatMoney(1500, "JPY")).toBe("1500 JPY");
    expect(formatMoney(12345, "KWD")).toBe("12.345 KWD");
    expect(roundToMinorUnits(12.5, "EUR")).toBe(1250);
    expect(roundToMinorUnits(0.1 + 0.2, "USD")).toBe(30);
  });

  it("writes the show time in the configured zone, naming it", () => {
    const at = new Date("2030-09-09T19:30:00Z");
    expect(formatShowTime(at, "UTC")).toBe("Mon, Sep 9, 2030, 19:30 UTC");
    expect(formatShowTime(at, "Asia/Kolkata")).toBe("Tue, Sep 10, 2030, 01:00 GMT+5:30");
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });

  it("derives a stable, unambiguous ticket reference from the booking id", () => {
    const id = "6c1f7f1e-8a5b-4b59-9d0e-2f1f5d3a9c11";
    const ref = ticketReference(id);
    expect(ref).toMatch(/^TKT-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    expect(ticketReference(id.toUpperCase())).toBe(ref);
    expect(ticketReference("6c1f7f1e-8a5b-4b59-9d0e-2f1f5d3a9c12")).not.toBe(ref);
    const many = new Set(Array.from({ length: 2000 }, (_, i) => ticketReference(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`)));
    expect(many.size).toBe(2000);
  });

  it("masks recipients for the message log", () => {
    expect(maskEmail("ada@example.com")).toBe("a***@example.com");
    expect(maskPhone("+14155550123")).toBe("+1415***0123");
    expect(maskPhone("+4930123")).toBe("+4***23");
  });
});

describe("templates", () => {
  it("a confirmation carries event, venue and city, time, seats, amount paid, ticket reference and booking id", () => {
    const m = renderEmail(ctx());
    expect(m.subject).toBe("Booking confirmed: Interstellar, Mon, Sep 9, 2030, 19:30 UTC");
    expect(m.text).toBe(
      [
        "Hi Ada,",
        "",
        "Your booking is confirmed and paid. Enjoy the show!",
        "",
        "  Event:    Interstellar",
        "  Venue:    Cineplex 101, Hyderabad",
        "  Time:     Mon, Sep 9, 2030, 19:30 UTC",
        "  Seats:    A1, A2",
        "  Paid:     90.00 USD",
        `  Ticket:   ${ticketReference(ctx().bookingId!)}`,
        "  Booking:  6c1f7f1e-8a5b-4b59-9d0e-2f1f5d3a9c11",
        "",
        `Show your ticket reference ${ticketReference(ctx().bookingId!)} at the entrance.`,
        "",
        "Ticketing",
        "",
      ].join("\n"),
    );
    expect(renderSms(ctx()).text).toBe(
      `Ticketing: Booking confirmed: Interstellar, Mon, Sep 9, 2030, 19:30 UTC at Cineplex 101, Hyderabad. Seats A1, A2. Ticket ${ticketReference(ctx().bookingId!)}.`,
    );
  });

  it("renders every kind; only confirmed bookings show a ticket reference", () => {
    for (const kind of NOTIFICATION_KINDS) {
      const email = renderEmail(ctx({ kind }));
      const sms = renderSms(ctx({ kind }));
      expect(email.subject).toContain("Interstellar");
      expect(sms.text.startsWith("Ticketing: ")).toBe(true);
      const withTicket = kind === "booking_confirmed" || kind === "showtime_reminder";
      expect(email.text.includes("TKT-")).toBe(withTicket);
    }
    expect(renderEmail(ctx({ kind: "booking_refunded" })).subject).toBe("Refund issued: 90.00 USD for Interstellar");
    expect(renderEmail(ctx({ kind: "hold_expired" })).text).toContain("Nothing was charged.");
  });

  it("a confirmation with tickets lists each seat's payload in the text and shows its QR image (cid) in an HTML part; the SMS carries no payload", () => {
    const tickets = [
      { ticketId: "11111111-1111-4111-8111-111111111111", seatId: "A1", payload: "TK1:AAAA" },
      { ticketId: "22222222-2222-4222-8222-222222222222", seatId: "<A2>", payload: "TK1:BBBB" },
    ];
    const m = renderEmail(ctx({ tickets }));
    const plain = renderEmail(ctx());
    expect(m.subject).toBe(plain.subject);
    // the text: what it was, with the tickets after the details and the door's instruction changed
    expect(m.text).toContain(plain.text.split("\n\nShow your ticket")[0]);
    expect(m.text).toContain(["", "Your tickets, one per seat (the HTML version of this email shows each as a QR code):", "  Seat A1: TK1:AAAA", "  Seat <A2>: TK1:BBBB", "", "Show each seat's QR code at the entrance."].join("\n"));
    expect(m.html).toContain(`<img src="cid:${ticketCid(tickets[0].ticketId)}" alt="QR code of the ticket for seat A1"`);
    expect(m.html).toContain(`cid:${ticketCid(tickets[1].ticketId)}`);
    expect(m.html).toContain("Seat &#60;A2&#62;"); // escaped
    expect(m.html).not.toContain("<A2>");
    expect(m.html).toContain("<td>Interstellar</td>");
    expect(m.html).toContain("TK1:BBBB");
    expect(renderSms(ctx({ tickets }))).toEqual(renderSms(ctx()));
    // without tickets (or for another kind) nothing changes: no HTML part
    expect(plain.html).toBeUndefined();
    expect(renderEmail(ctx({ tickets: [] }))).toEqual(plain);
    expect(renderEmail(ctx({ kind: "booking_cancelled", tickets }))).toEqual(renderEmail(ctx({ kind: "booking_cancelled" })));
  });

  it("leaves out what is not known rather than failing", () => {
    const m = renderEmail(ctx({ eventName: undefined, venueName: undefined, startsAt: undefined, amountMinor: undefined, displayName: "" }));
    expect(m.subject).toBe("Booking confirmed: your show");
    expect(m.text).toMatch(/^Hi there,/);
    expect(m.text).not.toContain("Venue:");
    expect(m.text).not.toContain("Paid:");
  });
});

describe("the booking workflow's kinds", () => {
  it("map onto the contract's names", () => {
    expect(kindFromWorkflow("booking_expired")).toBe("hold_expired");
    expect(kindFromWorkflow("refund_issued")).toBe("booking_refunded");
    expect(kindFromWorkflow("show_reminder")).toBe("showtime_reminder");
    expect(kindFromWorkflow("booking_confirmed")).toBe("booking_confirmed");
    expect(kindFromWorkflow("toString")).toBeUndefined();
  });
});

describe("backoff", () => {
  it("doubles from the base, capped, with ±20 % jitter", () => {
    const policy = { baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, policy, () => 0.5))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffMs(1, policy, () => 0)).toBe(800);
    expect(backoffMs(1, policy, () => 1)).toBe(1200);
  });
});

describe("SendNotification data", () => {
  it("reads the template variables and names a bad one", () => {
    expect(factsFromData({ seats: ["A1"], totalAmount: 12.5, currency: "eur", showtime: "2030-01-01T10:00:00Z" })).toMatchObject({
      seats: ["A1"],
      amountMinor: 1250,
      currency: "EUR",
      startsAt: new Date("2030-01-01T10:00:00Z"),
    });
    expect(() => factsFromData({ seats: "A1" })).toThrow(/data\.seats/);
    expect(() => factsFromData({ totalAmount: 3 })).toThrow(/data\.currency/);
    expect(() => factsFromData({ totalAmount: -1, currency: "USD" })).toThrow(/data\.totalAmount/);
    expect(() => factsFromData({ showtimeId: "nope" })).toThrow(/data\.showtimeId/);
  });
});

describe("config", () => {
  it("defaults to the development transports and refuses nonsense", () => {
    const c = readNotificationsConfig({});
    expect(c).toMatchObject({ smtpUrl: undefined, mailFrom: "Ticketing <no-reply@ticketing.local>", maxAttempts: 5, timeZone: "UTC" });
    expect(readNotificationsConfig({ SMTP_URL: "smtps://u:p@mail.example.com:465" }).smtpUrl).toBe("smtps://u:p@mail.example.com:465");
    expect(() => readNotificationsConfig({ SMTP_URL: "http://mail.example.com" })).toThrow(/SMTP_URL/);
    expect(() => readNotificationsConfig({ NOTIFICATIONS_TIME_ZONE: "Mars/Olympus" })).toThrow(/NOTIFICATIONS_TIME_ZONE/);
    expect(() => readNotificationsConfig({ MAIL_FROM: "nobody" })).toThrow(/MAIL_FROM/);
  });
});

describe("the activity task queue", () => {
  it("is notifications-activities, with the suffix the workflows' queue has", () => {
    expect(notificationsTaskQueue()).toBe("notifications-activities");
    expect(notificationsTaskQueue("e2e1")).toBe("notifications-activities-e2e1");
    expect(notificationsTaskQueue("-e2e1")).toBe(activityQueue("notifications", "ticketing-workflows-e2e1"));
  });
});
