import { randomUUID } from "node:crypto";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReviewsService, type ReviewSchema } from "../../gen/ticketing/reviews/v1/reviews_pb.js";
import { callerOf } from "../../lib/context.js";
import type { Knex } from "../../lib/db.js";
import { AppError, alreadyExists, permissionDenied } from "../../lib/errors.js";
import { transactionFor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import { ReviewExistsError, type ReviewRecord, type ReviewsRepo } from "./db/repo.js";
import { NOT_ATTENDED, validateReview } from "./domain/review.js";
import type { Eligibility } from "./eligibility.js";

export interface ReviewsDeps {
  db: Knex;
  repo: ReviewsRepo;
  eligibility: Eligibility;
  logger: Logger;
  /** A review committed: wake the rating pusher. */
  reviewed: () => void;
}

const DEFAULT_PAGE_SIZE = 20;

export const reviewOut = (r: ReviewRecord): MessageInitShape<typeof ReviewSchema> => ({
  reviewId: r.id,
  eventId: r.eventId,
  userId: r.userId,
  rating: r.rating,
  text: r.text,
  createdAt: timestampFromDate(r.createdAt),
});

const alreadyReviewed = (eventId: string) => alreadyExists(`you have already reviewed event ${eventId}`);

export function reviewsHandlers(deps: ReviewsDeps): ServiceImpl<typeof ReviewsService> {
  const { db, repo, eligibility } = deps;
  return {
    /**
     * Checks, in order: the input (400), the event (404), an earlier review (409), attendance
     * (403); then writes the review and the event's new aggregate in one transaction (the
     * request's idempotency transaction, when it has an Idempotency-Key). The unique index
     * settles a race between two first reviews of one user: the second gets 409.
     */
    async createReview(req, ctx) {
      const caller = callerOf(ctx);
      if (caller.kind !== "user") throw permissionDenied("reviews are written by users");
      const { rating, text } = validateReview(req);
      await eligibility.requireEvent(req.eventId);
      if (await repo.findByUser(req.eventId, caller.userId)) throw alreadyReviewed(req.eventId);
      if (!(await eligibility.hasStartedShowtime(req.eventId))) throw permissionDenied(NOT_ATTENDED);
      const bookingId = await eligibility.attendedBooking(caller.userId, req.eventId);
      if (bookingId === undefined) throw permissionDenied(NOT_ATTENDED);

      try {
        const review = await transactionFor(ctx, db, async (trx) => {
          const r = await repo.insertReview(trx, {
            id: randomUUID(),
            eventId: req.eventId,
            userId: caller.userId,
            rating,
            text,
            bookingId: bookingId || null,
          });
          const aggregate = await repo.recomputeRating(trx, req.eventId);
          trx.executionPromise.then(deps.reviewed, () => undefined);
          deps.logger.info({ reviewId: r.id, eventId: r.eventId, rating, reviewCount: aggregate.reviewCount }, "review created");
          return r;
        });
        return { review: reviewOut(review) };
      } catch (err) {
        if (err instanceof ReviewExistsError) throw alreadyReviewed(req.eventId);
        throw err;
      }
    },

    async listReviews(req) {
      const pageSize = req.pageSize || DEFAULT_PAGE_SIZE;
      const page = Math.max(1, req.page);
      const [reviews, rating] = await Promise.all([
        repo.listReviews(req.eventId, { offset: (page - 1) * pageSize, limit: pageSize }),
        repo.rating(req.eventId),
      ]);
      if (!rating || rating.reviewCount === 0) {
        // no reviews: tell an unknown event (404) from one nobody has reviewed yet
        try {
          await eligibility.requireEvent(req.eventId);
        } catch (err) {
          if (err instanceof AppError && err.code === Code.NotFound) throw err;
          // the catalog is down: an empty answer is still true for a known event
        }
      }
      return {
        reviews: reviews.map(reviewOut),
        averageRating: rating?.averageRating ?? 0,
        reviewCount: rating?.reviewCount ?? 0,
      };
    },
  };
}
