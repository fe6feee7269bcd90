import type { Knex } from "../../../lib/db.js";
import type { IssuedTicket } from "../../../workflows/ticket-types.js";
import type { Channel, NotificationKind, NotificationStatus } from "../domain/kinds.js";

type Db = Knex | Knex.Transaction;

export interface NotificationRecord {
  id: string;
  idempotencyKey: string;
  channel: Channel;
  userId: string;
  kind: NotificationKind;
  bookingId: string | null;
  recipient: string;
  recipientMasked: string;
  subject: string;
  /** The text (the email's text part, or the SMS). */
  body: string;
  /** An email's HTML part, when it has one (an email with tickets). */
  html: string | null;
  /** The tickets whose QR codes the email carries (drawn at delivery). */
  tickets: IssuedTicket[] | null;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  transport: string | null;
  providerMessageId: string | null;
  failureReason: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export type NewNotification = Pick<
  NotificationRecord,
  "id" | "idempotencyKey" | "channel" | "userId" | "kind" | "bookingId" | "recipient" | "recipientMasked" | "subject" | "body"
> &
  Partial<Pick<NotificationRecord, "html" | "tickets">>;

interface Row {
  id: string;
  idempotency_key: string;
  channel: Channel;
  user_id: string;
  kind: NotificationKind;
  booking_id: string | null;
  recipient: string;
  recipient_masked: string;
  subject: string;
  body: string;
  html: string | null;
  tickets: IssuedTicket[] | null;
  status: NotificationStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  transport: string | null;
  provider_message_id: string | null;
  failure_reason: string | null;
  created_at: Date;
  sent_at: Date | null;
}

const toRecord = (r: Row): NotificationRecord => ({
  id: r.id,
  idempotencyKey: r.idempotency_key,
  channel: r.channel,
  userId: r.user_id,
  kind: r.kind,
  bookingId: r.booking_id,
  recipient: r.recipient,
  recipientMasked: r.recipient_masked,
  subject: r.subject,
  body: r.body,
  html: r.html,
  tickets: r.tickets,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  transport: r.transport,
  providerMessageId: r.provider_message_id,
  failureReason: r.failure_reason,
  createdAt: r.created_at,
  sentAt: r.sent_at,
});

/** Email before SMS, the order every answer lists a request's messages in. */
const CHANNEL_ORDER = "CASE channel WHEN 'email' THEN 0 ELSE 1 END";

export class NotificationsRepo {
  constructor(readonly db: Knex) {}

  /** The messages recorded under an idempotency key (email first). */
  async byKey(key: string, q: Db = this.db): Promise<NotificationRecord[]> {
    const rows: Row[] = await q("notifications").where({ idempotency_key: key }).orderByRaw(CHANNEL_ORDER).select("*");
    return rows.map(toRecord);
  }

  async byId(id: string, q: Db = this.db): Promise<NotificationRecord | undefined> {
    const row: Row | undefined = await q("notifications").where({ id }).first("*");
    return row && toRecord(row);
  }

  /**
   * Records pending messages; a (key, channel) that exists already is left as it is (a
   * concurrent or repeated request got there first). Returns how many rows were new.
   */
  async insertPending(q: Db, rows: NewNotification[]): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted = await q("notifications")
      .insert(
        rows.map((r) => ({
          id: r.id,
          idempotency_key: r.idempotencyKey,
          channel: r.channel,
          user_id: r.userId,
          kind: r.kind,
          booking_id: r.bookingId,
          recipient: r.recipient,
          recipient_masked: r.recipientMasked,
          subject: r.subject,
          body: r.body,
          html: r.html ?? null,
          // jsonb: pg would write a JS array as a Postgres array
          tickets: r.tickets ? JSON.stringify(r.tickets) : null,
        })),
      )
      .onConflict(["idempotency_key", "channel"])
      .ignore()
      .returning("id");
    return inserted.length;
  }

  /** A page of the user's messages, newest first, and how many there are in all. */
  async listForUser(userId: string, page: { offset: number; limit: number }): Promise<{ items: NotificationRecord[]; total: number }> {
    const [rows, [{ count }]] = await Promise.all([
      this.db("notifications")
        .where({ user_id: userId })
        // the messages of one request share created_at: email before SMS, then a total order for paging
        .orderByRaw(`created_at DESC, ${CHANNEL_ORDER}, id DESC`)
        .offset(page.offset)
        .limit(page.limit)
        .select("*") as Promise<Row[]>,
      this.db("notifications").where({ user_id: userId }).count<Array<{ count: string }>>({ count: "*" }),
    ]);
    return { items: rows.map(toRecord), total: Number(count) };
  }

  /**
   * Claims up to `limit` pending messages that are due: counts the attempt and pushes their
   * next_attempt_at `leaseMs` ahead, so no other replica (or a later poll) picks them up while
   * this one sends. A process that dies mid-send leaves the lease to expire, and the message is
   * tried again.
   */
  async claimDue(limit: number, leaseMs: number): Promise<NotificationRecord[]> {
    const { rows } = await this.db.raw<{ rows: Row[] }>(
      `UPDATE notifications SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        WHERE id IN (
          SELECT id FROM notifications
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY next_attempt_at
           LIMIT ?
           FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [leaseMs / 1000, limit],
    );
    return rows.map(toRecord);
  }

  /** Records a delivery, unless another claim took the message over meanwhile. */
  async markSent(id: string, attempt: number, d: { transport: string; providerMessageId?: string }): Promise<void> {
    await this.db("notifications")
      .where({ id, attempts: attempt, status: "pending" })
      .update({
        status: "sent",
        sent_at: this.db.fn.now(),
        transport: d.transport,
        provider_message_id: d.providerMessageId ?? null,
        last_error: null,
      });
  }

  async markRetry(id: string, attempt: number, error: string, delayMs: number): Promise<void> {
    await this.db("notifications")
      .where({ id, attempts: attempt, status: "pending" })
      .update({ last_error: error, next_attempt_at: this.db.raw("now() + make_interval(secs => ?)", [delayMs / 1000]) });
  }

  async markFailed(id: string, attempt: number, reason: string): Promise<void> {
    await this.db("notifications")
      .where({ id, attempts: attempt, status: "pending" })
      .update({ status: "failed", failure_reason: reason, last_error: reason });
  }

  /** When the next pending message falls due, if any (the delivery loop sleeps until then). */
  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.db("notifications").where({ status: "pending" }).min<{ min: Date | null }>({ min: "next_attempt_at" }).first();
    return row?.min ?? undefined;
  }
}
