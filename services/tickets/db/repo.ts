import type { Knex } from "../../../lib/db.js";
import { reconcile, type ScanAt } from "../domain/reconcile.js";

export type TicketStatus = "valid" | "voided";

export interface TicketRecord {
  ticketId: string;
  bookingId: string;
  showtimeId: string;
  userId: string;
  seatId: string;
  holder: string;
  payload: string;
  keyId: string;
  status: TicketStatus;
  issuedAt: Date;
  /** The admission, when checked in. */
  checkedIn?: ScanAt;
}

/** A ticket to insert (its id and payload made and signed by the caller). */
export interface NewTicket {
  ticketId: string;
  bookingId: string;
  showtimeId: string;
  userId: string;
  seatId: string;
  seatIndex: number;
  holder: string;
  payload: string;
  keyId: string;
}

/** What the database says of a scan whose payload verified. */
export type CheckInOutcome =
  /** No ticket with that id here. */
  | { kind: "unknown" }
  /** A ticket with that id exists but its payload is not this one. */
  | { kind: "mismatch" }
  | { kind: "voided" }
  /** Admitted by this scan; `superseded` is the later admission it replaced (offline uploads). */
  | { kind: "admitted"; scan: ScanAt; superseded?: ScanAt }
  | { kind: "already_used"; first: ScanAt };

export interface ScanInput extends ScanAt {
  ticketId: string;
  /** The payload scanned (trimmed), which must be the one issued under `ticketId`. */
  payload: string;
  /** The door user or admin who scanned. */
  scannedBy?: string;
}

export interface CheckInStats {
  sold: number;
  admitted: number;
  voided: number;
  duplicateEntries: number;
}

interface TicketRow {
  id: string;
  booking_id: string;
  showtime_id: string;
  user_id: string;
  seat_id: string;
  holder: string;
  payload: string;
  key_id: string;
  status: TicketStatus;
  issued_at: Date;
  scanned_at: Date | null;
  gate: string | null;
}

function ticketOf(r: TicketRow): TicketRecord {
  return {
    ticketId: r.id,
    bookingId: r.booking_id,
    showtimeId: r.showtime_id,
    userId: r.user_id,
    seatId: r.seat_id,
    holder: r.holder,
    payload: r.payload,
    keyId: r.key_id,
    status: r.status,
    issuedAt: r.issued_at,
    checkedIn: r.scanned_at ? { scannedAt: r.scanned_at, gate: r.gate ?? "" } : undefined,
  };
}

export class TicketsRepo {
  constructor(readonly db: Knex) {}

  /** A booking's tickets with their admissions, in the order the seats were booked. */
  async byBooking(bookingId: string): Promise<TicketRecord[]> {
    const rows: TicketRow[] = await this.db("tickets as t")
      .leftJoin("checkins as c", "c.ticket_id", "t.id")
      .where("t.booking_id", bookingId)
      .orderBy("t.seat_index")
      .select("t.*", "c.scanned_at", "c.gate");
    return rows.map(ticketOf);
  }

  /**
   * Inserts the tickets a booking does not have yet (a concurrent or earlier issue of the same
   * booking and seat wins: its ticket stays) and returns all of the booking's tickets.
   */
  async issue(tickets: NewTicket[]): Promise<TicketRecord[]> {
    if (tickets.length === 0) return [];
    await this.db("tickets")
      .insert(
        tickets.map((t) => ({
          id: t.ticketId,
          booking_id: t.bookingId,
          showtime_id: t.showtimeId,
          user_id: t.userId,
          seat_id: t.seatId,
          seat_index: t.seatIndex,
          holder: t.holder,
          payload: t.payload,
          key_id: t.keyId,
        })),
      )
      .onConflict(["booking_id", "seat_id"])
      .ignore();
    return this.byBooking(tickets[0].bookingId);
  }

  /** Voids a booking's valid tickets; returns how many this call voided. */
  async void(bookingId: string): Promise<number> {
    return this.db("tickets").where({ booking_id: bookingId, status: "valid" }).update({ status: "voided", voided_at: this.db.fn.now() });
  }

  /**
   * An online check-in, in one statement: the ticket is read FOR SHARE (a void of it waits for
   * this statement's transaction, and this waits for a void under way, then sees it voided), the
   * check-in is inserted unless one exists (the primary key admits one of two gates scanning at
   * once; the other's insert waits for the first to commit and does nothing), and the existing
   * admission is read.
   */
  async checkInOnline(scan: ScanInput): Promise<CheckInOutcome> {
    const { rows } = await this.db.raw(
      `WITH t AS (
         SELECT id, showtime_id, status, payload FROM tickets WHERE id = :ticketId FOR SHARE
       ), ins AS (
         INSERT INTO checkins (ticket_id, showtime_id, scanned_at, gate, source, scanned_by)
         SELECT id, showtime_id, :scannedAt, :gate, 'online', :scannedBy FROM t
          WHERE status = 'valid' AND payload = :payload
         ON CONFLICT (ticket_id) DO NOTHING
         RETURNING scanned_at, gate
       )
       SELECT t.status, t.payload = :payload AS same_payload,
              (SELECT scanned_at FROM ins) AS admitted_at, (SELECT gate FROM ins) AS admitted_gate,
              c.scanned_at AS first_at, c.gate AS first_gate
         FROM t LEFT JOIN checkins c ON c.ticket_id = t.id`,
      { ticketId: scan.ticketId, scannedAt: scan.scannedAt, gate: scan.gate, scannedBy: scan.scannedBy ?? null, payload: scan.payload },
    );
    const row = rows[0] as
      | { status: TicketStatus; same_payload: boolean; admitted_at: Date | null; admitted_gate: string | null; first_at: Date | null; first_gate: string | null }
      | undefined;
    if (!row) return { kind: "unknown" };
    if (!row.same_payload) return { kind: "mismatch" };
    if (row.status === "voided") return { kind: "voided" };
    if (row.admitted_at) return { kind: "admitted", scan: { scannedAt: row.admitted_at, gate: row.admitted_gate ?? "" } };
    if (row.first_at) return { kind: "already_used", first: { scannedAt: row.first_at, gate: row.first_gate ?? "" } };
    // the winner committed after this statement's snapshot: its row is visible to a new statement
    const first: { scanned_at: Date; gate: string } | undefined = await this.db("checkins").where({ ticket_id: scan.ticketId }).first("scanned_at", "gate");
    if (!first) throw new Error(`check-in of ticket ${scan.ticketId} neither inserted nor found`);
    return { kind: "already_used", first: { scannedAt: first.scanned_at, gate: first.gate } };
  }

  /**
   * An offline scan, reconciled by time (domain/reconcile.ts) under the ticket's row lock, so
   * that uploads and online check-ins of one ticket take turns.
   */
  async checkInOffline(scan: ScanInput): Promise<CheckInOutcome> {
    return this.db.transaction(async (trx) => {
      const ticket: { id: string; showtime_id: string; status: TicketStatus; payload: string } | undefined = await trx("tickets")
        .where({ id: scan.ticketId })
        .forUpdate()
        .first("id", "showtime_id", "status", "payload");
      if (!ticket) return { kind: "unknown" };
      if (ticket.payload !== scan.payload) return { kind: "mismatch" };
      if (ticket.status === "voided") return { kind: "voided" };
      const current: { scanned_at: Date; gate: string; source: string } | undefined = await trx("checkins")
        .where({ ticket_id: scan.ticketId })
        .first("scanned_at", "gate", "source");
      const admission = current && { scannedAt: current.scanned_at, gate: current.gate };
      const duplicate = admission
        ? await trx("duplicate_entries").where({ ticket_id: scan.ticketId, scanned_at: scan.scannedAt, gate: scan.gate }).first(trx.raw("1"))
        : undefined;
      const decision = reconcile(scan, admission, duplicate !== undefined);
      const recordDuplicate = (s: ScanAt, source: string) =>
        trx("duplicate_entries")
          .insert({ ticket_id: scan.ticketId, showtime_id: ticket.showtime_id, scanned_at: s.scannedAt, gate: s.gate, source })
          .onConflict(["ticket_id", "scanned_at", "gate"])
          .ignore();
      const thisScan = { scannedAt: scan.scannedAt, gate: scan.gate };
      switch (decision.kind) {
        case "admit":
          await trx("checkins").insert({
            ticket_id: scan.ticketId,
            showtime_id: ticket.showtime_id,
            scanned_at: scan.scannedAt,
            gate: scan.gate,
            source: "offline",
            scanned_by: scan.scannedBy ?? null,
          });
          return { kind: "admitted", scan: thisScan };
        case "same_admission":
          return { kind: "admitted", scan: admission! };
        case "same_duplicate":
        case "duplicate":
          if (decision.kind === "duplicate") await recordDuplicate(thisScan, "offline");
          return { kind: "already_used", first: admission! };
        case "supersede":
          await recordDuplicate(decision.previous, current!.source);
          await trx("checkins")
            .where({ ticket_id: scan.ticketId })
            .update({ scanned_at: scan.scannedAt, gate: scan.gate, source: "offline", scanned_by: scan.scannedBy ?? null, recorded_at: trx.fn.now() });
          return { kind: "admitted", scan: thisScan, superseded: decision.previous };
      }
    });
  }

  /**
   * A showtime's counts: sold = tickets not voided; admitted = check-ins of those (a ticket voided
   * after its holder got in counts as voided, not admitted, so admitted ≤ sold); voided; and the
   * duplicate entries reconciliation found.
   */
  async stats(showtimeId: string): Promise<CheckInStats> {
    const [counts] = await this.db("tickets as t")
      .leftJoin("checkins as c", "c.ticket_id", "t.id")
      .where("t.showtime_id", showtimeId)
      .select(
        this.db.raw("count(*) FILTER (WHERE t.status = 'valid') AS sold"),
        this.db.raw("count(c.ticket_id) FILTER (WHERE t.status = 'valid') AS admitted"),
        this.db.raw("count(*) FILTER (WHERE t.status = 'voided') AS voided"),
      );
    const [{ n }] = await this.db("duplicate_entries").where({ showtime_id: showtimeId }).count({ n: "*" });
    return { sold: Number(counts.sold), admitted: Number(counts.admitted), voided: Number(counts.voided), duplicateEntries: Number(n) };
  }
}
