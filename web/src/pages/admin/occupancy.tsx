/**
 * A showtime's live occupancy for admins: available, held and booked counts and the seat map,
 * both fed by the WatchInventory stream (admins see every holder and booking).
 */
import { useSyncExternalStore } from "react";
import { Link } from "wouter";
import { useShowtimeInfo } from "../../api/catalog";
import { ErrorNote, Loading } from "../../components/status";
import { formatDateTime } from "../../lib/format";
import { LiveStatus } from "../../seatmap/live-status";
import { SeatMap } from "../../seatmap/seat-map";
import type { SeatStore } from "../../seatmap/store";
import { useLiveSeatMap } from "../../seatmap/use-live-seat-map";

export default function Occupancy({ showtimeId }: { showtimeId: string }) {
  const info = useShowtimeInfo(showtimeId, true);
  const { store, stream } = useLiveSeatMap(showtimeId, info.hall?.seatLayout);
  if (info.error) return <ErrorNote error={info.error} />;
  if (!store || !info.showtime) return <Loading what="the showtime" />;
  return (
    <>
      <p className="breadcrumb">
        <Link href={`/events/${info.showtime.eventId}`}>{info.event?.name ?? "Event"}</Link>
      </p>
      <h1>Occupancy</h1>
      <p className="meta">
        {info.event?.name} · <time>{formatDateTime(info.showtime.timestamp)}</time> · {info.venue?.name}, {info.hall?.hallName}
      </p>
      <LiveStatus stream={stream} />
      <Counts store={store} />
      <SeatMap store={store} label={`Occupancy of ${info.hall?.hallName ?? "the hall"}`} />
    </>
  );
}

function Counts({ store }: { store: SeatStore }) {
  const { counts } = useSyncExternalStore(store.subscribe, store.summary);
  const capacity = counts.available + counts.held + counts.booked;
  const pct = (n: number) => (capacity ? `${Math.round((n / capacity) * 100)} %` : "–");
  return (
    <dl className="counts" aria-label="Seats">
      <div>
        <dt>Booked</dt>
        <dd>
          {counts.booked} <span className="muted">({pct(counts.booked)})</span>
        </dd>
      </div>
      <div>
        <dt>Held</dt>
        <dd>{counts.held}</dd>
      </div>
      <div>
        <dt>Available</dt>
        <dd>{counts.available}</dd>
      </div>
      <div>
        <dt>Capacity</dt>
        <dd>{capacity}</dd>
      </div>
    </dl>
  );
}
