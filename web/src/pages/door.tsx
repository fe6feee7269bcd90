/**
 * The door scanner, for door staff and admins: the showtime being admitted to (`?showtime=`
 * pre-fills it) and the gate's name (remembered on this device), the camera reading QR codes
 * (door/camera.ts), a field to type or paste a code, the big answer (door/scan-result.tsx) and
 * the showtime's counts. After any answer it is ready for the next ticket at once: the camera
 * keeps reading, and the field is empty and focused again. Offline, tickets are verified on the
 * device and the scans uploaded later (door/offline.ts).
 */
import { skipToken, useQuery } from "@connectrpc/connect-query";
import { useCallback, useId, useRef, useState, type FormEvent } from "react";
import { useLocation, useSearch } from "wouter";
import { TicketsService } from "../../../gen/ticketing/tickets/v1/tickets_pb";
import { useShowtimeInfo } from "../api/catalog";
import { RequireUser } from "../components/require-user";
import { ErrorNote } from "../components/status";
import { useQrCamera } from "../door/camera";
import { ScanResult } from "../door/scan-result";
import { useScanner, type Scanner } from "../door/use-scanner";
import { formatClock, formatDateTime, plural } from "../lib/format";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GATE_STORAGE = "door.gate";
/** Other gates admit people too: the counts are read again this often, and after every admission here. */
const STATS_REFRESH_MS = 15_000;

export default function DoorPage() {
  return (
    <RequireUser>
      {(user) =>
        user.role === "door" || user.role === "admin" ? (
          <DoorScanner />
        ) : (
          <>
            <h1>Door staff only</h1>
            <p>The scanner is for the staff who check tickets at the entrance. You are signed in as {user.email}.</p>
          </>
        )
      }
    </RequireUser>
  );
}

function DoorScanner() {
  const ids = useId();
  const [, navigate] = useLocation();
  const [showtimeText, setShowtimeText] = useState(() => new URLSearchParams(window.location.search).get("showtime") ?? "");
  const [gate, setGate] = useState(() => localStorage.getItem(GATE_STORAGE) ?? "");
  const search = useSearch();
  const showtimeId = showtimeText.trim();
  const showtimeOk = showtimeId === "" || UUID.test(showtimeId);
  const validShowtime = showtimeOk ? showtimeId : "";

  const stats = useQuery(TicketsService.method.getCheckInStats, validShowtime ? { showtimeId: validShowtime } : skipToken, {
    refetchInterval: STATS_REFRESH_MS,
    retry: false,
  });
  const refetchStats = stats.refetch;
  const onAdmitted = useCallback(() => void refetchStats(), [refetchStats]);
  const scanner = useScanner({ showtimeId: validShowtime, gate: gate.trim(), onAdmitted });
  const { fromCamera } = scanner;
  const camera = useQrCamera(
    useCallback(
      (code: string) => {
        if (showtimeOk) fromCamera(code);
      },
      [showtimeOk, fromCamera],
    ),
  );

  const changeShowtime = (text: string) => {
    setShowtimeText(text);
    // the address keeps the showtime, so a reload or a bookmark opens the same door
    const params = new URLSearchParams(search);
    if (text.trim()) params.set("showtime", text.trim());
    else params.delete("showtime");
    const query = params.toString();
    navigate(`/door${query ? `?${query}` : ""}`, { replace: true });
  };
  const changeGate = (text: string) => {
    setGate(text);
    localStorage.setItem(GATE_STORAGE, text.trim());
  };

  return (
    <div className="door">
      <h1>Door scanner</h1>
      <form className="card door-setup" onSubmit={(e) => e.preventDefault()} aria-label="Door settings">
        <div>
          <label htmlFor={`${ids}-showtime`}>Showtime id</label>
          <input
            id={`${ids}-showtime`}
            value={showtimeText}
            onChange={(e) => changeShowtime(e.target.value)}
            spellCheck={false}
            autoComplete="off"
            aria-describedby={`${ids}-showtime-note`}
            aria-invalid={!showtimeOk}
          />
          <ShowtimeNote id={`${ids}-showtime-note`} showtimeId={validShowtime} wellFormed={showtimeOk} />
        </div>
        <div>
          <label htmlFor={`${ids}-gate`}>Gate</label>
          <input id={`${ids}-gate`} value={gate} onChange={(e) => changeGate(e.target.value)} maxLength={64} autoComplete="off" placeholder="e.g. north-2" />
          <p className="hint">Remembered on this device.</p>
        </div>
      </form>

      {validShowtime && (
        <section className="door-counts" aria-label="Check-in counts">
          {stats.data ? (
            <p>
              <strong>{stats.data.admitted.toLocaleString()}</strong> admitted of <strong>{stats.data.sold.toLocaleString()}</strong> sold
              {stats.data.voided > 0n && <span className="muted"> · {stats.data.voided.toLocaleString()} voided</span>}
              {stats.data.duplicateEntries > 0n && (
                <span className="muted"> · {plural(Number(stats.data.duplicateEntries), "duplicate entry", "duplicate entries")}</span>
              )}
            </p>
          ) : (
            <ErrorNote error={stats.error} />
          )}
        </section>
      )}

      <div className="door-layout">
        <ScanResult outcome={scanner.outcome} />
        <div className="door-inputs">
          <CameraPanel camera={camera} />
          <ManualEntry scanner={scanner} blocked={!showtimeOk} />
        </div>
      </div>
      <OfflinePanel scanner={scanner} />
    </div>
  );
}

function ShowtimeNote({ id, showtimeId, wellFormed }: { id: string; showtimeId: string; wellFormed: boolean }) {
  const info = useShowtimeInfo(showtimeId || undefined);
  if (!wellFormed)
    return (
      <p id={id} className="error" role="alert">
        A showtime id looks like 3f2b8c1e-0d4a-4c6b-9a7e-1b2c3d4e5f60. Scanning waits for a valid one.
      </p>
    );
  if (!showtimeId)
    return (
      <p id={id} className="hint">
        Without a showtime, tickets for any showtime are admitted.
      </p>
    );
  return (
    <p id={id} className="hint">
      {info.event ? `${info.event.name}, ${formatDateTime(info.showtime?.timestamp)}${info.venue ? `, ${info.venue.name}` : ""}` : info.error ? "Unknown showtime." : "…"}
    </p>
  );
}

function CameraPanel({ camera }: { camera: ReturnType<typeof useQrCamera> }) {
  const { state } = camera;
  const running = state.status === "on" || state.status === "starting";
  return (
    <section className="card door-camera" aria-label="Camera">
      {/* always in the page, so that the camera hook has an element to play into */}
      <video ref={camera.videoRef} className={running ? "" : "hidden"} muted playsInline aria-label="Camera view" />
      {state.status === "starting" && <p className="loading">Starting the camera…</p>}
      {state.status === "on" && <p className="live-status live">Scanning: hold a code in front of the camera.</p>}
      {state.status === "failed" && (
        <p role="alert" className="error">
          {state.message}
        </p>
      )}
      {running ? (
        <button type="button" onClick={camera.stop}>
          Stop camera
        </button>
      ) : (
        <button type="button" className="primary" onClick={camera.start}>
          Start camera
        </button>
      )}
    </section>
  );
}

function ManualEntry({ scanner, blocked }: { scanner: Scanner; blocked: boolean }) {
  const id = useId();
  const [code, setCode] = useState("");
  const input = useRef<HTMLInputElement>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // the showtime field says what is wrong; what was typed stays
    if (blocked) return;
    const payload = code;
    // ready for the next code at once, whatever this one turns out to be
    setCode("");
    input.current?.focus();
    if (payload.trim()) void scanner.check(payload);
  };
  return (
    <form className="card door-manual" onSubmit={submit} aria-label="Type a code">
      <label htmlFor={id}>Ticket code</label>
      <input
        ref={input}
        id={id}
        value={code}
        onChange={(e) => setCode(e.target.value)}
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        placeholder="TK1:…"
        aria-describedby={`${id}-hint`}
      />
      <p id={`${id}-hint`} className="hint">
        When the camera cannot read a code: type or paste it, then press Enter.
      </p>
      <button type="submit" disabled={blocked}>
        Check in
      </button>
    </form>
  );
}

const RESULT_WORDS: Record<string, string> = {
  admitted: "admitted",
  already_used: "already used",
  voided: "voided",
  wrong_showtime: "wrong showtime",
  invalid: "invalid",
};

function OfflinePanel({ scanner }: { scanner: Scanner }) {
  const { pending, uploads, uploadError } = scanner;
  if (pending === 0 && !uploads && !uploadError) return null;
  return (
    <section className="card door-offline" aria-labelledby="offline-heading">
      <h2 id="offline-heading">Offline scans</h2>
      {pending > 0 && (
        <p role="status">
          {pending === 1 ? "1 scan made offline is" : `${pending} scans made offline are`} waiting to be uploaded. They go as soon as the network is back.
        </p>
      )}
      <ErrorNote error={uploadError}>The offline scans could not be uploaded: </ErrorNote>
      {uploads && (
        <>
          <p>
            Uploaded {uploads.lines.length === 1 ? "1 scan" : `${uploads.lines.length} scans`} at {formatClock(uploads.at)}:
          </p>
          <ul className="upload-results">
            {uploads.lines.map(({ scan, result }) => (
              <li key={scan.id}>
                Seat {scan.seatId} ({scan.holder}), scanned {formatClock(new Date(scan.scannedAt))}: <strong>{RESULT_WORDS[result?.result ?? ""] ?? "no answer"}</strong>
                {result?.result === "already_used" && result.firstScan && (
                  <> — it was used earlier, at {formatClock(result.firstScan.scannedAt)} {result.firstScan.gate ? `at gate ${result.firstScan.gate}` : ""}: a duplicate entry</>
                )}
                {result?.supersededScan && (
                  <>
                    {" "}
                    — a later scan at {formatClock(result.supersededScan.scannedAt)}
                    {result.supersededScan.gate ? ` at gate ${result.supersededScan.gate}` : ""} also let this ticket in: a duplicate entry
                  </>
                )}
                {result?.reason && <> — {result.reason}</>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
