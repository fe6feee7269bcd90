/**
 * One booking: its status as the workflow settles it (a paid booking shows "confirming" until the
 * payment webhook has confirmed it), seats, amount, cancellation with the refund's progress, and
 * the notifications sent about it; once confirmed, its tickets with their QR codes
 * (booking-tickets.tsx). Admins also get a link to the booking's workflow in the
 * Temporal UI.
 */
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { BookingService, type Booking } from "../../../gen/ticketing/booking/v1/booking_pb";
import { NotificationsService } from "../../../gen/ticketing/notifications/v1/notifications_pb";
import { useAppConfig, workflowUrl } from "../api/app-config";
import { useShowtimeInfo } from "../api/catalog";
import { RequireUser } from "../components/require-user";
import { ErrorNote, Loading } from "../components/status";
import { NotificationList } from "../components/notification-list";
import { BookingTickets } from "./booking-tickets";
import { formatDateTime, formatMoney } from "../lib/format";
import type { SignedInUser } from "../auth/session";

export default function BookingPage({ bookingId }: { bookingId: string }) {
  return <RequireUser>{(user) => <BookingView bookingId={bookingId} user={user} />}</RequireUser>;
}

/** Until the workflow has settled it, the booking is re-read every second. */
function settling(b: Booking | undefined): boolean {
  if (!b) return false;
  if (b.status === "held") return b.paymentStatus !== "failed";
  return b.status === "cancelled" && b.paymentStatus === "paid";
}

export function statusText(b: Booking): { title: string; detail: string } {
  switch (b.status) {
    case "held":
      return b.paymentStatus === "failed"
        ? { title: "Payment declined", detail: "Your seats are still held; try another card at checkout." }
        : { title: "Confirming your booking…", detail: "Waiting for the payment to be confirmed." };
    case "confirmed":
      return { title: "Booking confirmed", detail: "Enjoy the show! A confirmation has been sent to you." };
    case "cancelled":
      return b.paymentStatus === "refunded"
        ? { title: "Booking cancelled", detail: "Your payment has been refunded." }
        : b.paymentStatus === "paid"
          ? { title: "Booking cancelled", detail: "Your refund is on its way." }
          : { title: "Booking cancelled", detail: "The seats were released; nothing was charged." };
    case "expired":
      return b.paymentStatus === "refunded" || b.paymentStatus === "paid"
        ? { title: "Hold expired", detail: "The payment arrived after the seats were released, so it is refunded." }
        : { title: "Hold expired", detail: "The seats were released; nothing was charged." };
    case "payment_failed":
      return { title: "Payment failed", detail: "The seats were released; nothing was charged." };
    default:
      return { title: b.status, detail: "" };
  }
}

function BookingView({ bookingId, user }: { bookingId: string; user: SignedInUser }) {
  const query = useQuery(BookingService.method.getBooking, { bookingId }, { refetchInterval: (q) => (settling(q.state.data?.booking) ? 1000 : false) });
  const b = query.data?.booking;
  const info = useShowtimeInfo(b?.showtimeId);
  // messages follow a change of the booking by a few seconds: look for them for a minute after the
  // page opens or the booking changes, not forever
  const [changedAt, setChangedAt] = useState(() => Date.now());
  const status = `${b?.status}/${b?.paymentStatus}`;
  useEffect(() => setChangedAt(Date.now()), [status]);
  const notifications = useQuery(
    NotificationsService.method.listMyNotifications,
    { pageSize: 50 },
    { refetchInterval: () => (Date.now() - changedAt < 60_000 ? 3_000 : false) },
  );
  const config = useAppConfig();

  if (query.error) return <ErrorNote error={query.error} />;
  if (!b) return <Loading what="the booking" />;
  const { title, detail } = statusText(b);
  const mine = notifications.data?.notifications.filter((n) => n.bookingId === b.bookingId) ?? [];
  const temporal = user.role === "admin" ? workflowUrl(config.data, b.bookingId) : undefined;
  // a cancelled booking that had been paid for had tickets, voided now
  const hadTickets = b.status === "confirmed" || (b.status === "cancelled" && (b.paymentStatus === "paid" || b.paymentStatus === "refunded"));

  return (
    <>
      <h1>{title}</h1>
      <p role="status" className={`booking-status ${b.status}`}>
        {detail}
      </p>
      <section className="card" aria-labelledby="booking-heading">
        <h2 id="booking-heading">{info.event?.name ?? "Booking"}</h2>
        <dl className="facts">
          <dt>When</dt>
          <dd>{formatDateTime(info.showtime?.timestamp)}</dd>
          <dt>Where</dt>
          <dd>{info.venue ? `${info.venue.name}, ${info.venue.address?.city ?? ""}` : ""}</dd>
          <dt>Seats</dt>
          <dd>{b.bookedSeats.join(", ")}</dd>
          <dt>Amount</dt>
          <dd>{formatMoney(b.totalAmount, b.currency)}</dd>
          <dt>Status</dt>
          <dd>
            <span className={`badge ${b.status}`}>{b.status.replace("_", " ")}</span>
          </dd>
          <dt>Payment</dt>
          <dd>
            <span className={`badge ${b.paymentStatus}`}>{b.paymentStatus}</span>
          </dd>
          <dt>Booking reference</dt>
          <dd>
            <code>{b.bookingId}</code>
          </dd>
        </dl>
        {b.status === "held" && b.paymentStatus === "failed" && <Link href={`/checkout/${b.bookingId}`}>Back to checkout</Link>}
        {(b.status === "held" || b.status === "confirmed") && <CancelBooking booking={b} />}
        {temporal && (
          <p>
            <a href={temporal} target="_blank" rel="noreferrer">
              Open the booking workflow in the Temporal UI
            </a>
          </p>
        )}
      </section>
      {/* remounted when the status changes: the tickets follow it by a moment (issued, voided) */}
      {hadTickets && <BookingTickets key={b.status} bookingId={b.bookingId} confirmed={b.status === "confirmed"} />}
      <section aria-labelledby="notifications-heading">
        <h2 id="notifications-heading">Notifications about this booking</h2>
        <ErrorNote error={notifications.error} />
        <NotificationList notifications={mine} empty="No messages yet." />
      </section>
      <p>
        <Link href="/bookings">All my bookings</Link>
      </p>
    </>
  );
}

function CancelBooking({ booking }: { booking: Booking }) {
  const [asking, setAsking] = useState(false);
  const client = useQueryClient();
  const cancel = useMutation(BookingService.method.cancelBooking, {
    onSuccess: async () => {
      setAsking(false);
      // the booking and the lists it appears in
      await client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: BookingService, cardinality: undefined }) });
    },
  });
  const refund = booking.status === "confirmed" ? " Your payment will be refunded." : "";
  return (
    <div className="cancel">
      {!asking ? (
        <button type="button" onClick={() => setAsking(true)}>
          Cancel booking
        </button>
      ) : (
        <div role="group" aria-label="Confirm cancellation">
          <p>Cancel this booking and release its seats?{refund}</p>
          <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ bookingId: booking.bookingId })}>
            Yes, cancel booking
          </button>{" "}
          <button type="button" onClick={() => setAsking(false)}>
            Keep booking
          </button>
        </div>
      )}
      <ErrorNote error={cancel.error} />
    </div>
  );
}
