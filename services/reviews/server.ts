import type { Client } from "@connectrpc/connect";
import type { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { ReviewsService } from "../../gen/ticketing/reviews/v1/reviews_pb.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import { idempotencyInterceptor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { ReviewsRepo } from "./db/repo.js";
import { Eligibility } from "./eligibility.js";
import { reviewsHandlers } from "./handlers.js";
import { RatingPusher, type RatingPushOptions } from "./rating-push.js";

export interface ReviewsServerDeps {
  db: Knex;
  verifier: TokenVerifier;
  /** The catalog with this service's credential: GetEvent, ListShowtimeDetails, UpdateEventRating. */
  catalog: Client<typeof CatalogService>;
  /** The booking service with this service's credential: CheckEventAttendance. */
  booking: Client<typeof BookingService>;
  logger: Logger;
  host: string;
  port: number;
  /** Rating pusher tuning (tests). */
  ratingPush?: Pick<RatingPushOptions, "pollMs" | "baseDelayMs" | "maxDelayMs" | "leaseMs">;
  /** The clock for "has a showtime started"; tests may pin it. */
  now?: () => Date;
}

export interface ReviewsServer extends RunningServer {
  pusher: RatingPusher;
}

/**
 * Builds the reviews service: ReviewsService (CreateReview, ListReviews) with Idempotency-Key
 * support, and the pusher that keeps the catalog's averageRating/reviewCount in step. Health
 * reports Postgres only: while the catalog is down, reads still work and ratings wait.
 */
export async function build(deps: ReviewsServerDeps): Promise<ReviewsServer> {
  const repo = new ReviewsRepo(deps.db);
  const pusher = new RatingPusher({ repo, catalog: deps.catalog, logger: deps.logger, ...deps.ratingPush });
  const eligibility = new Eligibility({
    catalog: deps.catalog,
    booking: deps.booking,
    logger: deps.logger,
    now: deps.now ?? (() => new Date()),
  });
  const server = await startServer({
    name: "reviews",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) =>
      router.service(ReviewsService, reviewsHandlers({ db: deps.db, repo, eligibility, logger: deps.logger, reviewed: () => pusher.kick() })),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
    interceptors: [idempotencyInterceptor(deps.db)],
  });
  pusher.start(); // also pushes what an earlier process left unpushed
  return {
    port: server.port,
    pusher,
    async close() {
      await server.close();
      await pusher.stop();
    },
  };
}
