/**
 * Feeds a SeatStore from BookingService.WatchInventory, the server stream of a showtime's seat
 * map (first the whole map, then every change). A broken stream reconnects with backoff and
 * starts again from a fresh snapshot; an inventory that is not initialised yet (a showtime just
 * created) is retried too.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { useEffect, useRef, useState } from "react";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb";
import type { SeatStore } from "./store";

export type StreamState =
  | { state: "connecting" }
  | { state: "live"; maxSeatsPerHold: number }
  | { state: "retrying"; reason: string }
  | { state: "missing" };

const MAX_BACKOFF_MS = 10_000;

export function useInventoryStream(showtimeId: string, store: SeatStore | undefined, onLost?: (seatIds: string[]) => void): StreamState {
  const transport = useTransport();
  const [status, setStatus] = useState<StreamState>({ state: "connecting" });
  // a new callback must not restart the stream
  const lostRef = useRef(onLost);
  useEffect(() => {
    lostRef.current = onLost;
  }, [onLost]);

  useEffect(() => {
    if (!store) return;
    const client = createClient(BookingService, transport);
    const abort = new AbortController();
    let backoff = 500;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const run = async () => {
      try {
        let maxSeatsPerHold = 0;
        for await (const msg of client.watchInventory({ showtimeId }, { signal: abort.signal })) {
          const at = msg.lastUpdated ? timestampMs(msg.lastUpdated) : 0;
          if (msg.snapshot) {
            store.replaceAll(msg.seats, at);
            backoff = 500;
          } else {
            const lost = store.apply(msg.seats, at);
            if (lost.length) lostRef.current?.(lost);
          }
          if (msg.maxSeatsPerHold !== maxSeatsPerHold || msg.snapshot) {
            maxSeatsPerHold = msg.maxSeatsPerHold;
            setStatus({ state: "live", maxSeatsPerHold: msg.maxSeatsPerHold || 10 });
          }
        }
        if (abort.signal.aborted) return;
        setStatus({ state: "retrying", reason: "the live seat map closed" });
      } catch (err) {
        if (abort.signal.aborted) return;
        const ce = ConnectError.from(err);
        setStatus(ce.code === Code.NotFound ? { state: "missing" } : { state: "retrying", reason: ce.rawMessage || "connection lost" });
      }
      timer = setTimeout(() => void run(), backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
    void run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [showtimeId, store, transport]);

  return status;
}
