import { averageOf, validateReview } from "../domain/review.js";
import { readReviewsConfig } from "../config.js";

describe("a review's rules", () => {
  it("accepts 1..5 stars and 1..2000 characters of text, trimmed", () => {
    expect(validateReview({ rating: 1, text: " ok \n" })).toEqual({ rating: 1, text: "ok" });
    expect(validateReview({ rating: 5, text: "🎬".repeat(2000) }).text).toHaveLength(4000); // 2000 characters, 4000 UTF-16 units
  });

  it("names the field it refuses", () => {
    expect(() => validateReview({ rating: 0, text: "x" })).toThrow(/^rating:/);
    expect(() => validateReview({ rating: 6, text: "x" })).toThrow(/^rating:/);
    expect(() => validateReview({ rating: 4.5, text: "x" })).toThrow(/^rating:/);
    expect(() => validateReview({ rating: 3, text: " \t\n" })).toThrow(/^text: must not be empty/);
    expect(() => validateReview({ rating: 3, text: "a".repeat(2001) })).toThrow(/^text: must be at most 2000/);
  });

  it("averages to two decimals, 0 without reviews", () => {
    expect(averageOf([])).toBe(0);
    expect(averageOf([5, 4, 4])).toBe(4.33);
    expect(averageOf([1, 2])).toBe(1.5);
  });
});

describe("config", () => {
  it("finds catalog and booking at their default ports", () => {
    expect(readReviewsConfig({})).toMatchObject({ port: 50057, catalogUrl: "http://127.0.0.1:50052", bookingUrl: "http://127.0.0.1:50053" });
  });
});
