/**
 * The scanner's offline mode. When a check-in cannot reach the platform, the scanner verifies the
 * ticket itself: the payload's Ed25519 signature against the public signing keys it fetched
 * earlier (ListSigningKeys, kept in localStorage), with WebCrypto, and the payload's layout with
 * the codec the service uses (lib/ticket-payload.ts). It lets the holder in, queues the scan with
 * the time it was made, and uploads the queue (UploadScans) once the platform answers again; the
 * service then reconciles by scan time and says which scans were duplicates.
 *
 * What a scanner cannot know offline: that a ticket was voided, or used at another gate
 * meanwhile. Both come back in the upload's results.
 */
import { useQuery } from "@connectrpc/connect-query";
import { useEffect, useMemo } from "react";
import { TicketsService } from "../../../gen/ticketing/tickets/v1/tickets_pb";
import { parsePayload, PayloadFormatError } from "../../../lib/ticket-payload";

const KEYS_STORAGE = "door.signingKeys";
const QUEUE_STORAGE = "door.offlineScans";

export interface StoredKey {
  keyId: string;
  /** Raw 32-byte Ed25519 public key, base64url without padding. */
  publicKey: string;
}

/** A scan made offline, waiting to be uploaded. */
export interface QueuedScan {
  /** Local identity, to remove exactly the scans an upload carried. */
  id: string;
  payload: string;
  gate: string;
  showtimeId: string;
  /** ISO time the scan was made. */
  scannedAt: string;
  ticketId: string;
  seatId: string;
  holder: string;
}

function readJson<T>(key: string, fallback: T): T {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

/**
 * The public keys that verify tickets: fetched when the page opens and every few minutes, kept in
 * localStorage so that a scanner that loses the network (or is reloaded without it) still has them.
 */
export function useSigningKeys(): StoredKey[] {
  const q = useQuery(TicketsService.method.listSigningKeys, {}, { staleTime: 5 * 60_000, refetchInterval: 10 * 60_000, retry: false });
  const fetched = useMemo(() => q.data?.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })), [q.data]);
  useEffect(() => {
    if (fetched && fetched.length > 0) localStorage.setItem(KEYS_STORAGE, JSON.stringify(fetched));
  }, [fetched]);
  return fetched && fetched.length > 0 ? fetched : readJson<StoredKey[]>(KEYS_STORAGE, []);
}

export function readQueue(): QueuedScan[] {
  return readJson<QueuedScan[]>(QUEUE_STORAGE, []);
}

export function appendToQueue(scan: QueuedScan): void {
  localStorage.setItem(QUEUE_STORAGE, JSON.stringify([...readQueue(), scan]));
}

/** Removes the scans an upload carried (scans queued meanwhile stay). */
export function removeFromQueue(ids: ReadonlySet<string>): void {
  localStorage.setItem(QUEUE_STORAGE, JSON.stringify(readQueue().filter((s) => !ids.has(s.id))));
}

function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Imported keys by id (importing is asynchronous and the same few keys verify every scan). */
const imported = new Map<string, Promise<CryptoKey>>();

function importKey(key: StoredKey): Promise<CryptoKey> {
  const cacheKey = `${key.keyId}:${key.publicKey}`;
  let p = imported.get(cacheKey);
  if (!p) {
    p = crypto.subtle.importKey("raw", base64UrlToBytes(key.publicKey), { name: "Ed25519" }, false, ["verify"]);
    imported.set(cacheKey, p);
    p.catch(() => imported.delete(cacheKey));
  }
  return p;
}

export type OfflineVerdict =
  | { result: "valid"; ticketId: string; showtimeId: string; seatId: string; holder: string }
  | { result: "wrong_showtime"; ticketId: string; showtimeId: string; seatId: string; holder: string; reason: string }
  | { result: "invalid"; reason: string }
  /** The scanner cannot tell: it has no keys (it never reached the platform) or no Ed25519. */
  | { result: "unverifiable"; reason: string };

/** Verifies a payload with the public keys alone, as the service would. */
export async function verifyOffline(payload: string, keys: readonly StoredKey[], showtimeId: string): Promise<OfflineVerdict> {
  let parsed;
  try {
    parsed = parsePayload(payload);
  } catch (err) {
    if (err instanceof PayloadFormatError) return { result: "invalid", reason: `not a ticket: ${err.message}` };
    throw err;
  }
  if (keys.length === 0) return { result: "unverifiable", reason: "this scanner has no signing keys yet: it needs the network once" };
  const key = keys.find((k) => k.keyId === parsed.fields.keyId);
  if (!key) return { result: "invalid", reason: "signed with a key this scanner does not know" };
  let ok: boolean;
  try {
    const signature = Uint8Array.from(parsed.signature);
    const signed = Uint8Array.from(parsed.signed);
    ok = await crypto.subtle.verify({ name: "Ed25519" }, await importKey(key), signature, signed);
  } catch {
    return { result: "unverifiable", reason: "this browser cannot verify Ed25519 signatures" };
  }
  if (!ok) return { result: "invalid", reason: "the signature does not match: forged or altered" };
  const { ticketId, seatId, holder } = parsed.fields;
  if (showtimeId && parsed.fields.showtimeId !== showtimeId.toLowerCase()) {
    return { result: "wrong_showtime", ticketId, showtimeId: parsed.fields.showtimeId, seatId, holder, reason: "this ticket is for another showtime" };
  }
  return { result: "valid", ticketId, showtimeId: parsed.fields.showtimeId, seatId, holder };
}
