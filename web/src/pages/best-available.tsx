/**
 * "Best available": the buyer says how many seats and the server picks and holds the best ones
 * (ReserveBestSeats: adjacent in one row without leaving a single empty seat, nearest the stage),
 * then on to checkout as after "Hold seats".
 */
import { useMutation } from "@connectrpc/connect-query";
import { useId, useState } from "react";
import { useLocation } from "wouter";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb";
import { ErrorNote } from "../components/status";

export function BestAvailable({ showtimeId, maxSeats, disabled, admissionToken }: { showtimeId: string; maxSeats: number; disabled: boolean; admissionToken?: string }) {
  const [, navigate] = useLocation();
  const [quantity, setQuantity] = useState(2);
  const id = useId();
  const best = useMutation(BookingService.method.reserveBestSeats, {
    onSuccess: (res) => navigate(`/checkout/${res.bookingId}`),
  });
  const count = Math.min(quantity, maxSeats);
  return (
    <form
      className="best-available"
      aria-label="Best available seats"
      onSubmit={(e) => {
        e.preventDefault();
        best.mutate({ showtimeId, quantity: count, admissionToken: admissionToken ?? "" });
      }}
    >
      <label htmlFor={id}>Number of seats</label>
      <select id={id} value={count} onChange={(e) => setQuantity(Number(e.target.value))} disabled={disabled || best.isPending}>
        {Array.from({ length: maxSeats }, (_, i) => i + 1).map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      <button type="submit" disabled={disabled || best.isPending}>
        Best available
      </button>
      <ErrorNote error={best.error} />
    </form>
  );
}
