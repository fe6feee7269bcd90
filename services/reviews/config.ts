
import { readServiceConfig, commonVars, databaseVars, portVar, urlVar } from "../../lib/common-config.js";

export const reviewsVars = {
  ...commonVars,
  ...databaseVars,
  port: portVar("reviews"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  /** Events and their showtimes (GetEvent, ListShowtimeDetails), and the rating's copy (UpdateEventRating). */
  catalogUrl: urlVar("catalog"),
  /** Whether the user attended (CheckEventAttendance). */
  bookingUrl: urlVar("booking"),
};

export type ReviewsConfig = ReturnType<typeof readReviewsConfig>;

export function readReviewsConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(reviewsVars, env);
}
