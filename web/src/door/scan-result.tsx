/**
 * The scanner's answer, big enough to read at arm's length: a coloured panel with one word and
 * a symbol (so the answer never rests on colour alone), and the seat, holder or reason. The
 * region is live (assertive): a screen reader says every answer, the same answer twice included
 * (each scan is a new element).
 */
import { formatClock } from "../lib/format";
import type { Outcome, OutcomeKind } from "./use-scanner";

const LOOKS: Record<OutcomeKind, { word: string; symbol: string; tone: string }> = {
  admitted: { word: "ADMITTED", symbol: "✓", tone: "go" },
  already_used: { word: "ALREADY USED", symbol: "✕", tone: "stop" },
  voided: { word: "VOIDED", symbol: "✕", tone: "stop" },
  wrong_showtime: { word: "WRONG SHOWTIME", symbol: "!", tone: "wait" },
  invalid: { word: "INVALID", symbol: "✕", tone: "stop" },
  error: { word: "NOT CHECKED", symbol: "?", tone: "unknown" },
};

function gateText(gate: string | undefined): string {
  return gate ? `at gate ${gate}` : "at a gate without a name";
}

function Details({ outcome: o }: { outcome: Outcome }) {
  const seat = o.seatId ? (
    <p className="scan-seat">
      Seat <strong>{o.seatId}</strong>
      {o.holder && (
        <>
          {" "}
          · <span className="visually-hidden">holder </span>
          {o.holder}
        </>
      )}
    </p>
  ) : null;
  switch (o.kind) {
    case "admitted":
      return seat;
    case "already_used":
      return (
        <>
          {seat}
          <p>
            Used at <strong>{formatClock(o.firstScan?.at)}</strong> {gateText(o.firstScan?.gate)}
            {o.offline ? " (on this scanner)" : ""}.
          </p>
        </>
      );
    case "voided":
      return (
        <>
          {seat}
          <p>This ticket was cancelled.</p>
        </>
      );
    case "wrong_showtime":
      return (
        <>
          {seat}
          <p>{o.reason || "This ticket is for another showtime."}</p>
        </>
      );
    default:
      return <p>{o.reason || "Not a ticket of ours."}</p>;
  }
}

export function ScanResult({ outcome }: { outcome?: Outcome }) {
  const look = outcome ? LOOKS[outcome.kind] : undefined;
  return (
    <div className="scan-result-region" role="status" aria-live="assertive" aria-atomic="true" aria-label="Scan result">
      {outcome && look ? (
        <div key={outcome.seq} className={`scan-result ${look.tone}`}>
          <p className="scan-verdict">
            <span aria-hidden="true" className="scan-symbol">
              {look.symbol}
            </span>{" "}
            {look.word}
            {outcome.offline && outcome.kind === "admitted" ? " (offline)" : ""}
          </p>
          <Details outcome={outcome} />
          <p className="scan-time">
            Scanned {formatClock(outcome.scannedAt)}
            {outcome.offline ? " · offline: checked on this device" : ""}
            {outcome.offline && outcome.kind === "admitted" ? ", uploaded when the network is back" : ""}
          </p>
        </div>
      ) : (
        <div className="scan-result idle">
          <p className="scan-verdict">Ready to scan</p>
          <p>Hold a ticket's QR code in front of the camera, or type or paste its code.</p>
        </div>
      )}
    </div>
  );
}
