/**
 * An event: what it is, its average rating, its upcoming showtimes grouped by day and venue (each
 * with a link to its seat map), and its reviews, with a form for people who attended.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link } from "wouter";
import { CatalogService, type Showtime, type Venue } from "../../../gen/ticketing/catalog/v1/catalog_pb";
import { ReviewsService } from "../../../gen/ticketing/reviews/v1/reviews_pb";
import { useVenues } from "../api/catalog";
import { useUser } from "../auth/use-session";
import { ErrorNote, Loading } from "../components/status";
import { formatDateTime, formatDay, formatMoney, formatTime, localDay, plural } from "../lib/format";

export default function EventPage({ eventId }: { eventId: string }) {
  const event = useQuery(CatalogService.method.getEvent, { eventId });
  const showtimes = useQuery(CatalogService.method.listShowtimes, { eventId });
  const upcoming = (showtimes.data?.showtimes ?? []).filter((s) => s.timestamp && timestampMs(s.timestamp) > Date.now());
  const venues = useVenues(upcoming.map((s) => s.venueId));

  if (event.error) return <ErrorNote error={event.error} />;
  const e = event.data?.event;
  if (!e) return <Loading what="the event" />;
  return (
    <>
      <h1>{e.name}</h1>
      <p className="meta">
        {e.category && <span className="tag">{e.category}</span>}
        {e.durationMinutes > 0 && ` ${e.durationMinutes} min`}
        {" · "}
        <Rating average={e.averageRating} count={e.reviewCount} />
      </p>
      {e.description && <p className="description">{e.description}</p>}
      {e.keywords.length > 0 && <p className="muted">{e.keywords.join(" · ")}</p>}

      <section aria-labelledby="showtimes-heading">
        <h2 id="showtimes-heading">Showtimes</h2>
        <ErrorNote error={showtimes.error} />
        {showtimes.isPending && <Loading what="showtimes" />}
        {showtimes.data && upcoming.length === 0 && <p>No upcoming showtimes.</p>}
        {groupByDayAndVenue(upcoming).map(([day, byVenue]) => (
          <div key={day} className="day">
            <h3>{formatDay(byVenue[0][1][0].timestamp)}</h3>
            {byVenue.map(([venueId, list]) => (
              <VenueShowtimes key={venueId} venue={venues.get(venueId)} showtimes={list} eventName={e.name} />
            ))}
          </div>
        ))}
      </section>
      <Reviews eventId={eventId} />
    </>
  );
}

function Rating({ average, count }: { average: number; count: number }) {
  if (count === 0) return <span className="muted">No reviews yet</span>;
  return (
    <span>
      <span aria-hidden="true">★ </span>
      {average.toFixed(1)}
      <span className="visually-hidden"> out of 5</span> <span className="muted">({plural(count, "review")})</span>
    </span>
  );
}

/** [day, [[venueId, showtimes by time]]], days and venues in order of their first showtime. */
function groupByDayAndVenue(showtimes: readonly Showtime[]): Array<[string, Array<[string, Showtime[]]>]> {
  const sorted = [...showtimes].sort((a, b) => timestampMs(a.timestamp!) - timestampMs(b.timestamp!));
  const days = new Map<string, Map<string, Showtime[]>>();
  for (const s of sorted) {
    const day = localDay(new Date(timestampMs(s.timestamp!)));
    const venues = days.get(day) ?? new Map<string, Showtime[]>();
    days.set(day, venues);
    venues.set(s.venueId, [...(venues.get(s.venueId) ?? []), s]);
  }
  return [...days].map(([day, venues]) => [day, [...venues]]);
}

function VenueShowtimes({ venue, showtimes, eventName }: { venue?: Venue; showtimes: Showtime[]; eventName: string }) {
  const name = venue?.name ?? "Venue";
  return (
    <div className="venue-showtimes">
      <h4>
        {name}
        {venue?.address?.city && <span className="muted">, {venue.address.city}</span>}
      </h4>
      <ul className="times">
        {showtimes.map((s) => {
          const from = Math.min(...s.prices.map((p) => p.amount));
          return (
            <li key={s.showtimeId}>
              <Link
                className="button"
                href={`/showtimes/${s.showtimeId}`}
                aria-label={`Select seats for ${eventName}, ${formatDateTime(s.timestamp)}, at ${name}`}
              >
                {formatTime(s.timestamp)}
              </Link>
              {Number.isFinite(from) && <span className="muted"> from {formatMoney(from, s.currency)}</span>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Reviews({ eventId }: { eventId: string }) {
  const reviews = useQuery(ReviewsService.method.listReviews, { eventId, pageSize: 20 });
  const user = useUser();
  return (
    <section aria-labelledby="reviews-heading">
      <h2 id="reviews-heading">Reviews</h2>
      <ErrorNote error={reviews.error} />
      {reviews.data && reviews.data.reviews.length === 0 && <p className="muted">No reviews yet.</p>}
      <ul className="reviews">
        {reviews.data?.reviews.map((r) => (
          <li key={r.reviewId} className="card">
            <p>
              <span role="img" aria-label={`${r.rating} out of 5 stars`}>
                {"★".repeat(r.rating) + "☆".repeat(5 - r.rating)}
              </span>
            </p>
            <p className="review-text">{r.text}</p>
            <p className="meta">
              <time>{formatDateTime(r.createdAt)}</time>
            </p>
          </li>
        ))}
      </ul>
      {user ? (
        <ReviewForm eventId={eventId} />
      ) : (
        <p className="muted">
          <Link href={`/login?next=${encodeURIComponent(`/events/${eventId}`)}`}>Log in</Link> to review a show you attended.
        </p>
      )}
    </section>
  );
}

function ReviewForm({ eventId }: { eventId: string }) {
  const [rating, setRating] = useState(5);
  const [text, setText] = useState("");
  const ids = useId();
  const client = useQueryClient();
  const create = useMutation(ReviewsService.method.createReview, {
    onSuccess: async () => {
      setText("");
      await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: ReviewsService, cardinality: undefined }) });
      await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: CatalogService.method.getEvent, cardinality: undefined }) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ eventId, rating, text });
  };
  return (
    <form className="card review-form" onSubmit={submit}>
      <h3>Write a review</h3>
      <p className="muted">Reviews are open to people who attended a showtime of this event.</p>
      <fieldset>
        <legend>Rating</legend>
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n} className="radio inline">
            <input type="radio" name={`${ids}-rating`} value={n} checked={rating === n} onChange={() => setRating(n)} />
            {plural(n, "star")}
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${ids}-text`}>Your review</label>
      <textarea id={`${ids}-text`} value={text} maxLength={2000} required rows={4} onChange={(e) => setText(e.target.value)} />
      <ErrorNote error={create.error} />
      {create.isSuccess && <p role="status">Thank you, your review is published.</p>}
      <button type="submit" className="primary" disabled={create.isPending}>
        Publish review
      </button>
    </form>
  );
}
