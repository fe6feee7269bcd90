/**
 * A showtime's seat map: the hall drawn from its layout, other buyers' holds and bookings live
 * from the WatchInventory stream, a selection of up to the per-hold limit, and "Hold seats",
 * which holds them all or none and goes on to checkout; or "Best available", which lets the
 * server pick and hold the seats.
 */
import { useMutation } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { useCallback, useState, useSyncExternalStore } from "react";
import { Link, useLocation } from "wouter";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb";
import { useAdmissionToken, useWaitingRoom } from "../api/admission";
import { useShowtimeInfo } from "../api/catalog";
import { BestAvailable } from "./best-available";
import { ErrorNote, Loading } from "../components/status";
import { formatDateTime, formatMoney, plural } from "../lib/format";
import { LiveStatus } from "../seatmap/live-status";
import { SeatMap } from "../seatmap/seat-map";
import type { SeatStore } from "../seatmap/store";
import { useLiveSeatMap } from "../seatmap/use-live-seat-map";

export default function ShowtimePage({ showtimeId }: { showtimeId: string }) {
  const info = useShowtimeInfo(showtimeId, true);
  const [lostNote, setLostNote] = useState<string>();
  const onLost = useCallback((ids: string[]) => {
    setLostNote(`${ids.length === 1 ? "Seat" : "Seats"} ${ids.join(", ")} just went to someone else and ${ids.length === 1 ? "was" : "were"} removed from your selection.`);
  }, []);
  const { store, stream, userId } = useLiveSeatMap(showtimeId, info.hall?.seatLayout, onLost);

  if (info.error) return <ErrorNote error={info.error} />;
  if (info.isPending || !info.showtime || !store) return <Loading what="the seat map" />;
  const { showtime, event, venue, hall } = info;
  const prices = new Map(showtime.prices.map((p) => [p.seatType, formatMoney(p.amount, showtime.currency)]));
  const started = showtime.timestamp !== undefined && timestampMs(showtime.timestamp) <= Date.now();
  const maxSeats = stream.state === "live" ? stream.maxSeatsPerHold : 10;

  return (
    <>
      <p className="breadcrumb">
        <Link href={`/events/${showtime.eventId}`}>{event?.name ?? "Event"}</Link>
      </p>
      <h1>{event?.name ?? "Select seats"}</h1>
      <p className="meta">
        <time>{formatDateTime(showtime.timestamp)}</time> · {venue?.name}
        {hall?.hallName && `, ${hall.hallName}`}
      </p>
      <LiveStatus stream={stream} />
      {started && <p className="notice">This show has started; its seats can no longer be held.</p>}
      <div className="showtime-layout">
        <SeatMap
          store={store}
          label={`Seat map, ${hall?.hallName ?? "hall"}`}
          selectable={!started}
          maxSelectable={maxSeats}
          prices={prices}
          front={event?.category === "Movie" ? "Screen" : "Stage"}
        />
        <SelectionPanel store={store} showtimeId={showtimeId} currency={showtime.currency} prices={showtime.prices} maxSeats={maxSeats} signedIn={!!userId} disabled={started} lostNote={lostNote} />
      </div>
    </>
  );
}

interface PanelProps {
  store: SeatStore;
  showtimeId: string;
  currency: string;
  prices: ReadonlyArray<{ seatType: string; amount: number }>;
  maxSeats: number;
  signedIn: boolean;
  disabled: boolean;
  lostNote?: string;
}

function SelectionPanel({ store, showtimeId, currency, prices, maxSeats, signedIn, disabled, lostNote }: PanelProps) {
  const summary = useSyncExternalStore(store.subscribe, store.summary);
  // an on-sale with a waiting room: holds need the turn's admission token
  const room = useWaitingRoom(showtimeId);
  const admission = useAdmissionToken(showtimeId, room.active && signedIn);
  const needsTurn = room.active && !admission.token;
  const [, navigate] = useLocation();
  const g = store.geometry;
  const priceOf = new Map(prices.map((p) => [p.seatType, p.amount]));
  const selected = summary.selected.map((i) => g.seats[i]);
  const total = selected.reduce((sum, s) => sum + (priceOf.get(s.seatType) ?? 0), 0);
  const mine = summary.mine.map((i) => ({ seat: g.seats[i], bookingId: store.view(i).bookingId }));
  const myBookingId = mine.find((m) => m.bookingId)?.bookingId;

  // A 409 names seats someone else took meanwhile; the stream shows them taken and drops them from
  // the selection (onLost), so the buyer can pick others and try again.
  const hold = useMutation(BookingService.method.reserveSeats, {
    onSuccess: (res) => navigate(`/checkout/${res.bookingId}`),
  });

  const next = encodeURIComponent(`/showtimes/${showtimeId}`);
  return (
    <aside className="selection card" aria-labelledby="selection-heading">
      <h2 id="selection-heading">Your seats</h2>
      <p className="muted">
        {plural(summary.counts.available, "seat")} available · select up to {maxSeats}
      </p>
      {selected.length === 0 ? (
        <p>Pick seats on the map (click, or arrow keys and Enter).</p>
      ) : (
        <ul className="selected-seats">
          {selected.map((s) => (
            <li key={s.id}>
              Seat {s.label} <span className="muted">{s.seatType}</span>
              <span className="price">{formatMoney(priceOf.get(s.seatType) ?? 0, currency)}</span>
            </li>
          ))}
        </ul>
      )}
      {selected.length > 0 && (
        <p className="total">
          Total <strong>{formatMoney(total, currency)}</strong>
        </p>
      )}
      {lostNote && (
        <p role="alert" className="notice">
          {lostNote}
        </p>
      )}
      <ErrorNote error={hold.error} />
      {signedIn && needsTurn ? (
        <p className="notice">
          This sale has a waiting room. <Link href={`/showtimes/${showtimeId}/queue`}>Join the queue</Link> to get your turn to hold seats.
        </p>
      ) : signedIn ? (
        <button
          type="button"
          className="primary"
          disabled={disabled || selected.length === 0 || hold.isPending}
          onClick={() => hold.mutate({ showtimeId, seatIds: selected.map((s) => s.id), admissionToken: admission.token ?? "" })}
        >
          Hold seats
        </button>
      ) : (
        <p>
          <Link href={`/login?next=${next}`}>Log in to hold seats</Link>
        </p>
      )}
      {signedIn && !needsTurn && (
        <>
          <p className="muted">Or let us pick the best seats together:</p>
          <BestAvailable showtimeId={showtimeId} maxSeats={maxSeats} disabled={disabled} admissionToken={admission.token} />
        </>
      )}
      {myBookingId && (
        <p className="notice">
          You hold {mine.map((m) => m.seat.label).join(", ")}. <Link href={`/checkout/${myBookingId}`}>Continue to checkout</Link>
        </p>
      )}
    </aside>
  );
}
