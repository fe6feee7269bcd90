import type { Knex } from "../../../lib/db.js";
import { isUniqueViolation } from "../../../lib/db.js";
import { isFinal, mayMove } from "../domain/status.js";
import { BOOKING_REFUND_INDEX } from "./migrations.js";

/** A query builder: the pool or a transaction. */
export type Db = Knex | Knex.Transaction;

export interface IntentRecord {
  id: string;
  bookingId: string;
  userId: string;
  attempt: number;
  /** The payment provider that issued the intent: `stripe` or `development` (column `gateway`). */
  provider: string;
  amountMinor: number;
  currency: string;
  status: string;
  clientSecret: string;
  failureCode: string | null;
  failureMessage: string | null;
  failedAt: Date | null;
  succeededAt: Date | null;
  fulfilment: "signalled" | "refunded" | null;
  amountRefundedMinor: number;
  createdAt: Date;
}

export interface HistoryRecord {
  paymentIntentId: string;
  event: string;
  status: string;
  source: "api" | "webhook";
  eventId: string | null;
  failureCode: string | null;
  at: Date;
}

export interface RefundRecord {
  id: string;
  idempotencyKey: string;
  bookingId: string;
  paymentIntentId: string;
  bookingRefund: boolean;
  refundId: string | null;
  amountMinor: number;
  currency: string;
  status: string;
  reason: string;
  createdAt: Date;
}

/** Refund states that count against what is left to refund. */
export const LIVE_REFUND_STATES = ["requested", "pending", "requires_action", "succeeded"];

interface IntentRow {
  id: string;
  booking_id: string;
  user_id: string;
  attempt: number;
  gateway: string;
  amount_minor: string;
  currency: string;
  status: string;
  client_secret: string;
  failure_code: string | null;
  failure_message: string | null;
  failed_at: Date | null;
  succeeded_at: Date | null;
  fulfilment: "signalled" | "refunded" | null;
  amount_refunded_minor: string;
  created_at: Date;
}

const intentOf = (r: IntentRow): IntentRecord => ({
  id: r.id,
  bookingId: r.booking_id,
  userId: r.user_id,
  attempt: r.attempt,
  provider: r.gateway,
  amountMinor: Number(r.amount_minor),
  currency: r.currency,
  status: r.status,
  clientSecret: r.client_secret,
  failureCode: r.failure_code,
  failureMessage: r.failure_message,
  failedAt: r.failed_at,
  succeededAt: r.succeeded_at,
  fulfilment: r.fulfilment,
  amountRefundedMinor: Number(r.amount_refunded_minor),
  createdAt: r.created_at,
});

interface RefundRow {
  id: string;
  idempotency_key: string;
  booking_id: string;
  payment_intent_id: string;
  booking_refund: boolean;
  refund_id: string | null;
  amount_minor: string;
  currency: string;
  status: string;
  reason: string;
  created_at: Date;
}

const refundOf = (r: RefundRow): RefundRecord => ({
  id: String(r.id),
  idempotencyKey: r.idempotency_key,
  bookingId: r.booking_id,
  paymentIntentId: r.payment_intent_id,
  bookingRefund: r.booking_refund,
  refundId: r.refund_id,
  amountMinor: Number(r.amount_minor),
  currency: r.currency,
  status: r.status,
  reason: r.reason,
  createdAt: r.created_at,
});

export interface StatusChange {
  status: string;
  /** created, succeeded, payment_failed, requires_action, processing, canceled. */
  event: string;
  source: "api" | "webhook";
  eventId?: string;
  failure?: { code: string; message: string };
}

export class BookingRefundExistsError extends Error {}

export class PaymentsRepo {
  async intent(db: Db, id: string, opts: { lock?: boolean } = {}): Promise<IntentRecord | undefined> {
    const q = db<IntentRow>("payment_intents").where({ id }).first();
    const row = await (opts.lock ? q.forUpdate() : q);
    return row && intentOf(row);
  }

  /** The booking's attempts, oldest first; locked for update when asked (waits for a webhook's transaction). */
  async intentsOfBooking(db: Db, bookingId: string, opts: { lock?: boolean } = {}): Promise<IntentRecord[]> {
    const q = db<IntentRow>("payment_intents").where({ booking_id: bookingId }).orderBy("attempt");
    const rows = await (opts.lock ? q.forUpdate() : q);
    return rows.map(intentOf);
  }

  async latestIntent(db: Db, bookingId: string): Promise<IntentRecord | undefined> {
    const row = await db<IntentRow>("payment_intents").where({ booking_id: bookingId }).orderBy("attempt", "desc").first();
    return row && intentOf(row);
  }

  /** Inserts a new intent with its "created" history line; false when (booking, attempt) or the id exists. */
  async insertIntent(
    db: Db,
    i: Pick<IntentRecord, "id" | "bookingId" | "userId" | "attempt" | "provider" | "amountMinor" | "currency" | "status" | "clientSecret">,
    source: "api" | "webhook",
    eventId?: string,
  ): Promise<boolean> {
    const inserted = await db("payment_intents")
      .insert({
        id: i.id,
        booking_id: i.bookingId,
        user_id: i.userId,
        attempt: i.attempt,
        gateway: i.provider,
        amount_minor: i.amountMinor,
        currency: i.currency,
        status: i.status,
        client_secret: i.clientSecret,
        succeeded_at: i.status === "succeeded" ? db.fn.now() : null,
      })
      .onConflict()
      .ignore()
      .returning("id");
    if (inserted.length === 0) return false;
    await this.addHistory(db, { paymentIntentId: i.id, bookingId: i.bookingId }, { status: i.status, event: "created", source, eventId });
    return true;
  }

  /**
   * Records what the provider says about an intent, if it moves it (see mayMove: no regression
   * from a final state, whatever order answers and webhooks arrive in) or reports a decline of an
   * open attempt (which marks the attempt failed). Returns whether anything changed (then a
   * history line was written). Updates `intent` in place.
   */
  async applyStatus(db: Db, intent: IntentRecord, change: StatusChange): Promise<boolean> {
    const moves = mayMove(intent.status, change.status);
    // every decline of an attempt still open is recorded (a later one may follow another card)
    const failure = change.failure && !isFinal(intent.status) && !isFinal(change.status) ? change.failure : undefined;
    if (!moves && !failure) return false;
    const patch: Record<string, unknown> = { updated_at: db.fn.now() };
    if (moves) patch.status = change.status;
    if (moves && change.status === "succeeded") patch.succeeded_at = db.fn.now();
    if (failure) Object.assign(patch, { failure_code: failure.code, failure_message: failure.message, failed_at: db.fn.now() });
    await db("payment_intents").where({ id: intent.id }).update(patch);
    await this.addHistory(db, intent, change);
    if (moves) intent.status = change.status;
    if (moves && change.status === "succeeded") intent.succeededAt = new Date();
    if (failure) Object.assign(intent, { failureCode: failure.code, failureMessage: failure.message, failedAt: new Date() });
    return true;
  }

  async addHistory(db: Db, intent: { paymentIntentId?: string; id?: string; bookingId: string }, change: StatusChange): Promise<void> {
    await db("payment_history").insert({
      payment_intent_id: intent.paymentIntentId ?? intent.id,
      booking_id: intent.bookingId,
      event: change.event,
      status: change.status,
      source: change.source,
      event_id: change.eventId ?? null,
      failure_code: change.failure?.code ?? null,
      failure_message: change.failure?.message ?? null,
    });
  }

  async setFulfilment(db: Db, id: string, fulfilment: "signalled" | "refunded"): Promise<void> {
    await db("payment_intents").where({ id }).update({ fulfilment, updated_at: db.fn.now() });
  }

  async setAmountRefunded(db: Db, id: string, amountRefundedMinor: number): Promise<void> {
    await db("payment_intents")
      .where({ id })
      .update({ amount_refunded_minor: db.raw("greatest(amount_refunded_minor, ?)", [amountRefundedMinor]), updated_at: db.fn.now() });
  }

  async history(db: Db, bookingId: string): Promise<Array<HistoryRecord & { failureMessage: string | null }>> {
    const rows = await db("payment_history").where({ booking_id: bookingId }).orderBy("id");
    return rows.map((r) => ({
      paymentIntentId: r.payment_intent_id,
      event: r.event,
      status: r.status,
      source: r.source,
      eventId: r.event_id,
      failureCode: r.failure_code,
      failureMessage: r.failure_message,
      at: r.at,
    }));
  }

  // ─── refunds ───

  async refundByKey(db: Db, key: string): Promise<RefundRecord | undefined> {
    const row = await db<RefundRow>("refunds").where({ idempotency_key: key }).first();
    return row && refundOf(row);
  }

  async bookingRefund(db: Db, bookingId: string): Promise<RefundRecord | undefined> {
    const row = await db<RefundRow>("refunds").where({ booking_id: bookingId, booking_refund: true }).first();
    return row && refundOf(row);
  }

  async refundsOfBooking(db: Db, bookingId: string): Promise<RefundRecord[]> {
    const rows = await db<RefundRow>("refunds").where({ booking_id: bookingId }).orderBy("id");
    return rows.map(refundOf);
  }

  /** Minor units refunded or being refunded for an intent. */
  async refundedAmount(db: Db, paymentIntentId: string): Promise<number> {
    const row = await db("refunds")
      .where({ payment_intent_id: paymentIntentId })
      .whereIn("status", LIVE_REFUND_STATES)
      .sum<{ sum: string | null }>({ sum: "amount_minor" })
      .first();
    return Number(row?.sum ?? 0);
  }

  async insertRefund(
    db: Db,
    r: Pick<RefundRecord, "idempotencyKey" | "bookingId" | "paymentIntentId" | "bookingRefund" | "amountMinor" | "currency" | "reason">,
  ): Promise<RefundRecord> {
    try {
      const [row] = await db<RefundRow>("refunds")
        .insert({
          idempotency_key: r.idempotencyKey,
          booking_id: r.bookingId,
          payment_intent_id: r.paymentIntentId,
          booking_refund: r.bookingRefund,
          amount_minor: String(r.amountMinor),
          currency: r.currency,
          status: "requested",
          reason: r.reason,
        })
        .returning("*");
      return refundOf(row);
    } catch (err) {
      if (isUniqueViolation(err, BOOKING_REFUND_INDEX)) throw new BookingRefundExistsError(`booking ${r.bookingId} already has its refund`);
      throw err;
    }
  }

  async updateRefund(db: Db, id: string, patch: { refundId?: string; status: string }): Promise<void> {
    await db("refunds")
      .where({ id })
      .update({ ...(patch.refundId ? { refund_id: patch.refundId } : {}), status: patch.status, updated_at: db.fn.now() });
  }

  /** charge.refunded: pending refunds of the intent went through. */
  async settleRefunds(db: Db, paymentIntentId: string, refundIds?: Array<{ id: string; status: string }>): Promise<number> {
    if (refundIds?.length) {
      let n = 0;
      for (const r of refundIds) {
        n += await db("refunds")
          .where({ refund_id: r.id })
          .whereNot({ status: r.status })
          .update({ status: r.status, updated_at: db.fn.now() });
      }
      return n;
    }
    return db("refunds")
      .where({ payment_intent_id: paymentIntentId })
      .whereIn("status", ["pending", "requires_action"])
      .update({ status: "succeeded", updated_at: db.fn.now() });
  }

  // ─── webhook events ───

  /**
   * Claims an event id in the caller's transaction: true for the first delivery. A concurrent
   * delivery of the same id waits here until the first commits (then false: a duplicate) or
   * rolls back (then it claims it and processes it itself).
   */
  async claimEvent(trx: Knex.Transaction, e: { id: string; type: string; created?: number }): Promise<boolean> {
    const claimed = await trx("webhook_events")
      .insert({
        event_id: e.id,
        type: e.type,
        outcome: "received",
        event_created_at: e.created ? new Date(e.created * 1000) : null,
      })
      .onConflict("event_id")
      .ignore()
      .returning("event_id");
    return claimed.length === 1;
  }

  async finishEvent(trx: Knex.Transaction, id: string, patch: { outcome: string; paymentIntentId?: string; bookingId?: string }): Promise<void> {
    await trx("webhook_events")
      .where({ event_id: id })
      .update({ outcome: patch.outcome, payment_intent_id: patch.paymentIntentId ?? null, booking_id: patch.bookingId ?? null });
  }
}
