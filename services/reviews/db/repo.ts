import { isUniqueViolation, type Knex } from "../../../lib/db.js";
import { ONE_PER_USER } from "./migrations.js";

type Db = Knex | Knex.Transaction;

export interface ReviewRecord {
  id: string;
  eventId: string;
  userId: string;
  rating: number;
  text: string;
  bookingId: string | null;
  createdAt: Date;
}

export interface RatingRecord {
  eventId: string;
  reviewCount: number;
  averageRating: number;
  computedAt: Date;
}

/** The user has reviewed the event already (the unique index said so). */
export class ReviewExistsError extends Error {
  constructor() {
    super("review exists");
  }
}

interface ReviewRow {
  id: string;
  event_id: string;
  user_id: string;
  rating: number;
  text: string;
  booking_id: string | null;
  created_at: Date;
}

interface RatingRow {
  event_id: string;
  review_count: number;
  average_rating: number;
  computed_at: Date;
}

const toReview = (r: ReviewRow): ReviewRecord => ({
  id: r.id,
  eventId: r.event_id,
  userId: r.user_id,
  rating: r.rating,
  text: r.text,
  bookingId: r.booking_id,
  createdAt: r.created_at,
});

const toRating = (r: RatingRow): RatingRecord => ({
  eventId: r.event_id,
  reviewCount: r.review_count,
  averageRating: r.average_rating,
  computedAt: r.computed_at,
});

export class ReviewsRepo {
  constructor(readonly db: Knex) {}

  async findByUser(eventId: string, userId: string, q: Db = this.db): Promise<ReviewRecord | undefined> {
    const row: ReviewRow | undefined = await q("reviews").where({ event_id: eventId, user_id: userId }).first("*");
    return row && toReview(row);
  }

  /** Throws ReviewExistsError when the user has a review of the event (also a concurrent one). */
  async insertReview(trx: Knex.Transaction, r: Omit<ReviewRecord, "createdAt">): Promise<ReviewRecord> {
    try {
      const [row] = (await trx("reviews")
        .insert({ id: r.id, event_id: r.eventId, user_id: r.userId, rating: r.rating, text: r.text, booking_id: r.bookingId })
        .returning("*")) as ReviewRow[];
      return toReview(row);
    } catch (err) {
      if (isUniqueViolation(err, ONE_PER_USER)) throw new ReviewExistsError();
      throw err;
    }
  }

  /**
   * Recomputes the event's aggregate from its reviews, in the caller's transaction, and marks it
   * for the catalog. The aggregate row's lock makes concurrent reviews of one event take turns:
   * whoever computes second (a new statement, so a new snapshot under READ COMMITTED) sees the
   * first one's committed review. computed_at strictly increases per event (at millisecond
   * precision, what a protobuf Timestamp from a JS Date carries), so the catalog, which keeps
   * the newest, always ends with the latest aggregate.
   */
  async recomputeRating(trx: Knex.Transaction, eventId: string): Promise<RatingRecord> {
    await trx.raw(
      `INSERT INTO event_ratings (event_id, review_count, average_rating, computed_at)
       VALUES (?, 0, 0, 'epoch') ON CONFLICT (event_id) DO NOTHING`,
      [eventId],
    );
    await trx.raw(`SELECT 1 FROM event_ratings WHERE event_id = ? FOR UPDATE`, [eventId]);
    const { rows } = await trx.raw<{ rows: RatingRow[] }>(
      `WITH agg AS (
         SELECT count(*)::int AS n, coalesce(round(avg(rating)::numeric, 2), 0)::float8 AS mean
           FROM reviews WHERE event_id = ?)
       UPDATE event_ratings e
          SET review_count = agg.n,
              average_rating = agg.mean,
              computed_at = greatest(date_trunc('milliseconds', clock_timestamp()), e.computed_at + interval '1 millisecond'),
              next_push_at = now(),
              push_attempts = 0
         FROM agg
        WHERE e.event_id = ?
      RETURNING e.event_id, e.review_count, e.average_rating, e.computed_at`,
      [eventId, eventId],
    );
    return toRating(rows[0]);
  }

  /** A page of the event's reviews, newest first. */
  async listReviews(eventId: string, page: { offset: number; limit: number }): Promise<ReviewRecord[]> {
    const rows: ReviewRow[] = await this.db("reviews")
      .where({ event_id: eventId })
      .orderBy([
        { column: "created_at", order: "desc" },
        { column: "id", order: "desc" },
      ])
      .offset(page.offset)
      .limit(page.limit)
      .select("*");
    return rows.map(toReview);
  }

  async rating(eventId: string): Promise<RatingRecord | undefined> {
    const row: RatingRow | undefined = await this.db("event_ratings")
      .where({ event_id: eventId })
      .first("event_id", "review_count", "average_rating", "computed_at");
    return row && toRating(row);
  }

  // ─── the catalog's copy (outbox) ───

  /**
   * Claims up to `limit` aggregates the catalog has not accepted yet and that are due, leasing
   * them for `leaseMs` (another replica skips them meanwhile).
   */
  async claimUnpushed(limit: number, leaseMs: number): Promise<Array<RatingRecord & { attempts: number }>> {
    const { rows } = await this.db.raw<{ rows: Array<RatingRow & { push_attempts: number }> }>(
      `UPDATE event_ratings SET next_push_at = now() + make_interval(secs => ?)
        WHERE event_id IN (
          SELECT event_id FROM event_ratings
           WHERE (pushed_computed_at IS NULL OR pushed_computed_at < computed_at) AND next_push_at <= now()
           ORDER BY next_push_at
           LIMIT ?
           FOR UPDATE SKIP LOCKED)
        RETURNING event_id, review_count, average_rating, computed_at, push_attempts`,
      [leaseMs / 1000, limit],
    );
    return rows.map((r) => ({ ...toRating(r), attempts: r.push_attempts }));
  }

  /** The catalog holds `computedAt` (or something newer): done up to there. */
  async markPushed(eventId: string, computedAt: Date): Promise<void> {
    await this.db("event_ratings")
      .where({ event_id: eventId })
      .update({
        pushed_computed_at: this.db.raw("greatest(pushed_computed_at, ?::timestamptz)", [computedAt]),
        push_attempts: 0,
        last_push_error: null,
        next_push_at: this.db.fn.now(), // a newer aggregate that came meanwhile goes next
      });
  }

  async markPushFailed(eventId: string, error: string, delayMs: number): Promise<void> {
    await this.db("event_ratings")
      .where({ event_id: eventId })
      .update({
        push_attempts: this.db.raw("push_attempts + 1"),
        last_push_error: error,
        next_push_at: this.db.raw("now() + make_interval(secs => ?)", [delayMs / 1000]),
      });
  }

  /** When the next unpushed aggregate falls due, if any. */
  async nextPushAt(): Promise<Date | undefined> {
    const row = await this.db("event_ratings")
      .whereRaw("pushed_computed_at IS NULL OR pushed_computed_at < computed_at")
      .min<{ min: Date | null }>({ min: "next_push_at" })
      .first();
    return row?.min ?? undefined;
  }
}
