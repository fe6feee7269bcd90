/**
 * A booking's tickets on the booking page: one per seat, with its holder, status and QR code.
 * Tickets are issued by the booking workflow just after it confirms the booking, so for a moment
 * a confirmed booking has none yet (the API answers NOT_FOUND): the list is asked for again every
 * couple of seconds for a while, saying "issuing your tickets…", and then stops asking. Likewise a
 * cancelled booking's tickets are voided just after the cancellation: asked about again until
 * they say so. (The booking page remounts this when the booking's status changes, which starts
 * the window again.)
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { useEffect, useState } from "react";
import { TicketsService, type Ticket } from "../../../gen/ticketing/tickets/v1/tickets_pb";
import { ErrorNote, Loading } from "../components/status";
import { formatDateTime } from "../lib/format";

/** How long tickets that are about to change are asked about again, and how often. */
const SETTLING_WINDOW_MS = 120_000;
const SETTLING_POLL_MS = 1_500;

const notIssued = (err: unknown) => !!err && ConnectError.from(err).code === Code.NotFound;

/** The QR code as an image: the API's own SVG in a data: URL, never markup inserted into the page. */
export function qrImageSrc(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/**
 * The tickets of a confirmed booking, or of a cancelled one (voided; a booking cancelled before it
 * was confirmed never had any, and then nothing is shown).
 */
export function BookingTickets({ bookingId, confirmed }: { bookingId: string; confirmed: boolean }) {
  const [openedAt] = useState(() => Date.now());
  const [givenUp, setGivenUp] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setGivenUp(true), SETTLING_WINDOW_MS);
    return () => clearTimeout(timer);
  }, []);
  const query = useQuery(
    TicketsService.method.listBookingTickets,
    { bookingId },
    {
      retry: false,
      refetchInterval: (q) => {
        if (Date.now() - openedAt >= SETTLING_WINDOW_MS) return false;
        const settling = confirmed ? notIssued(q.state.error) : !!q.state.data?.tickets.some((t) => t.status !== "voided");
        return settling ? SETTLING_POLL_MS : false;
      },
    },
  );
  const tickets = query.data?.tickets ?? [];
  const waiting = confirmed && notIssued(query.error);

  if (!confirmed && tickets.length === 0) return null;
  return (
    <section aria-labelledby="tickets-heading">
      <h2 id="tickets-heading">{confirmed ? "Your tickets" : "Tickets"}</h2>
      {query.isPending && <Loading what="your tickets" />}
      {waiting && (
        <p role="status" className="loading">
          {givenUp ? "Your tickets are not issued yet. Reload this page in a minute." : "Issuing your tickets…"}
        </p>
      )}
      {!notIssued(query.error) && <ErrorNote error={query.error} />}
      {tickets.length > 0 && (
        <>
          {confirmed && <p className="hint">Show the code at the entrance, on your phone or printed. Each code admits one person, once.</p>}
          <ul className="tickets">
            {tickets.map((t) => (
              <TicketCard key={t.ticketId} ticket={t} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function TicketCard({ ticket: t }: { ticket: Ticket }) {
  return (
    <li className={`card ticket ${t.status}`} aria-label={`Ticket for seat ${t.seatId}`}>
      <img className="ticket-qr" src={qrImageSrc(t.qrSvg)} alt={`QR code of the ticket for seat ${t.seatId}`} width={280} height={280} />
      <dl className="facts">
        <dt>Seat</dt>
        <dd className="ticket-seat">{t.seatId}</dd>
        <dt>Holder</dt>
        <dd>{t.holder}</dd>
        <dt>Status</dt>
        <dd>
          <TicketStatus ticket={t} />
        </dd>
        <dt>Issued</dt>
        <dd>{formatDateTime(t.issuedAt)}</dd>
      </dl>
    </li>
  );
}

function TicketStatus({ ticket: t }: { ticket: Ticket }) {
  switch (t.status) {
    case "valid":
      return <span className="badge valid">valid</span>;
    case "used":
      return (
        <>
          <span className="badge used">used</span>{" "}
          {t.checkedIn && (
            <span className="muted">
              checked in {formatDateTime(t.checkedIn.scannedAt)}
              {t.checkedIn.gate ? ` at gate ${t.checkedIn.gate}` : ""}
            </span>
          )}
        </>
      );
    case "voided":
      return <span className="badge voided">voided</span>;
    default:
      return <span className="badge">{t.status}</span>;
  }
}
