/**
 * The waiting room of an on-sale, seen from the buyer's side (AdmissionService): whether a
 * showtime has a room on, the buyer's place in it, live over the WatchMyQueueEntry stream with
 * GetMyQueueEntry polling as the fallback, and the admission token a hold needs while the room is
 * on. The place lives on the server (one per user and showtime), so every tab and device shows
 * the same one and a reload loses nothing.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { skipToken, useQuery, useTransport } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "react";
import { AdmissionService, type QueueEntry, type WaitingRoom } from "../../../gen/ticketing/admission/v1/admission_pb";
import { useSessionObject } from "../auth/use-session";

/** How often the page asks for its place when the stream cannot be kept open. */
const POLL_MS = 5_000;
const MAX_BACKOFF_MS = 15_000;

export interface RoomState {
  /** A room is on for this showtime (holds need a token). */
  active: boolean;
  room?: WaitingRoom;
  isPending: boolean;
}

/** The showtime's room; a showtime that never had one (404) has none, and that is not an error. */
export function useWaitingRoom(showtimeId: string): RoomState {
  const q = useQuery(AdmissionService.method.getWaitingRoom, { showtimeId }, { retry: false, staleTime: 10_000 });
  const room = q.data?.room;
  return { active: !!room && room.enabled && room.state !== "closed", room, isPending: q.isPending && !q.error };
}

/**
 * The caller's entry while they hold a turn: its admission token and the window's end. Used by the
 * seat map to hold with the token; `undefined` token when not (or no longer) admitted.
 */
export function useAdmissionToken(showtimeId: string, enabled: boolean): { token?: string; expiresAtMs?: number; entry?: QueueEntry } {
  const q = useQuery(AdmissionService.method.getMyQueueEntry, enabled ? { showtimeId } : skipToken, { retry: false });
  const entry = q.data?.entry;
  if (!entry || entry.status !== "admitted" || !entry.admissionToken) return { entry };
  const expiresAtMs = entry.admissionExpiresAt ? timestampMs(entry.admissionExpiresAt) : undefined;
  if (expiresAtMs !== undefined && expiresAtMs <= Date.now()) return { entry };
  return { token: entry.admissionToken, expiresAtMs, entry };
}

export type EntryFeed =
  | { state: "joining"; retryInSeconds?: number }
  | { state: "live"; entry: QueueEntry }
  | { state: "polling"; entry?: QueueEntry; reason: string }
  | { state: "failed"; error: unknown };

/** Statuses after which the entry will not change any more. */
export function isFinal(entry: QueueEntry | undefined): boolean {
  return !!entry && (entry.status === "admitted" || entry.status === "lapsed" || entry.status === "closed");
}

/**
 * Joins the room (idempotent: an existing place is kept) and follows the caller's entry: the
 * stream first; when it breaks, one poll right away and then every few seconds while it
 * reconnects with backoff. Stops once the entry is final.
 */
export function useQueueEntry(showtimeId: string): EntryFeed {
  const transport = useTransport();
  const session = useSessionObject();
  const [feed, setFeed] = useState<EntryFeed>({ state: "joining" });

  useEffect(() => {
    const client = createClient(AdmissionService, transport);
    const abort = new AbortController();
    let last: QueueEntry | undefined;
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let backoff = 1_000;
    let knockWait = 0;

    const show = (entry: QueueEntry, live: boolean, reason = "") => {
      last = entry;
      setFeed(live ? { state: "live", entry } : { state: "polling", entry, reason });
      if (isFinal(entry)) stopPolling();
    };
    const stopPolling = () => {
      clearInterval(pollTimer);
      pollTimer = undefined;
    };
    const poll = async (reason: string) => {
      try {
        const res = await client.getMyQueueEntry({ showtimeId }, { signal: abort.signal });
        if (res.entry) show(res.entry, false, reason);
      } catch (err) {
        if (!abort.signal.aborted && ConnectError.from(err).code === Code.Unauthenticated) await session.refresh();
      }
    };
    const startPolling = (reason: string) => {
      if (pollTimer || isFinal(last)) return;
      void poll(reason);
      pollTimer = setInterval(() => void poll(reason), POLL_MS);
    };

    const watch = async () => {
      try {
        for await (const msg of client.watchMyQueueEntry({ showtimeId }, { signal: abort.signal })) {
          if (!msg.entry) continue;
          backoff = 1_000;
          stopPolling();
          show(msg.entry, true);
        }
        if (abort.signal.aborted || isFinal(last)) return;
        startPolling("the live queue closed; checking every few seconds");
      } catch (err) {
        if (abort.signal.aborted) return;
        const ce = ConnectError.from(err);
        if (ce.code === Code.Unauthenticated) await session.refresh();
        startPolling(ce.rawMessage || "connection lost; checking every few seconds");
      }
      if (isFinal(last)) return;
      retryTimer = setTimeout(() => void watch(), backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };

    const join = async () => {
      try {
        const res = await client.joinWaitingRoom({ showtimeId }, { signal: abort.signal });
        if (res.entry) show(res.entry, true);
        if (!isFinal(last)) void watch();
      } catch (err) {
        if (abort.signal.aborted) return;
        const ce = ConnectError.from(err);
        // the room sheds a rush at its door (429 with Retry-After): knock again when it says
        if (ce.code === Code.ResourceExhausted) {
          // at least what the room asks, doubling with each refusal up to 30 s, so a crowd's
          // knocks thin out instead of coming back all at once
          knockWait = Math.min(30, Math.max(Number(ce.metadata.get("retry-after")) || 2, knockWait * 2));
          const seconds = knockWait;
          setFeed({ state: "joining", retryInSeconds: seconds });
          retryTimer = setTimeout(() => void join(), seconds * 1000 * (0.8 + Math.random() * 0.4));
          return;
        }
        setFeed({ state: "failed", error: err });
      }
    };
    void join();
    return () => {
      abort.abort();
      stopPolling();
      clearTimeout(retryTimer);
    };
  }, [showtimeId, transport, session]);

  return feed;
}
