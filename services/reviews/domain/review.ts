import { invalidArgument } from "../../../lib/errors.js";

/**
 * The rules of a review, beyond what the contract checks (rating 1..5 and text 1..2000
 * characters, by protovalidate): text is trimmed, and must say something once trimmed.
 */

export const MIN_RATING = 1;
export const MAX_RATING = 5;
export const MAX_TEXT_CHARS = 2000;

export function validateReview(input: { rating: number; text: string }): { rating: number; text: string } {
  if (!Number.isInteger(input.rating) || input.rating < MIN_RATING || input.rating > MAX_RATING) {
    throw invalidArgument("rating", `must be a whole number of stars from ${MIN_RATING} to ${MAX_RATING}`);
  }
  const text = input.text.trim();
  if (text === "") throw invalidArgument("text", "must not be empty");
  // characters as people count them (code points), the same as the contract's max_len
  if ([...text].length > MAX_TEXT_CHARS) throw invalidArgument("text", `must be at most ${MAX_TEXT_CHARS} characters`);
  return { rating: input.rating, text };
}

/** The mean of the ratings, to two decimals (what ListReviews and the catalog show); 0 for none. */
export function averageOf(ratings: number[]): number {
  if (ratings.length === 0) return 0;
  return Math.round((ratings.reduce((a, b) => a + b, 0) / ratings.length) * 100) / 100;
}

/** The 403 of CreateReview, whichever check refused. */
export const NOT_ATTENDED =
  "only a user with a confirmed booking of a showtime of this event that has already started may review it";
