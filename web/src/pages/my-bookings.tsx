/** The signed-in user's bookings (newest first) and the messages sent to them. */
import { useQuery } from "@connectrpc/connect-query";
import { Link } from "wouter";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb";
import { NotificationsService } from "../../../gen/ticketing/notifications/v1/notifications_pb";
import { useShowtimes } from "../api/catalog";
import { NotificationList } from "../components/notification-list";
import { RequireUser } from "../components/require-user";
import { ErrorNote, Loading } from "../components/status";
import { formatDateTime, formatMoney } from "../lib/format";

export default function MyBookingsPage() {
  return <RequireUser>{() => <MyBookings />}</RequireUser>;
}

function MyBookings() {
  const bookings = useQuery(BookingService.method.listMyBookings, { pageSize: 100 });
  const notifications = useQuery(NotificationsService.method.listMyNotifications, { pageSize: 20 });
  const list = bookings.data?.bookings ?? [];
  const { showtimes, events } = useShowtimes(list.map((b) => b.showtimeId));
  return (
    <>
      <h1>My bookings</h1>
      <ErrorNote error={bookings.error} />
      {bookings.isPending && <Loading what="your bookings" />}
      {bookings.data && list.length === 0 && (
        <p>
          No bookings yet. <Link href="/">Find a show</Link>
        </p>
      )}
      <ul className="bookings">
        {list.map((b) => {
          const st = showtimes.get(b.showtimeId);
          const ev = st && events.get(st.eventId);
          return (
            <li key={b.bookingId} className="card booking-row">
              <h2>
                <Link href={`/bookings/${b.bookingId}`} aria-label={`Booking of ${ev?.name ?? "a show"}, ${formatDateTime(st?.timestamp)}, ${b.status}`}>
                  {ev?.name ?? "Booking"}
                </Link>
              </h2>
              <p className="meta">
                <time>{formatDateTime(st?.timestamp)}</time> · seats {b.bookedSeats.join(", ")} · {formatMoney(b.totalAmount, b.currency)}
              </p>
              <p>
                <span className={`badge ${b.status}`}>{b.status.replace("_", " ")}</span> <span className={`badge ${b.paymentStatus}`}>{b.paymentStatus}</span>
              </p>
            </li>
          );
        })}
      </ul>
      <section aria-labelledby="notifications-heading">
        <h2 id="notifications-heading">Notifications</h2>
        <ErrorNote error={notifications.error} />
        <NotificationList notifications={notifications.data?.notifications ?? []} empty="No messages yet." />
      </section>
    </>
  );
}
