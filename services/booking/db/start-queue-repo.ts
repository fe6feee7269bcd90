import type { Knex } from "../../../lib/db.js";

/** A booking workflow still to be started, as a starter claimed it. */
export interface PendingWorkflowStart {
  bookingId: string;
  /** The workflow's input, as the hold wrote it. */
  input: unknown;
  /** How many times it was claimed, this time included. */
  attempts: number;
}

/**
 * The queue of booking workflows still to be started (`workflow_starts`,
 * docs/adr/0002-hold-before-workflow-start.md): a hold enqueues its workflow's start in its own
 * transaction; the starter (workflow-starts.ts) leases, starts and clears them.
 */
export class StartQueueRepo {
  constructor(private readonly db: Knex) {}

  /** Records, in the hold's transaction, that the booking's workflow is to be started with `input`. */
  async enqueue(trx: Knex.Transaction, bookingId: string, input: object): Promise<void> {
    await trx.raw(`INSERT INTO workflow_starts (booking_id, input) VALUES (?, ?::jsonb)`, [bookingId, JSON.stringify(input)]);
  }

  /**
   * Leases up to `limit` due starts (oldest first) for `leaseSeconds`; rows another starter is
   * leasing right now are skipped, so replicas never start the same workflows side by side.
   */
  async claim(limit: number, leaseSeconds: number): Promise<PendingWorkflowStart[]> {
    // The due rows are picked once (a MATERIALIZED CTE). As a subquery in FROM, a plan that put
    // it on the inner side of a nested loop rescanned it, and each rescan skipped the rows the
    // UPDATE had just changed and locked the next ones: more than `limit` rows leased, and a
    // starter running more starts than its concurrency (seen as a flaky stop() test).
    const { rows } = await this.db.raw(
      `WITH due AS MATERIALIZED (
         SELECT booking_id FROM workflow_starts
         WHERE coalesce(claimed_until, '-infinity') < now()
         ORDER BY coalesce(claimed_until, '-infinity'), created_at LIMIT ? FOR UPDATE SKIP LOCKED
       )
       UPDATE workflow_starts w
       SET claimed_until = now() + make_interval(secs => ?), attempts = w.attempts + 1
       FROM due
       WHERE w.booking_id = due.booking_id
       RETURNING w.booking_id, w.input, w.attempts`,
      [limit, leaseSeconds],
    );
    return rows.map((r: { booking_id: string; input: unknown; attempts: number }) => ({ bookingId: r.booking_id, input: r.input, attempts: r.attempts }));
  }

  /** The input of a booking's workflow when it is still to be started, else undefined. */
  async pending(bookingId: string): Promise<unknown> {
    const row = await this.db("workflow_starts").where({ booking_id: bookingId }).first("input");
    return row?.input;
  }

  /** The workflows of these bookings run (or ran): nothing left to start. */
  async done(bookingIds: string[]): Promise<void> {
    if (bookingIds.length) await this.db.raw(`DELETE FROM workflow_starts WHERE booking_id = ANY(?::uuid[])`, [bookingIds]);
  }

  /** A start failed: try again in `retryInSeconds` (the row stays leased until then). */
  async failed(bookingId: string, error: string, retryInSeconds: number): Promise<void> {
    await this.db.raw(
      `UPDATE workflow_starts SET claimed_until = now() + make_interval(secs => ?), last_error = ? WHERE booking_id = ?`,
      [retryInSeconds, error.slice(0, 1000), bookingId],
    );
  }

  /** When the next leased start falls due again (a failed start's retry), if any. */
  async nextDue(): Promise<Date | undefined> {
    const { rows } = await this.db.raw(`SELECT min(coalesce(claimed_until, '-infinity')) AS due FROM workflow_starts WHERE coalesce(claimed_until, '-infinity') > now()`);
    return rows[0].due ?? undefined;
  }

  /** How many workflows wait to be started, and how long the oldest has waited (seconds). */
  async backlog(): Promise<{ pending: number; oldestSeconds: number }> {
    const { rows } = await this.db.raw(
      `SELECT count(*)::int AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest FROM workflow_starts`,
    );
    return { pending: rows[0].pending, oldestSeconds: rows[0].oldest };
  }
}
