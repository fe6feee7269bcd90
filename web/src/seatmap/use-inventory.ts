/**
 * Feeds a SeatStore from BookingService.WatchInventory, the server stream of a showtime's seat
 * map (first the whole map, then every change). The stream opens as soon as the page knows who
 * is watching, in parallel with the hall's layout (a 20,000-seat layout and snapshot are each
 * large): what arrives before the store exists is kept and handed to it when it does. A broken
 * stream reconnects with backoff and starts again from a fresh snapshot; an inventory that is not
 * initialised yet (a showtime just created) is retried too.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { useEffect, useRef, useState } from "react";
import { BookingService, type InventorySeat } from "../../../gen/ticketing/booking/v1/booking_pb";
import { useSessionObject } from "../auth/use-session";
import type { SeatStore } from "./store";

export type StreamState =
  | { state: "connecting" }
  | { state: "live"; maxSeatsPerHold: number }
  | { state: "retrying"; reason: string }
  | { state: "missing" };

const MAX_BACKOFF_MS = 10_000;

/** The latest state of every seat one stream has told about, for a store that attaches late. */
interface Feed {
  /** Whose stream: `<showtimeId> <viewer>`. */
  key: string;
  seats: Map<string, InventorySeat>;
  loaded: boolean;
}

/**
 * `viewer` identifies who watches (holds are masked per viewer, so a new viewer re-opens the
 * stream); undefined while that is not known yet, and nothing is opened.
 */
export function useInventoryStream(
  showtimeId: string,
  viewer: string | undefined,
  store: SeatStore | undefined,
  onLost?: (seatIds: string[]) => void,
): StreamState {
  const transport = useTransport();
  const session = useSessionObject();
  const [status, setStatus] = useState<StreamState>({ state: "connecting" });
  const key = `${showtimeId} ${viewer}`;
  const feed = useRef<Feed>({ key: "", seats: new Map(), loaded: false });
  const storeRef = useRef(store);
  const lostRef = useRef(onLost);
  useEffect(() => {
    lostRef.current = onLost;
  }, [onLost]);

  // a store that appears (or is replaced) gets everything this viewer's stream knows so far (a
  // store for a new viewer waits for its own stream's snapshot)
  useEffect(() => {
    storeRef.current = store;
    const f = feed.current;
    if (store && f.loaded && f.key === key) store.replaceAll([...f.seats.values()]);
  }, [store, key]);

  useEffect(() => {
    if (viewer === undefined) return;
    const client = createClient(BookingService, transport);
    const abort = new AbortController();
    feed.current = { key: `${showtimeId} ${viewer}`, seats: new Map(), loaded: false };
    setStatus({ state: "connecting" });
    let backoff = 500;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const run = async () => {
      try {
        for await (const msg of client.watchInventory({ showtimeId }, { signal: abort.signal })) {
          const f = feed.current;
          const target = storeRef.current;
          if (msg.snapshot) {
            performance.mark("inventory-snapshot", { detail: { seats: msg.seats.length } });
            f.seats = new Map(msg.seats.map((s) => [s.seatId, s]));
            f.loaded = true;
            backoff = 500;
            target?.replaceAll(msg.seats);
            setStatus({ state: "live", maxSeatsPerHold: msg.maxSeatsPerHold || 10 });
          } else {
            for (const s of msg.seats) f.seats.set(s.seatId, s);
            const lost = target?.apply(msg.seats) ?? [];
            if (lost.length) lostRef.current?.(lost);
          }
        }
        if (abort.signal.aborted) return;
        setStatus({ state: "retrying", reason: "the live seat map closed" });
      } catch (err) {
        if (abort.signal.aborted) return;
        const ce = ConnectError.from(err);
        setStatus(ce.code === Code.NotFound ? { state: "missing" } : { state: "retrying", reason: ce.rawMessage || "connection lost" });
        // the access token ran out (streams are not retried by the transport): a fresh one first
        if (ce.code === Code.Unauthenticated) await session.refresh();
      }
      timer = setTimeout(() => void run(), backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
    void run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [showtimeId, viewer, transport, session]);

  return status;
}
