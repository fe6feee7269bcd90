/**
 * Checkout of a held booking: what is held and until when (a countdown to heldUntil; at zero the
 * page says the seats were released), then payment. PreparePayment says which gateway issued the
 * intent: with Stripe, Stripe's Payment Element confirms it with the intent's clientSecret; on the
 * development payment provider, a test-card form confirms it server-side (POST /api/v1/bookings). Either
 * way fulfilment follows the payment webhook, so the booking page then waits for "confirmed".
 * A declined card shows why and keeps the seats held, so another card can be tried.
 */
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { lazy, Suspense, useEffect, useId, useState, type FormEvent } from "react";
import { Link, useLocation } from "wouter";
import { BookingService, type Booking } from "../../../gen/ticketing/booking/v1/booking_pb";
import { useShowtimeInfo } from "../api/catalog";
import { useSecondsLeft } from "../components/countdown";
import { RequireUser } from "../components/require-user";
import { ErrorNote, Loading } from "../components/status";
import { formatCountdown, formatDateTime, formatMoney, formatTime } from "../lib/format";
import { TEST_CARDS } from "../lib/test-cards";

const StripePayment = lazy(() => import("./stripe-payment"));

export default function CheckoutPage({ bookingId }: { bookingId: string }) {
  return <RequireUser>{() => <Checkout bookingId={bookingId} />}</RequireUser>;
}

function Checkout({ bookingId }: { bookingId: string }) {
  const [, navigate] = useLocation();
  // re-read now and then: a payment or a cancel in another tab moves this page on
  const booking = useQuery(BookingService.method.getBooking, { bookingId }, { refetchInterval: (q) => (q.state.data?.booking?.status === "held" ? 5_000 : false) });
  const b = booking.data?.booking;
  const info = useShowtimeInfo(b?.showtimeId);
  const heldUntilMs = b?.heldUntil ? timestampMs(b.heldUntil) : undefined;
  const secondsLeft = useSecondsLeft(b?.status === "held" ? heldUntilMs : undefined);
  const expired = b?.status === "expired" || (b?.status === "held" && secondsLeft === 0);

  useEffect(() => {
    // paid or cancelled meanwhile (another tab): the booking page tells the rest
    if (b && b.status !== "held" && b.status !== "expired") navigate(`/bookings/${b.bookingId}`, { replace: true });
  }, [b, navigate]);

  if (booking.error) return <ErrorNote error={booking.error} />;
  if (!b) return <Loading what="your booking" />;
  return (
    <>
      <h1>Checkout</h1>
      <section className="card" aria-labelledby="order-heading">
        <h2 id="order-heading">{info.event?.name ?? "Your order"}</h2>
        <p className="meta">
          <time>{formatDateTime(info.showtime?.timestamp)}</time>
          {info.venue && ` · ${info.venue.name}`}
        </p>
        <p>
          Seats <strong>{b.bookedSeats.join(", ")}</strong>
        </p>
        <p className="total">
          Total <strong>{formatMoney(b.totalAmount, b.currency)}</strong>
        </p>
      </section>
      {expired ? (
        <div role="alert" className="error">
          <p>
            <strong>Your hold has expired and the seats were released.</strong> Nothing was charged.
          </p>
          <p>
            <Link href={`/showtimes/${b.showtimeId}`}>Choose seats again</Link>
          </p>
        </div>
      ) : (
        <>
          <p className="countdown" role="timer" aria-live="off">
            Your seats are held for <strong>{formatCountdown(secondsLeft ?? 0)}</strong> (until {formatTime(b.heldUntil)}).
          </p>
          <Payment booking={b} onPaid={() => navigate(`/bookings/${b.bookingId}`)} />
          <p>
            <CancelHold bookingId={b.bookingId} showtimeId={b.showtimeId} />
          </p>
        </>
      )}
    </>
  );
}

function Payment({ booking, onPaid }: { booking: Booking; onPaid: () => void }) {
  const prepare = useMutation(BookingService.method.preparePayment);
  const { mutate } = prepare;
  useEffect(() => {
    // idempotent: a repeat returns the same intent (or a new one after a declined attempt)
    mutate({ bookingId: booking.bookingId, finalAmount: booking.totalAmount, currency: booking.currency });
  }, [mutate, booking.bookingId, booking.totalAmount, booking.currency]);

  if (prepare.error) return <ErrorNote error={prepare.error} />;
  const intent = prepare.data;
  if (!intent) return <Loading what="the payment form" />;
  return (
    <section className="card" aria-labelledby="payment-heading">
      <h2 id="payment-heading">Payment</h2>
      {intent.gateway === "stripe" ? (
        <Suspense fallback={<Loading what="Stripe" />}>
          <StripePayment clientSecret={intent.clientSecret} onPaid={onPaid} />
        </Suspense>
      ) : (
        <TestCardForm booking={booking} onPaid={onPaid} />
      )}
    </section>
  );
}

/** The development payment provider: pay with one of Stripe's test payment methods, confirmed server-side. */
function TestCardForm({ booking, onPaid }: { booking: Booking; onPaid: () => void }) {
  const [card, setCard] = useState<string>(TEST_CARDS[0].id);
  const name = useId();
  const pay = useMutation(BookingService.method.createBooking, { onSuccess: onPaid });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    pay.mutate({ bookingId: booking.bookingId, paymentMethodId: card });
  };
  return (
    <form onSubmit={submit}>
      <fieldset>
        <legend>Test card (development payment provider: no real money moves)</legend>
        {TEST_CARDS.map((c) => (
          <label key={c.id} className="radio">
            <input type="radio" name={name} value={c.id} checked={card === c.id} onChange={() => setCard(c.id)} />
            {c.label}
          </label>
        ))}
      </fieldset>
      {pay.error !== null && (
        <ErrorNote error={pay.error}>
          <strong>The payment did not go through. </strong>
        </ErrorNote>
      )}
      <p className="total">
        Amount <strong>{formatMoney(booking.totalAmount, booking.currency)}</strong>
      </p>
      <button type="submit" className="primary" disabled={pay.isPending}>
        Pay
      </button>
      {pay.isPending && (
        <span role="status" className="muted">
          {" "}
          Paying…
        </span>
      )}
    </form>
  );
}

function CancelHold({ bookingId, showtimeId }: { bookingId: string; showtimeId: string }) {
  const [, navigate] = useLocation();
  const cancel = useMutation(BookingService.method.cancelBooking, { onSuccess: () => navigate(`/showtimes/${showtimeId}`) });
  return (
    <>
      <button type="button" className="link-button" disabled={cancel.isPending} onClick={() => cancel.mutate({ bookingId, reason: "released at checkout" })}>
        Release these seats
      </button>
      <ErrorNote error={cancel.error} />
    </>
  );
}
