import { useId, useState, type FormEvent } from "react";
import { useLocation } from "wouter";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Finds a booking by its reference; the booking page shows admins any booking, with its workflow link. */
export function BookingLookup() {
  const [, navigate] = useLocation();
  const [reference, setReference] = useState("");
  const [problem, setProblem] = useState<string>();
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ref = reference.trim();
    if (!UUID.test(ref)) {
      setProblem("A booking reference looks like 3f2b8c1e-0d4a-4c6b-9a7e-1b2c3d4e5f60.");
      return;
    }
    navigate(`~/bookings/${ref}`);
  };
  return (
    <>
      <h1>Look up a booking</h1>
      <form className="card" onSubmit={submit}>
        <label htmlFor={id}>Booking reference</label>
        <input id={id} value={reference} onChange={(e) => setReference(e.target.value)} aria-describedby={problem ? `${id}-problem` : undefined} />
        {problem && (
          <p id={`${id}-problem`} role="alert" className="error">
            {problem}
          </p>
        )}
        <button type="submit" className="primary">
          Find booking
        </button>
      </form>
    </>
  );
}
