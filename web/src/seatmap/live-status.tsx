import type { StreamState } from "./use-inventory";

/** Says whether the seat map on screen is live, announced politely as it changes. */
export function LiveStatus({ stream }: { stream: StreamState }) {
  const text =
    stream.state === "live"
      ? "Live: seats update as other people book."
      : stream.state === "missing"
        ? "The seat map of this show is being prepared; it appears here in a moment."
        : stream.state === "retrying"
          ? `Reconnecting to the live seat map (${stream.reason})…`
          : "Connecting to the live seat map…";
  return (
    <p className={`live-status ${stream.state}`} role="status">
      {text}
    </p>
  );
}
