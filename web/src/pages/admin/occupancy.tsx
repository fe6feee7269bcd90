/**
 * A showtime's live occupancy for admins: available, held and booked counts and the seat map,
 * both fed by the WatchInventory stream (admins see every holder and booking).
 */
import { useMemo, useSyncExternalStore } from "react";
import { Link } from "wouter";
import { useShowtimeInfo } from "../../api/catalog";
import { useUser } from "../../auth/use-session";
import { ErrorNote, Loading } from "../../components/status";
import { formatDateTime } from "../../lib/format";
import { hallGeometry } from "../../seatmap/geometry";
import { SeatMap } from "../../seatmap/seat-map";
import { SeatStore } from "../../seatmap/store";
import { useInventoryStream } from "../../seatmap/use-inventory";

export default function Occupancy({ showtimeId }: { showtimeId: string }) {
  const info = useShowtimeInfo(showtimeId, true);
  const user = useUser();
  const store = useMemo(() => (info.hall ? new SeatStore(hallGeometry(info.hall.seatLayout), user?.userId) : undefined), [info.hall, user?.userId]);
  const stream = useInventoryStream(showtimeId, user?.userId, store);
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
      <p role="status" className={`live-status ${stream.state}`}>
        {stream.state === "live" ? "Live" : stream.state === "missing" ? "The inventory is being initialised…" : "Connecting…"}
      </p>
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
        <dd data-testid="booked-count">
          {counts.booked} <span className="muted">({pct(counts.booked)})</span>
        </dd>
      </div>
      <div>
        <dt>Held</dt>
        <dd data-testid="held-count">{counts.held}</dd>
      </div>
      <div>
        <dt>Available</dt>
        <dd data-testid="available-count">{counts.available}</dd>
      </div>
      <div>
        <dt>Capacity</dt>
        <dd>{capacity}</dd>
      </div>
    </dl>
  );
}
