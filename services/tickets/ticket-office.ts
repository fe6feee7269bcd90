import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import { AppError, alreadyExists, invalidArgument } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import { initialsOf, MAX_SEAT_ID_BYTES } from "../../lib/ticket-payload.js";
import type { NewTicket, TicketRecord, TicketsRepo } from "./db/repo.js";
import type { ScanAt } from "./domain/reconcile.js";
import { REASON_TEXT, signPayload } from "./domain/signing.js";
import type { Keyring } from "./keyring.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SEATS = 100;
const encoder = new TextEncoder();

export interface IssueInput {
  bookingId: string;
  showtimeId: string;
  userId: string;
  seatIds: string[];
  /** Printed as initials; when empty, the user's display name from the users service. */
  holderName?: string;
}

export interface ScanRequest {
  payload: string;
  gate: string;
  scannedAt: Date;
  /** The showtime the gate admits to, when it says. */
  showtimeId?: string;
  /** The door user or admin scanning. */
  scannedBy?: string;
}

export type ScanResult = "admitted" | "already_used" | "voided" | "wrong_showtime" | "invalid";

/** What a scanner shows (CheckInResult on the wire). */
export interface ScanAnswer {
  result: ScanResult;
  ticketId?: string;
  showtimeId?: string;
  seatId?: string;
  holder?: string;
  firstScan?: ScanAt;
  supersededScan?: ScanAt;
  reason?: string;
}

export interface TicketOfficeDeps {
  repo: TicketsRepo;
  keyring: Keyring;
  /** The users service with this service's credential: GetUser (the holder's name). */
  users: Pick<Client<typeof UsersService>, "getUser">;
  logger: Logger;
}

/**
 * Issuing, voiding and checking in tickets: what the RPCs and the activities share.
 * Bad input throws AppError InvalidArgument (a business rejection for the activities); a users
 * service that cannot be reached throws AppError Unavailable (transient).
 */
export class TicketOffice {
  constructor(private readonly deps: TicketOfficeDeps) {}

  /**
   * A confirmed booking's tickets, one per seat, signed with the active key. Idempotent per
   * booking: seats that have a ticket keep it (a retried activity gets the same ids and
   * payloads), and when every seat has one nothing is looked up or signed.
   */
  async issue(input: IssueInput): Promise<TicketRecord[]> {
    checkIssueInput(input);
    const wanted = (all: TicketRecord[]) => {
      const bySeat = new Map(all.map((t) => [t.seatId, t]));
      return input.seatIds.map((s) => bySeat.get(s)).filter((t): t is TicketRecord => t !== undefined);
    };
    const existing = await this.deps.repo.byBooking(input.bookingId);
    checkSameBooking(input, existing);
    if (wanted(existing).length === input.seatIds.length) return wanted(existing);
    const holder = await this.holderOf(input);
    const key = await this.deps.keyring.activeKey();
    const have = new Set(existing.map((t) => t.seatId));
    const fresh: NewTicket[] = [];
    input.seatIds.forEach((seatId, seatIndex) => {
      if (have.has(seatId)) return;
      const ticketId = randomUUID();
      const payload = signPayload({ keyId: key.keyId, ticketId, showtimeId: input.showtimeId.toLowerCase(), seatId, holder }, key);
      fresh.push({ ticketId, bookingId: input.bookingId, showtimeId: input.showtimeId, userId: input.userId, seatId, seatIndex, holder, payload, keyId: key.keyId });
    });
    const all = await this.deps.repo.issue(fresh);
    checkSameBooking(input, all);
    this.deps.logger.info({ bookingId: input.bookingId, tickets: fresh.length, keyId: key.keyId }, "tickets issued");
    return wanted(all);
  }

  /** Voids a booking's tickets (cancelled or refunded); returns how many this call voided. */
  async void(bookingId: string): Promise<number> {
    if (!UUID.test(bookingId)) throw invalidArgument("bookingId", "value must be a valid UUID");
    const n = await this.deps.repo.void(bookingId);
    if (n > 0) this.deps.logger.info({ bookingId, voided: n }, "tickets voided");
    return n;
  }

  /** An online scan: admits the ticket once (TicketsRepo.checkInOnline). */
  async checkIn(req: ScanRequest): Promise<ScanAnswer> {
    return this.scan(req, (s) => this.deps.repo.checkInOnline(s));
  }

  /** Scans made offline, each reconciled by its time (TicketsRepo.checkInOffline), in order. */
  async upload(scans: ScanRequest[]): Promise<ScanAnswer[]> {
    const out: ScanAnswer[] = [];
    for (const s of scans) out.push(await this.scan(s, (x) => this.deps.repo.checkInOffline(x)));
    return out;
  }

  private async scan(req: ScanRequest, record: TicketsRepo["checkInOnline"]): Promise<ScanAnswer> {
    const payload = req.payload.trim();
    const v = await this.deps.keyring.verify(payload);
    if (!v.ok) return { result: "invalid", reason: REASON_TEXT[v.reason] };
    const f = v.fields;
    const about = { ticketId: f.ticketId, showtimeId: f.showtimeId, seatId: f.seatId, holder: f.holder };
    if (req.showtimeId && req.showtimeId.toLowerCase() !== f.showtimeId) {
      return { result: "wrong_showtime", ...about, reason: "this ticket is for another showtime" };
    }
    const outcome = await record({ ticketId: f.ticketId, payload, scannedAt: req.scannedAt, gate: req.gate, scannedBy: req.scannedBy });
    switch (outcome.kind) {
      case "unknown":
        return { result: "invalid", reason: "not a ticket issued here (unknown ticket id)" };
      case "mismatch":
        return { result: "invalid", reason: "does not match the ticket issued under this id" };
      case "voided":
        return { result: "voided", ...about, reason: "the booking was cancelled or refunded" };
      case "admitted":
        return { result: "admitted", ...about, firstScan: outcome.scan, supersededScan: outcome.superseded };
      case "already_used":
        return { result: "already_used", ...about, firstScan: outcome.first };
    }
  }

  /** Initials of the holder: the given name, else the user's display name (none if the account is gone). */
  private async holderOf(input: IssueInput): Promise<string> {
    if (input.holderName?.trim()) return initialsOf(input.holderName);
    try {
      const { user } = await this.deps.users.getUser({ userId: input.userId });
      return initialsOf(user?.displayName ?? "");
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.NotFound) {
        // the ticket stays valid without initials: the booking was paid for
        this.deps.logger.warn({ userId: input.userId, bookingId: input.bookingId }, "booking's user not found; tickets without initials");
        return "";
      }
      this.deps.logger.warn({ err: ce, userId: input.userId }, "users GetUser failed");
      throw new AppError(Code.Unavailable, "the users service cannot be reached right now; try again");
    }
  }
}

function checkIssueInput(input: IssueInput): void {
  for (const field of ["bookingId", "showtimeId", "userId"] as const) {
    if (!UUID.test(input[field])) throw invalidArgument(field, "value must be a valid UUID");
  }
  if (input.seatIds.length < 1 || input.seatIds.length > MAX_SEATS) throw invalidArgument("seatIds", `1 to ${MAX_SEATS} seats`);
  const seen = new Set<string>();
  input.seatIds.forEach((s, i) => {
    if (s.length === 0) throw invalidArgument(`seatIds[${i}]`, "is empty");
    if (encoder.encode(s).length > MAX_SEAT_ID_BYTES) throw invalidArgument(`seatIds[${i}]`, `longer than ${MAX_SEAT_ID_BYTES} bytes`);
    if (seen.has(s)) throw invalidArgument(`seatIds[${i}]`, `${s} is listed twice`);
    seen.add(s);
  });
}

/** A booking's tickets belong to one showtime and user: a request that says otherwise is a caller's bug. */
function checkSameBooking(input: IssueInput, tickets: TicketRecord[]): void {
  const other = tickets.find((t) => t.showtimeId !== input.showtimeId.toLowerCase() || t.userId !== input.userId.toLowerCase());
  if (other) throw alreadyExists(`bookingId: booking ${input.bookingId} has tickets for another showtime or user`);
}
