import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Client as TemporalClient, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { formatPayload, signedBytes } from "../../../lib/ticket-payload.js";
import { freePort } from "../../../test/support/ports.js";
import type { BookingNotification, BookingNotificationKind } from "../../../workflows/notification-types.js";
import { activityQueue, TASK_QUEUES } from "../../../workflows/task-queues.js";
import type { IssuedTicket } from "../../../workflows/ticket-types.js";
import { formatShowTime, ticketReference } from "../domain/format.js";
import { ticketCid } from "../domain/templates.js";
import {
  createShow,
  registerUser,
  sleep,
  startNotifications,
  startUpstreams,
  waitFor,
  type NotificationsHarness,
  type ShowFixture,
  type TestUser,
  type Upstreams,
} from "./harness.js";
import { SMTP_PASS, SMTP_USER, startSmtpServer, type ReceivedMail, type TestSmtpServer } from "./smtp.js";

/**
 * The notifications service end to end: the notifyBooking activity and the RPCs against a running
 * service, real SMTP to an SMTP server this suite starts (smtp-server on 127.0.0.1), the real
 * users and catalog services for the lookups, real Postgres, and the real Temporal dev server for
 * the activity worker.
 */

let up: Upstreams;
let smtp: TestSmtpServer;
let n: NotificationsHarness;
let show: ShowFixture;
// this suite's own queues (see activityQueue): other suites share the Temporal server
const WORKFLOW_QUEUE = `${TASK_QUEUES.workflows}-notifications-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") });
  } catch {
    // already installed in this process by another suite
  }
  up = await startUpstreams();
  smtp = await startSmtpServer();
  n = await startNotifications(up, {
    smtpUrl: smtp.url,
    temporal: {
      address: process.env.TEST_TEMPORAL_ADDRESS!,
      namespace: "default",
      taskQueue: activityQueue("notifications", WORKFLOW_QUEUE),
    },
  });
  show = await createShow(up);
}, 60_000);

afterAll(async () => {
  await n?.close();
  await smtp?.close();
  await up?.close();
});

function booking(user: TestUser, kind: BookingNotificationKind = "booking_confirmed", bookingId = randomUUID()): BookingNotification {
  return {
    kind,
    bookingId,
    userId: user.userId,
    showtimeId: show.showtimeId,
    seatIds: ["A1", "A2"],
    amountMinor: 9000,
    currency: "USD",
    idempotencyKey: `${bookingId}:${kind}`,
  };
}

/** Tickets as the tickets service issues them: real payloads, signed with a key of this suite. */
const signingKey = generateKeyPairSync("ed25519").privateKey;
function ticketsFor(seatIds: string[]): IssuedTicket[] {
  return seatIds.map((seatId) => {
    const ticketId = randomUUID();
    const signed = signedBytes({ keyId: "0a1b2c3d", ticketId, showtimeId: show.showtimeId, seatId, holder: "AL" });
    return { ticketId, seatId, payload: formatPayload(signed, sign(null, signed, signingKey)) };
  });
}

/** What an independent decoder (jsQR) reads in a PNG. */
function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  const pixels = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  return jsQR(pixels, image.width, image.height, { inversionAttempts: "dontInvert" })?.data;
}

/** The mail's inline PNGs by Content-ID, each decoded. */
function qrCodesOf(mail: ReceivedMail): Map<string | undefined, string | undefined> {
  return new Map(mail.parts.filter((p) => p.contentType === "image/png").map((p) => [p.contentId, decodeQr(p.content)]));
}

async function row(h: NotificationsHarness, id: string) {
  return h.db("notifications").where({ id }).first();
}

async function settled(h: NotificationsHarness, id: string) {
  return waitFor(`notification ${id} settled`, async () => {
    const r = await row(h, id);
    return r && r.status !== "pending" ? r : undefined;
  });
}

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("notifyBooking → email over SMTP", () => {
  it("delivers the confirmation email with the seats, the amount and the ticket reference (and the SMS)", async () => {
    const ada = await registerUser(up, { phone: "+14155550123" });
    const input = booking(ada);
    const { messageIds } = await n.server.activities.notifyBooking(input);
    expect(messageIds).toHaveLength(2); // email, and SMS since Ada has a phone
    const [emailId, smsId] = messageIds;

    const mail = await waitFor("the email", () => smtp.mailsFor(emailId)[0]);
    const when = formatShowTime(show.startsAt, "UTC");
    const ticket = ticketReference(input.bookingId);
    expect(ticket).toMatch(/^TKT-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    expect(mail.to).toEqual([ada.email]);
    expect(mail.user).toBe(SMTP_USER); // logged in with the credentials of SMTP_URL
    expect(mail.headers.get("from")).toContain("no-reply@ticketing.local");
    expect(mail.headers.get("message-id")).toBe(`<${emailId}@ticketing.local>`);
    expect(mail.headers.get("subject")).toBe(`Booking confirmed: ${show.eventName}, ${when}`);
    expect(mail.text).toMatch(/^Hi Ada Lovelace,\n/);
    expect(mail.text).toContain(`  Event:    ${show.eventName}\n`);
    expect(mail.text).toContain(`  Venue:    ${show.venueName}, Hyderabad\n`);
    expect(mail.text).toContain(`  Time:     ${when}\n`);
    expect(mail.text).toContain("  Seats:    A1, A2\n");
    expect(mail.text).toContain("  Paid:     90.00 USD\n");
    expect(mail.text).toContain(`  Ticket:   ${ticket}\n`);
    expect(mail.text).toContain(`  Booking:  ${input.bookingId}\n`);
    // no tickets: a single text/plain part, as before tickets existed
    expect(mail.parts.map((p) => p.contentType)).toEqual(["text/plain"]);
    expect(mail.html).toBeUndefined();

    const email = await settled(n, emailId);
    expect(email).toMatchObject({ status: "sent", transport: "smtp", attempts: 1, channel: "email", kind: "booking_confirmed" });
    expect(email.sent_at).toBeInstanceOf(Date);
    expect(email).toMatchObject({ html: null, tickets: null });

    const sms = await settled(n, smsId);
    expect(sms).toMatchObject({ status: "sent", transport: "log", channel: "sms", recipient: "+14155550123", recipient_masked: "+1415***0123" });
    const text = n.sms.sent.find((m) => m.notificationId === smsId)?.text;
    expect(text).toContain(show.eventName);
    expect(text).toContain("Seats A1, A2");
    expect(text).toContain(`Ticket ${ticket}`);
  });

  it("a confirmation with tickets: one inline QR image per ticket that decodes (jsQR) to its payload, the payloads in the text part; the SMS has none", async () => {
    const ada = await registerUser(up, { phone: "+14155550124" });
    const tickets = ticketsFor(["A1", "A2"]);
    const input = { ...booking(ada), tickets };
    const { messageIds } = await n.server.activities.notifyBooking(input);
    const [emailId, smsId] = messageIds;
    const mail = await waitFor("the email", () => smtp.mailsFor(emailId)[0]);

    expect(mail.headers.get("subject")).toBe(`Booking confirmed: ${show.eventName}, ${formatShowTime(show.startsAt, "UTC")}`);
    expect(mail.parts.filter((p) => p.contentType === "image/png")).toHaveLength(2);
    expect(qrCodesOf(mail)).toEqual(new Map(tickets.map((t) => [ticketCid(t.ticketId), t.payload])));
    for (const t of tickets) {
      expect(mail.html).toContain(`src="cid:${ticketCid(t.ticketId)}"`);
      expect(mail.html).toContain(`Seat ${t.seatId}`);
      expect(mail.text).toContain(`  Seat ${t.seatId}: ${t.payload}\n`);
    }
    expect(mail.text).toContain("  Seats:    A1, A2\n");

    // the message log keeps the payloads (delivery draws the images from them), not the images
    const email = await settled(n, emailId);
    expect(email).toMatchObject({ status: "sent", attempts: 1, tickets });
    expect(email.body).toContain(tickets[0].payload);
    await settled(n, smsId);
    const text = n.sms.sent.find((m) => m.notificationId === smsId)!.text;
    for (const t of tickets) expect(text).not.toContain(t.payload);
    expect((await row(n, smsId)).tickets).toBeNull();
  });

  it("refuses malformed tickets for good (a bug in the caller), and queues nothing", async () => {
    const user = await registerUser(up);
    const input = { ...booking(user), tickets: [{ ticketId: randomUUID(), seatId: "A1", payload: "" }] };
    await expect(n.server.activities.notifyBooking(input)).rejects.toMatchObject({ type: "BadTickets", nonRetryable: true });
    expect(await n.db("notifications").where({ idempotency_key: input.idempotencyKey })).toHaveLength(0);
  });

  it("runs as a Temporal activity on the notifications queue: a repeated call returns the same ids and sends nothing new", async () => {
    await n.server.worker!.ready;
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const client = new TemporalClient({ connection, namespace: "default" });
    const workerConnection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: "default",
      taskQueue: WORKFLOW_QUEUE,
      workflowsPath: require.resolve("./workflows"),
    });
    try {
      await worker.runUntil(async () => {
        const user = await registerUser(up);
        const input = booking(user);
        const run = (id: string) =>
          client.workflow.execute("notifyBookingTestWorkflow", { taskQueue: WORKFLOW_QUEUE, workflowId: id, args: [input] }) as Promise<{
            messageIds: string[];
          }>;
        const first = await run(`notify-test-${randomUUID()}`);
        expect(first.messageIds).toHaveLength(1);
        await waitFor("the email", () => smtp.mailsFor(first.messageIds[0])[0]);
        const again = await run(`notify-test-${randomUUID()}`); // e.g. a replayed or retried booking workflow
        expect(again).toEqual(first);
        await sleep(300);
        expect(smtp.mailsFor(first.messageIds[0])).toHaveLength(1);
      });
    } finally {
      await workerConnection.close();
      await connection.close();
    }
  }, 90_000);

  it("sends once when the same idempotency key comes twice, concurrently and again later (a confirmation with its tickets too)", async () => {
    const user = await registerUser(up, { phone: "+14155550199" });
    const input = { ...booking(user), tickets: ticketsFor(["A3"]) };
    const concurrent = await Promise.all(Array.from({ length: 4 }, () => n.server.activities.notifyBooking(input)));
    const later = await n.server.activities.notifyBooking({ ...input });
    const ids = concurrent[0].messageIds;
    expect(ids).toHaveLength(2);
    for (const r of [...concurrent, later]) expect(r.messageIds).toEqual(ids);

    await settled(n, ids[0]);
    await settled(n, ids[1]);
    await sleep(300); // several delivery rounds: nothing else goes out
    expect(smtp.mailsFor(ids[0])).toHaveLength(1);
    expect(qrCodesOf(smtp.mailsFor(ids[0])[0])).toEqual(new Map([[ticketCid(input.tickets[0].ticketId), input.tickets[0].payload]]));
    expect(n.sms.sent.filter((m) => m.notificationId === ids[1])).toHaveLength(1);
    const rows = await n.db("notifications").where({ idempotency_key: input.idempotencyKey });
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.attempts)).toEqual([1, 1]);
  });

  it("renders every kind of the booking workflow under the contract's name", async () => {
    const user = await registerUser(up);
    const bookingId = randomUUID();
    const expected: Record<BookingNotificationKind, [string, RegExp]> = {
      booking_confirmed: ["booking_confirmed", /^Booking confirmed: /],
      booking_expired: ["hold_expired", /^Seat hold expired: /],
      payment_failed: ["payment_failed", /^Payment failed: /],
      booking_cancelled: ["booking_cancelled", /^Booking cancelled: /],
      refund_issued: ["booking_refunded", /^Refund issued: 90\.00 USD for /],
      show_reminder: ["showtime_reminder", /^Reminder: .* starts /],
    };
    for (const [kind, [contractKind, subject]] of Object.entries(expected)) {
      const { messageIds } = await n.server.activities.notifyBooking(booking(user, kind as BookingNotificationKind, bookingId));
      const r = await row(n, messageIds[0]);
      expect(r.kind).toBe(contractKind);
      expect(r.subject).toMatch(subject);
      expect(r.body.includes(ticketReference(bookingId))).toBe(contractKind === "booking_confirmed" || contractKind === "showtime_reminder");
    }
  });

  it("does not fail for a user that does not exist (nothing to send) and renders without a showtime the catalog does not know", async () => {
    const ghost = { ...booking(await registerUser(up)), userId: randomUUID() };
    await expect(n.server.activities.notifyBooking(ghost)).resolves.toEqual({ messageIds: [] });

    const user = await registerUser(up);
    const unknownShow = { ...booking(user), showtimeId: randomUUID() };
    const { messageIds } = await n.server.activities.notifyBooking(unknownShow);
    const mail = await waitFor("the email", () => smtp.mailsFor(messageIds[0])[0]);
    expect(mail.headers.get("subject")).toBe("Booking confirmed: your show");
    expect(mail.text).toContain("  Seats:    A1, A2\n");
  });
});

describe("a mail server that refuses the message", () => {
  let failing: TestSmtpServer;
  let nf: NotificationsHarness;
  beforeAll(async () => {
    failing = await startSmtpServer({
      reject: (to) =>
        to.some((a) => a.startsWith("perm-"))
          ? { code: 550, message: "5.1.1 mailbox does not exist" }
          : { code: 451, message: "4.3.0 mailbox temporarily unavailable" },
    });
    nf = await startNotifications(up, { smtpUrl: failing.url, retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 } });
  });
  afterAll(async () => {
    await nf?.close();
    await failing?.close();
  });

  it("is retried with exponential backoff, then the message is failed with the reason; the activity succeeded at once", async () => {
    const user = await registerUser(up);
    const started = Date.now();
    const { messageIds } = await nf.server.activities.notifyBooking(booking(user));
    expect(Date.now() - started).toBeLessThan(3_000); // it queues; it never waits for the mail server
    expect(messageIds).toHaveLength(1);

    const r = await settled(nf, messageIds[0]);
    expect(r).toMatchObject({ status: "failed", attempts: 5, sent_at: null });
    expect(r.failure_reason).toContain("451");

    const tries = failing.attempts.filter((a) => a.to.includes(user.email));
    expect(tries.map((a) => a.code)).toEqual([451, 451, 451, 451, 451]);
    const gaps = tries.slice(1).map((a, i) => a.at - tries[i].at);
    // 100, 200, 400, 800 ms, each ±20 %: every wait longer than the one before
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(0.8 * 100 * 2 ** i - 15));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1]);

    const { notifications } = await nf.client.listMyNotifications({}, user.auth);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ notificationId: messageIds[0], status: "failed", channel: "email" });
    expect(notifications[0].failureReason).toContain("451 4.3.0 mailbox temporarily unavailable");
    expect(notifications[0].sentAt).toBeUndefined();
  });

  it("gives up at once on a permanent rejection (5xx)", async () => {
    const user = await registerUser(up, { emailPrefix: "perm-" });
    const { messageIds } = await nf.server.activities.notifyBooking(booking(user));
    const r = await settled(nf, messageIds[0]);
    expect(r).toMatchObject({ status: "failed", attempts: 1 });
    expect(r.failure_reason).toContain("550");
    expect(failing.attempts.filter((a) => a.to.includes(user.email))).toHaveLength(1);
  });
});

describe("a mail server that is down for a while", () => {
  it("keeps retrying until it is back, then delivers once, with the tickets' QR codes drawn again for the attempt that gets through", async () => {
    const port = await freePort(); // nothing listens here yet
    const nd = await startNotifications(up, {
      smtpUrl: `smtp://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${port}`,
      retry: { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 400 },
    });
    let late: TestSmtpServer | undefined;
    try {
      const user = await registerUser(up);
      const tickets = ticketsFor(["A1", "A2"]);
      const { messageIds } = await nd.server.activities.notifyBooking({ ...booking(user), tickets });
      // the third attempt is claimed (attempts counts claims) only once the second has failed;
      // the second's claim alone says nothing: it may still be drawing the QR codes
      const pending = await waitFor("two failed attempts", async () => {
        const r = await row(nd, messageIds[0]);
        return r.attempts >= 3 ? r : undefined;
      });
      expect(pending.status).toBe("pending");
      expect(pending.last_error).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
      late = await startSmtpServer({ port });
      const mail = await waitFor("the email", () => late!.mailsFor(messageIds[0])[0]);
      expect(mail.to).toEqual([user.email]);
      expect(qrCodesOf(mail)).toEqual(new Map(tickets.map((t) => [ticketCid(t.ticketId), t.payload])));
      const r = await settled(nd, messageIds[0]);
      expect(r.status).toBe("sent");
      expect(r.attempts).toBeGreaterThanOrEqual(3);
      await sleep(300);
      expect(late.mailsFor(messageIds[0])).toHaveLength(1);
    } finally {
      await nd.close();
      await late?.close();
    }
  });
});

describe("without SMTP_URL (development)", () => {
  it("records the email as sent with transport log, and sends nothing anywhere", async () => {
    const nl = await startNotifications(up);
    try {
      const user = await registerUser(up);
      const { messageIds } = await nl.server.activities.notifyBooking(booking(user));
      const r = await settled(nl, messageIds[0]);
      expect(r).toMatchObject({ status: "sent", transport: "log", attempts: 1 });
      expect(r.body).toContain("90.00 USD");
    } finally {
      await nl.close();
    }
  });
});

describe("ListMyNotifications (GET /api/v1/me/notifications)", () => {
  it("lists only the caller's own messages, newest first, with channel, kind, subject, status and times; pages", async () => {
    const alice = await registerUser(up, { displayName: "Alice" });
    const bob = await registerUser(up, { displayName: "Bob" });
    const bookingId = randomUUID();
    const kinds: BookingNotificationKind[] = ["booking_confirmed", "booking_cancelled", "refund_issued"];
    const ids: string[] = [];
    for (const kind of kinds) {
      ids.push((await n.server.activities.notifyBooking(booking(alice, kind, bookingId))).messageIds[0]);
      await sleep(5);
    }
    const bobs = (await n.server.activities.notifyBooking(booking(bob))).messageIds[0];
    for (const id of [...ids, bobs]) await settled(n, id);

    const res = await n.client.listMyNotifications({}, alice.auth);
    expect(res.total).toBe(3);
    expect(res.notifications.map((x) => x.notificationId)).toEqual([...ids].reverse());
    expect(res.notifications.map((x) => x.kind)).toEqual(["booking_refunded", "booking_cancelled", "booking_confirmed"]);
    const first = res.notifications[2];
    expect(first).toMatchObject({
      userId: alice.userId,
      channel: "email",
      status: "sent",
      kind: "booking_confirmed",
      bookingId,
      recipient: `${alice.email[0]}***@example.com`,
      failureReason: "",
    });
    expect(first.subject).toBe(`Booking confirmed: ${show.eventName}, ${formatShowTime(show.startsAt, "UTC")}`);
    expect(first.body).toContain("Hi Alice,");
    expect(timestampDate(first.sentAt!).getTime()).toBeGreaterThanOrEqual(timestampDate(first.createdAt!).getTime());

    const page1 = await n.client.listMyNotifications({ page: 1, pageSize: 2 }, alice.auth);
    const page2 = await n.client.listMyNotifications({ page: 2, pageSize: 2 }, alice.auth);
    expect(page1.notifications.map((x) => x.notificationId)).toEqual([ids[2], ids[1]]);
    expect(page2.notifications.map((x) => x.notificationId)).toEqual([ids[0]]);
    expect(page2.total).toBe(3);

    const bobsList = await n.client.listMyNotifications({}, bob.auth);
    expect(bobsList.notifications.map((x) => x.notificationId)).toEqual([bobs]);
  });

  it("needs a user's token: 401 without one, 403 for a service credential; 400 on a bad page size", async () => {
    expect(await codeOf(n.client.listMyNotifications({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(n.client.listMyNotifications({}, await n.service()))).toBe(Code.PermissionDenied);
    const user = await registerUser(up);
    const err = ConnectError.from(await n.client.listMyNotifications({ pageSize: 101 }, user.auth).catch((e: unknown) => e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("pageSize");
  });

  it("refuses a token whose session was logged out", async () => {
    const user = await registerUser(up);
    expect(await codeOf(n.client.listMyNotifications({}, user.auth))).toBe("ok");
    await up.users.client.logout({}, user.auth);
    // the session check's cache keeps an active answer for up to 5 s
    await waitFor("logout to reach notifications", async () => (await codeOf(n.client.listMyNotifications({}, user.auth))) === Code.Unauthenticated, 10_000);
  });
});

describe("SendNotification (internal)", () => {
  it("queues a message rendered from `data`, on the channels asked for; a repeat with the key returns the same and sends nothing", async () => {
    const user = await registerUser(up, { phone: "+14155550111" });
    const key = `payments-receipt-${randomUUID()}`;
    const req = {
      idempotencyKey: key,
      userId: user.userId,
      kind: "booking_refunded",
      channels: ["email"],
      bookingId: randomUUID(),
      data: { eventName: "Hamlet", venueName: "Globe", venueCity: "London", showtime: "2030-09-09T19:30:00Z", seats: ["B7"], totalAmount: 12.5, currency: "EUR" },
    };
    const first = await n.client.sendNotification(req, await n.service());
    expect(first.duplicate).toBe(false);
    expect(first.notifications).toHaveLength(1); // email only, although the user has a phone
    const msg = first.notifications[0];
    expect(msg).toMatchObject({ channel: "email", kind: "booking_refunded", status: "pending", subject: "Refund issued: 12.50 EUR for Hamlet" });
    expect(msg.body).toContain("  Venue:    Globe, London\n");
    expect(msg.body).toContain("  Time:     Mon, Sep 9, 2030, 19:30 UTC\n");

    const again = await n.client.sendNotification(req, await n.service());
    expect(again.duplicate).toBe(true);
    expect(again.notifications.map((x) => x.notificationId)).toEqual([msg.notificationId]);
    const mail = await waitFor("the email", () => smtp.mailsFor(msg.notificationId)[0]);
    expect(mail.text).toContain("Refunded: 12.50 EUR");
    await sleep(200);
    expect(smtp.mailsFor(msg.notificationId)).toHaveLength(1);
  });

  it("refuses a key reused for another kind (409), an unknown user (404), bad data (400), and user tokens (403)", async () => {
    const user = await registerUser(up);
    const svc = await n.service();
    const base = { idempotencyKey: `k-${randomUUID()}`, userId: user.userId, kind: "payment_failed" };
    await n.client.sendNotification(base, svc);
    expect(await codeOf(n.client.sendNotification({ ...base, kind: "hold_expired" }, svc))).toBe(Code.AlreadyExists);
    expect(await codeOf(n.client.sendNotification({ ...base, idempotencyKey: `k-${randomUUID()}`, userId: randomUUID() }, svc))).toBe(Code.NotFound);

    const bad = ConnectError.from(
      await n.client.sendNotification({ ...base, idempotencyKey: `k-${randomUUID()}`, data: { showtime: "next tuesday" } }, svc).catch((e: unknown) => e),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toContain("data.showtime");
    const badKind = ConnectError.from(await n.client.sendNotification({ ...base, kind: "spam" }, svc).catch((e: unknown) => e));
    expect(badKind.code).toBe(Code.InvalidArgument);
    expect(badKind.rawMessage).toContain("kind");

    expect(await codeOf(n.client.sendNotification({ ...base, idempotencyKey: `k-${randomUUID()}` }, user.auth))).toBe(Code.PermissionDenied);
  });
});
