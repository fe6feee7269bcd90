/**
 * What the door scanner does with a code, from the camera or typed: CheckIn with the gate and the
 * showtime being admitted to, and the answer as one outcome for the big result panel. When the
 * platform cannot be reached, the code is verified on the device instead (offline.ts) and the
 * scan queued; queued scans are uploaded as soon as the platform answers again, and the upload's
 * reconciliation is reported.
 *
 * The calls go through a client on the app's one transport rather than connect-query's mutation:
 * a scanner needs a deadline on each call (a half-open network must fall back to offline in
 * seconds, not hang), which the mutation hook cannot set.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { TicketsService, type CheckInResult } from "../../../gen/ticketing/tickets/v1/tickets_pb";
import { errorMessage } from "../api/errors";
import { repeatFilter } from "./repeat-filter";
import { appendToQueue, readQueue, removeFromQueue, useSigningKeys, verifyOffline, type QueuedScan } from "./offline";

/** The same code seen again by the camera within this long is the same scan, not a new one. */
const REPEAT_MS = 2_500;
const CHECK_IN_DEADLINE_MS = 6_000;
const UPLOAD_DEADLINE_MS = 20_000;
/** While scans wait to be uploaded, the scanner tries again this often (and at once when the browser says it is online). */
const UPLOAD_RETRY_MS = 15_000;

export const OUTCOME_KINDS = ["admitted", "already_used", "voided", "wrong_showtime", "invalid", "error"] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export interface Outcome {
  /** Counts up with every scan, so that the same answer twice is still a new announcement. */
  seq: number;
  kind: OutcomeKind;
  /** Decided on this device without the platform. */
  offline: boolean;
  seatId: string;
  holder: string;
  /** The admission: this scan's for "admitted", the earlier one's for "already_used". */
  firstScan?: { at?: Date; gate: string };
  reason: string;
  scannedAt: Date;
}

export interface UploadReport {
  at: Date;
  lines: Array<{ scan: QueuedScan; result?: CheckInResult }>;
}

/** The platform did not answer (no network, gateway or service down, or too slow): offline mode. */
function unreachable(err: unknown): boolean {
  if (!navigator.onLine) return true;
  const ce = ConnectError.from(err);
  return ce.code === Code.Unavailable || ce.code === Code.DeadlineExceeded || (ce.code === Code.Unknown && ce.cause instanceof TypeError);
}

function outcomeOf(r: CheckInResult | undefined, scannedAt: Date): Omit<Outcome, "seq"> {
  const kind = (OUTCOME_KINDS as readonly string[]).includes(r?.result ?? "") ? (r?.result as OutcomeKind) : "invalid";
  const first = r?.firstScan;
  return {
    kind,
    offline: false,
    seatId: r?.seatId ?? "",
    holder: r?.holder ?? "",
    firstScan: first ? { at: first.scannedAt ? timestampDate(first.scannedAt) : undefined, gate: first.gate } : undefined,
    reason: r?.reason ?? "",
    scannedAt,
  };
}

export interface Scanner {
  outcome?: Outcome;
  /** A check-in is on its way. */
  busy: boolean;
  /** Checks a code in (typed or pasted). */
  check(payload: string): Promise<void>;
  /** What the camera saw: checked in unless it is the code it just saw. */
  fromCamera(payload: string): void;
  /** Scans made offline waiting to be uploaded. */
  pending: number;
  uploads?: UploadReport;
  uploadError?: unknown;
}

export function useScanner({ showtimeId, gate, onAdmitted }: { showtimeId: string; gate: string; onAdmitted: () => void }): Scanner {
  const transport = useTransport();
  const client = useMemo(() => createClient(TicketsService, transport), [transport]);
  const keys = useSigningKeys();
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState(() => readQueue().length);
  const [uploads, setUploads] = useState<UploadReport>();
  const [uploadError, setUploadError] = useState<unknown>();
  const seq = useRef(0);
  const inFlight = useRef(0);
  const repeats = useRef(repeatFilter(REPEAT_MS));
  /** Tickets admitted through this scanner (online or off), for telling a second scan apart offline. */
  const admittedHere = useRef(new Map<string, { at: Date; gate: string }>());
  const uploading = useRef(false);
  const onAdmittedRef = useRef(onAdmitted);
  useEffect(() => {
    onAdmittedRef.current = onAdmitted;
  }, [onAdmitted]);

  const show = useCallback((o: Omit<Outcome, "seq">) => setOutcome({ ...o, seq: ++seq.current }), []);

  const upload = useCallback(async () => {
    if (uploading.current) return;
    const batch = readQueue().slice(0, 1000);
    if (batch.length === 0) return;
    uploading.current = true;
    try {
      const res = await client.uploadScans(
        { scans: batch.map((s) => ({ payload: s.payload, gate: s.gate, showtimeId: s.showtimeId, scannedAt: timestampFromDate(new Date(s.scannedAt)) })) },
        { timeoutMs: UPLOAD_DEADLINE_MS },
      );
      removeFromQueue(new Set(batch.map((s) => s.id)));
      setUploads({ at: new Date(), lines: batch.map((scan, i) => ({ scan, result: res.results[i] })) });
      setUploadError(undefined);
      onAdmittedRef.current();
    } catch (err) {
      // still offline: the next attempt will do; anything else is shown (the scans stay queued)
      if (!unreachable(err)) setUploadError(err);
    } finally {
      uploading.current = false;
      setPending(readQueue().length);
    }
  }, [client]);

  // upload what an earlier visit left, when the browser comes back online, and every little while
  useEffect(() => {
    const now = () => void upload();
    now();
    window.addEventListener("online", now);
    return () => window.removeEventListener("online", now);
  }, [upload]);
  useEffect(() => {
    if (pending === 0) return;
    const timer = setInterval(() => void upload(), UPLOAD_RETRY_MS);
    return () => clearInterval(timer);
  }, [pending, upload]);

  const checkOffline = useCallback(
    async (payload: string, scannedAt: Date) => {
      const v = await verifyOffline(payload, keys, showtimeId);
      const base = { offline: true, scannedAt, firstScan: undefined };
      switch (v.result) {
        case "unverifiable":
          return show({ ...base, kind: "error", seatId: "", holder: "", reason: `Offline, and ${v.reason}.` });
        case "invalid":
          return show({ ...base, kind: "invalid", seatId: "", holder: "", reason: v.reason });
        case "wrong_showtime":
          return show({ ...base, kind: "wrong_showtime", seatId: v.seatId, holder: v.holder, reason: v.reason });
      }
      const earlier = admittedHere.current.get(v.ticketId);
      if (earlier) return show({ ...base, kind: "already_used", seatId: v.seatId, holder: v.holder, firstScan: earlier, reason: "" });
      admittedHere.current.set(v.ticketId, { at: scannedAt, gate });
      appendToQueue({ id: crypto.randomUUID(), payload, gate, showtimeId, scannedAt: scannedAt.toISOString(), ticketId: v.ticketId, seatId: v.seatId, holder: v.holder });
      setPending(readQueue().length);
      show({ ...base, kind: "admitted", seatId: v.seatId, holder: v.holder, firstScan: { at: scannedAt, gate }, reason: "" });
    },
    [keys, showtimeId, gate, show],
  );

  const check = useCallback(
    async (raw: string) => {
      const payload = raw.trim();
      if (!payload) return;
      const scannedAt = new Date();
      inFlight.current++;
      setBusy(true);
      try {
        const res = await client.checkIn({ payload, gate, showtimeId }, { timeoutMs: CHECK_IN_DEADLINE_MS });
        const o = outcomeOf(res.result, scannedAt);
        show(o);
        if (o.kind === "admitted") {
          if (res.result?.ticketId) admittedHere.current.set(res.result.ticketId, { at: o.firstScan?.at ?? scannedAt, gate });
          onAdmittedRef.current();
        }
        // the platform answers: anything queued while it did not can go now
        if (readQueue().length > 0) void upload();
      } catch (err) {
        if (unreachable(err)) await checkOffline(payload, scannedAt);
        else if (ConnectError.from(err).code === Code.InvalidArgument) show({ ...outcomeOf(undefined, scannedAt), reason: errorMessage(err) });
        else show({ ...outcomeOf(undefined, scannedAt), kind: "error", reason: errorMessage(err) });
      } finally {
        if (--inFlight.current === 0) setBusy(false);
      }
    },
    [client, gate, showtimeId, show, checkOffline, upload],
  );

  const fromCamera = useCallback(
    (payload: string) => {
      if (!repeats.current.isNewScan(payload, Date.now())) return;
      // another code while one is being checked: taken at its next sighting, once the answer is in
      if (inFlight.current > 0) return repeats.current.forget(payload);
      void check(payload);
    },
    [check],
  );

  return { outcome, busy, check, fromCamera, pending, uploads, uploadError };
}
