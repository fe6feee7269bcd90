/**
 * The waiting room of an on-sale: the buyer joins (or finds their existing place), then sees their
 * position, how many are ahead and the estimated wait, live. Before the on-sale time everybody
 * waits in the pre-queue and gets a random place at opening. Once admitted, the page says how
 * long the turn lasts and leads back to the seat map, which holds with the admission token.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Link } from "wouter";
import type { QueueEntry } from "../../../gen/ticketing/admission/v1/admission_pb";
import { useQueueEntry, useWaitingRoom } from "../api/admission";
import { useShowtimeInfo } from "../api/catalog";
import { useSecondsLeft } from "../components/countdown";
import { RequireUser } from "../components/require-user";
import { ErrorNote, Loading } from "../components/status";
import { formatCountdown, formatDateTime, formatTime } from "../lib/format";

export default function QueuePage({ showtimeId }: { showtimeId: string }) {
  return <RequireUser>{() => <Queue showtimeId={showtimeId} />}</RequireUser>;
}

function Queue({ showtimeId }: { showtimeId: string }) {
  const info = useShowtimeInfo(showtimeId);
  const room = useWaitingRoom(showtimeId);
  const feed = useQueueEntry(showtimeId);
  const seatMap = `/showtimes/${showtimeId}`;

  return (
    <>
      <p className="breadcrumb">{info.showtime && <Link href={`/events/${info.showtime.eventId}`}>{info.event?.name ?? "Event"}</Link>}</p>
      <h1>Waiting room</h1>
      <p className="meta">
        {info.event?.name}
        {info.showtime && (
          <>
            {" "}
            · <time>{formatDateTime(info.showtime.timestamp)}</time> · {info.venue?.name}
          </>
        )}
      </p>
      {feed.state === "joining" && !feed.retryInSeconds && <Loading what="your place in the queue" />}
      {feed.state === "joining" && feed.retryInSeconds && (
        <p className="notice" role="status">
          Many people are joining right now. Trying again in a few seconds; keep this page open.
        </p>
      )}
      {feed.state === "failed" && <ErrorNote error={feed.error} />}
      {(feed.state === "live" || feed.state === "polling") && <Place entry={feed.entry} seatMap={seatMap} ratePerMinute={room.room?.admissionRatePerMinute} />}
      {feed.state === "polling" && (
        <p className="live-status" role="status">
          {feed.reason}
        </p>
      )}
      <p className="hint">Keep this page open or come back later: your place is kept for your account, on every tab and device.</p>
    </>
  );
}

function Place({ entry, seatMap, ratePerMinute }: { entry?: QueueEntry; seatMap: string; ratePerMinute?: number }) {
  const expiresMs = entry?.admissionExpiresAt ? timestampMs(entry.admissionExpiresAt) : undefined;
  const left = useSecondsLeft(entry?.status === "admitted" ? expiresMs : undefined);
  if (!entry) return <Loading what="your place in the queue" />;
  const wait = entry.estimatedWaitSeconds;

  switch (entry.status) {
    case "prequeue":
      return (
        <section className="card queue-place" aria-live="polite">
          <h2>You are in the queue</h2>
          <p>
            The sale opens in about <strong>{formatWait(wait)}</strong>. Everyone who joins before then gets a random place when it opens, so there is no need to
            hurry.
          </p>
        </section>
      );
    case "waiting":
      return (
        <section className="card queue-place" aria-live="polite">
          <h2>
            Your place: <span className="queue-position">{entry.position.toLocaleString()}</span>
          </h2>
          <p>
            {entry.ahead === 0n ? "You are next." : `${entry.ahead.toLocaleString()} ${entry.ahead === 1n ? "person is" : "people are"} ahead of you.`} Estimated wait:{" "}
            <strong>{formatWait(wait)}</strong>
            {ratePerMinute ? ` (${ratePerMinute.toLocaleString()} buyers are let in per minute)` : ""}.
          </p>
        </section>
      );
    case "admitted":
      return (
        <section className="card queue-place admitted" aria-live="assertive">
          <h2>It is your turn</h2>
          <p>
            Choose your seats and hold them{" "}
            {left !== undefined && left > 0 ? (
              <>
                within <strong>{formatCountdown(left)}</strong> (until {formatTime(entry.admissionExpiresAt)})
              </>
            ) : (
              "now"
            )}
            , or your turn passes to the next buyer.
          </p>
          <p>
            <Link href={seatMap} className="button primary">
              Choose seats
            </Link>
          </p>
        </section>
      );
    case "lapsed":
      return (
        <section className="card queue-place" aria-live="polite">
          <h2>Your turn has passed</h2>
          <p>You were let in but held no seats in time, so the turn went to the next buyer.</p>
        </section>
      );
    default:
      return (
        <section className="card queue-place" aria-live="polite">
          <h2>The queue is closed</h2>
          <p>
            Seats are on sale to everybody now. <Link href={seatMap}>Choose seats</Link>
          </p>
        </section>
      );
  }
}

/** "about 3 minutes", "under a minute", "about 2 hours". */
function formatWait(seconds: number): string {
  if (seconds < 60) return "under a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.round(minutes / 60);
  return `${hours} hours`;
}
