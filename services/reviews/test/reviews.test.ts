import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { IDEMPOTENT_REPLAY_HEADER } from "../../../lib/idempotency.js";
import { averageOf } from "../domain/review.js";
import { startReviewsStack, waitFor, type ReviewsStack } from "./harness.js";

/**
 * The reviews service running in-process on a real transport, with real Postgres and the REAL
 * catalog service (events, showtimes, and the rating it keeps); only booking's
 * CheckEventAttendance is a stand-in (see harness.ts). Every rule of CreateReview/ListReviews,
 * the races, and the catalog's copy of the rating.
 */

let s: ReviewsStack;
beforeAll(async () => {
  s = await startReviewsStack();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

const catalogEvent = async (eventId: string) => (await s.catalog.client.getEvent({ eventId })).event!;

describe("CreateReview (POST /api/v1/events/{eventId}/reviews)", () => {
  it("records the review of a user who attended a showtime that has started", async () => {
    const { eventId } = await s.event({ past: 1 });
    const ada = await s.attendee(eventId);
    const { review } = await s.client.createReview({ eventId, rating: 5, text: "  Breathtaking.  " }, ada);
    expect(review).toMatchObject({ eventId, userId: ada.userId, rating: 5, text: "Breathtaking." });
    expect(review!.reviewId).toMatch(/^[0-9a-f-]{36}$/);
    expect(timestampDate(review!.createdAt!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const row = await s.db("reviews").where({ id: review!.reviewId }).first();
    expect(row.booking_id).toMatch(/^[0-9a-f-]{36}$/); // the booking that qualified, kept for audit

    const list = await s.client.listReviews({ eventId });
    expect(list).toMatchObject({ averageRating: 5, reviewCount: 1 });
    expect(list.reviews.map((r) => r.reviewId)).toEqual([review!.reviewId]);
  });

  it("403 for a user without a confirmed booking of the event", async () => {
    const { eventId } = await s.event({ past: 1 });
    const stranger = await s.user();
    const err = await errorOf(s.client.createReview({ eventId, rating: 4, text: "Heard it was good" }, stranger));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toMatch(/confirmed booking/);
    // attended a different event: still no
    const other = await s.event({ past: 1 });
    s.booking.attend(stranger.userId, other.eventId);
    expect(await codeOf(s.client.createReview({ eventId, rating: 4, text: "x" }, stranger))).toBe(Code.PermissionDenied);
  });

  it("403 while none of the event's showtimes has started, without asking the booking service", async () => {
    const { eventId } = await s.event({ past: 0, future: 2 });
    const eager = await s.attendee(eventId); // even if booking would say yes
    const before = s.booking.calls.length;
    const err = await errorOf(s.client.createReview({ eventId, rating: 3, text: "Can't wait" }, eager));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(s.booking.calls.slice(before).filter((c) => c.eventId === eventId)).toEqual([]);
  });

  it("404 for an unknown event", async () => {
    const u = await s.user();
    const err = await errorOf(s.client.createReview({ eventId: randomUUID(), rating: 3, text: "?" }, u));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toMatch(/event .* not found/);
  });

  it("409 for a second review of the same event by the same user", async () => {
    const { eventId } = await s.event();
    const u = await s.attendee(eventId);
    await s.client.createReview({ eventId, rating: 4, text: "Good" }, u);
    const err = await errorOf(s.client.createReview({ eventId, rating: 1, text: "Changed my mind" }, u));
    expect(err.code).toBe(Code.AlreadyExists);
    expect((await s.client.listReviews({ eventId })).reviewCount).toBe(1);
  });

  it("one review per user per event under concurrency: exactly one of simultaneous attempts wins, the rest are 409", async () => {
    const { eventId } = await s.event();
    const u = await s.attendee(eventId);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => codeOf(s.client.createReview({ eventId, rating: (i % 5) + 1, text: `attempt ${i}` }, u))),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === Code.AlreadyExists)).toHaveLength(7);
    expect(await s.db("reviews").where({ event_id: eventId })).toHaveLength(1);
    expect((await s.client.listReviews({ eventId })).reviewCount).toBe(1);
  });

  it("400 naming the field: rating out of 1..5, empty or blank text, text over 2,000 characters", async () => {
    const { eventId } = await s.event();
    const u = await s.attendee(eventId);
    const cases: Array<[{ rating: number; text: string }, string]> = [
      [{ rating: 0, text: "ok" }, "rating"],
      [{ rating: 6, text: "ok" }, "rating"],
      [{ rating: -3, text: "ok" }, "rating"],
      [{ rating: 4, text: "" }, "text"],
      [{ rating: 4, text: "   \n\t " }, "text"],
      [{ rating: 4, text: "x".repeat(2001) }, "text"],
      [{ rating: 4, text: "é".repeat(2001) }, "text"],
    ];
    for (const [body, field] of cases) {
      const err = await errorOf(s.client.createReview({ eventId, ...body }, u));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage.startsWith(`${field}:`)).toBe(true);
    }
    expect(await s.db("reviews").where({ event_id: eventId })).toHaveLength(0);
    // the limits themselves are fine: 2,000 characters (not bytes), 1 and 5 stars
    const { review } = await s.client.createReview({ eventId, rating: 1, text: "é".repeat(2000) }, u);
    expect([...review!.text]).toHaveLength(2000);
  });

  it("needs a user: 401 without a token, 403 for a service credential", async () => {
    const { eventId } = await s.event();
    expect(await codeOf(s.client.createReview({ eventId, rating: 5, text: "x" }))).toBe(Code.Unauthenticated);
    const svc = { headers: { authorization: `Bearer ${await s.auth.serviceToken("booking")}` } };
    expect(await codeOf(s.client.createReview({ eventId, rating: 5, text: "x" }, svc))).toBe(Code.PermissionDenied);
  });

  it("Idempotency-Key: the same key and body return the first review; another body with the key is 409", async () => {
    const { eventId } = await s.event();
    const u = await s.attendee(eventId);
    const key = randomUUID();
    const opts = { headers: { ...u.headers, "idempotency-key": key } };
    const first = await s.client.createReview({ eventId, rating: 4, text: "Lovely" }, opts);
    let replayed = "";
    const again = await s.client.createReview({ eventId, rating: 4, text: "Lovely" }, { ...opts, onHeader: (h) => (replayed = h.get(IDEMPOTENT_REPLAY_HEADER) ?? "") });
    expect(again.review!.reviewId).toBe(first.review!.reviewId);
    expect(replayed).toBe("true");
    expect(await codeOf(s.client.createReview({ eventId, rating: 2, text: "Lovely" }, opts))).toBe(Code.AlreadyExists);
    expect((await s.client.listReviews({ eventId })).reviewCount).toBe(1);
  });
});

describe("ListReviews (GET /api/v1/events/{eventId}/reviews)", () => {
  it("is public; newest first, paged, with the aggregate over all reviews", async () => {
    const { eventId } = await s.event();
    const ratings = [5, 4, 4, 2, 1];
    const ids: string[] = [];
    for (const [i, rating] of ratings.entries()) {
      const u = await s.attendee(eventId);
      ids.push((await s.client.createReview({ eventId, rating, text: `review ${i}` }, u)).review!.reviewId);
    }
    const all = await s.client.listReviews({ eventId });
    expect(all.reviews.map((r) => r.reviewId)).toEqual([...ids].reverse());
    expect(all.reviewCount).toBe(5);
    expect(all.averageRating).toBe(3.2);
    const p1 = await s.client.listReviews({ eventId, page: 1, pageSize: 2 });
    const p3 = await s.client.listReviews({ eventId, page: 3, pageSize: 2 });
    expect(p1.reviews.map((r) => r.reviewId)).toEqual([ids[4], ids[3]]);
    expect(p3.reviews.map((r) => r.reviewId)).toEqual([ids[0]]);
    expect(p3).toMatchObject({ reviewCount: 5, averageRating: 3.2 });
  });

  it("an event without reviews has an empty list and 0; an unknown event is 404; a bad page size 400", async () => {
    const { eventId } = await s.event();
    expect(await s.client.listReviews({ eventId })).toMatchObject({ reviews: [], averageRating: 0, reviewCount: 0 });
    expect(await codeOf(s.client.listReviews({ eventId: randomUUID() }))).toBe(Code.NotFound);
    const err = await errorOf(s.client.listReviews({ eventId, pageSize: 500 }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("pageSize");
  });
});

describe("the event's rating in the catalog (UpdateEventRating)", () => {
  it("follows every new review: averageRating and reviewCount on the catalog's event", async () => {
    const { eventId } = await s.event();
    for (const rating of [5, 3]) await s.client.createReview({ eventId, rating, text: "ok" }, await s.attendee(eventId));
    const event = await waitFor("the catalog's rating", async () => {
      const e = await catalogEvent(eventId);
      return e.reviewCount === 2 ? e : undefined;
    });
    expect(event.averageRating).toBe(4);
  });

  it("ends with the aggregate over all reviews when many users review at once", async () => {
    const { eventId } = await s.event();
    const ratings = [5, 4, 3, 5, 1, 2, 4, 4, 5, 3, 2, 5];
    const users = await Promise.all(ratings.map(() => s.attendee(eventId)));
    const results = await Promise.all(ratings.map((rating, i) => codeOf(s.client.createReview({ eventId, rating, text: `r${i}` }, users[i]))));
    expect(results.every((r) => r === "ok")).toBe(true);
    const expected = averageOf(ratings);
    const list = await s.client.listReviews({ eventId, pageSize: 100 });
    expect(list).toMatchObject({ reviewCount: ratings.length, averageRating: expected });
    const event = await waitFor("the catalog's rating", async () => {
      const e = await catalogEvent(eventId);
      return e.reviewCount === ratings.length ? e : undefined;
    });
    expect(event.averageRating).toBe(expected);
    // computed_at strictly increased with each review, so the last aggregate was not dropped as stale
    const agg = await waitFor("the last push recorded", async () => {
      const r = await s.db("event_ratings").where({ event_id: eventId }).first();
      return r.pushed_computed_at?.getTime() === r.computed_at.getTime() ? r : undefined;
    });
    expect(agg.review_count).toBe(ratings.length);
  });

  it("is retried in the background while the catalog is down, and arrives once it is back", async () => {
    const { eventId } = await s.event();
    const u = await s.attendee(eventId);
    const catalogPort = Number(new URL(s.catalog.url).port);
    await s.server.pusher.stop(); // hold the push back until the catalog is down
    try {
      await s.client.createReview({ eventId, rating: 2, text: "Meh" }, u);
    } finally {
      await s.catalog.stop();
      s.server.pusher.start();
    }
    const failing = await waitFor("failed pushes", async () => {
      const r = await s.db("event_ratings").where({ event_id: eventId }).first();
      return r.push_attempts >= 2 ? r : undefined;
    });
    expect(failing.pushed_computed_at).toBeNull();
    expect(failing.last_push_error).toBeTruthy();
    // reads do not need the catalog
    expect(await s.client.listReviews({ eventId })).toMatchObject({ reviewCount: 1, averageRating: 2 });

    await s.catalog.restart({ port: catalogPort });
    const event = await waitFor("the catalog's rating after the outage", async () => {
      const e = await catalogEvent(eventId);
      return e.reviewCount === 1 ? e : undefined;
    });
    expect(event.averageRating).toBe(2);
    // and the pusher records that the catalog took it (right after the catalog answered)
    const done = await waitFor("the push recorded", async () => {
      const r = await s.db("event_ratings").where({ event_id: eventId }).first();
      return r.pushed_computed_at ? r : undefined;
    });
    expect(done).toMatchObject({ push_attempts: 0, last_push_error: null });
    expect(done.pushed_computed_at.getTime()).toBe(done.computed_at.getTime());
  });
});
