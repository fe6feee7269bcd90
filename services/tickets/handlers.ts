import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  TicketsService,
  type CheckInResultSchema,
  type ScanSchema,
  type SigningKeySchema,
  type TicketSchema,
} from "../../gen/ticketing/tickets/v1/tickets_pb.js";
import { callerOf, isAdmin } from "../../lib/context.js";
import { notFound } from "../../lib/errors.js";
import type { PublicKeyInfo, SigningKeysRepo } from "./db/keys.js";
import type { TicketRecord, TicketsRepo } from "./db/repo.js";
import { qrSvg } from "./domain/qr.js";
import type { ScanAt } from "./domain/reconcile.js";
import type { Keyring } from "./keyring.js";
import type { ScanAnswer, TicketOffice } from "./ticket-office.js";

export interface TicketsDeps {
  office: TicketOffice;
  repo: TicketsRepo;
  keys: SigningKeysRepo;
  keyring: Keyring;
  now?: () => Date;
}

function scanOut(s: ScanAt | undefined): MessageInitShape<typeof ScanSchema> | undefined {
  return s && { scannedAt: timestampFromDate(s.scannedAt), gate: s.gate };
}

/** "valid", "used" (checked in) or "voided". */
export function ticketStatus(t: TicketRecord): "valid" | "used" | "voided" {
  return t.status === "voided" ? "voided" : t.checkedIn ? "used" : "valid";
}

async function ticketOut(t: TicketRecord): Promise<MessageInitShape<typeof TicketSchema>> {
  return {
    ticketId: t.ticketId,
    bookingId: t.bookingId,
    showtimeId: t.showtimeId,
    seatId: t.seatId,
    holder: t.holder,
    status: ticketStatus(t),
    payload: t.payload,
    qrSvg: await qrSvg(t.payload),
    issuedAt: timestampFromDate(t.issuedAt),
    checkedIn: scanOut(t.checkedIn),
  };
}

function resultOut(a: ScanAnswer): MessageInitShape<typeof CheckInResultSchema> {
  return {
    result: a.result,
    ticketId: a.ticketId ?? "",
    showtimeId: a.showtimeId ?? "",
    seatId: a.seatId ?? "",
    holder: a.holder ?? "",
    firstScan: scanOut(a.firstScan),
    supersededScan: scanOut(a.supersededScan),
    reason: a.reason ?? "",
  };
}

function keyOut(k: PublicKeyInfo): MessageInitShape<typeof SigningKeySchema> {
  return { keyId: k.keyId, publicKey: Buffer.from(k.publicKeyRaw).toString("base64url"), active: k.active, createdAt: timestampFromDate(k.createdAt) };
}

export function ticketsHandlers(deps: TicketsDeps): ServiceImpl<typeof TicketsService> {
  const { office, repo } = deps;
  const now = deps.now ?? (() => new Date());
  const scannerOf = (ctx: HandlerContext) => {
    const caller = callerOf(ctx);
    return caller.kind === "user" ? caller.userId : undefined;
  };
  const when = (t: Timestamp | undefined) => (t ? timestampDate(t) : now());

  return {
    async listBookingTickets(req, ctx) {
      const caller = callerOf(ctx);
      const tickets = await repo.byBooking(req.bookingId);
      const mayRead = caller.kind === "service" || isAdmin(caller) || (caller.kind === "user" && tickets[0]?.userId === caller.userId);
      // someone else's booking reads as missing, never 403: booking ids are not to be probed
      if (tickets.length === 0 || !mayRead) throw notFound("tickets of booking", req.bookingId);
      return { tickets: await Promise.all(tickets.map(ticketOut)) };
    },

    async checkIn(req, ctx) {
      const answer = await office.checkIn({
        payload: req.payload,
        gate: req.gate,
        scannedAt: when(req.scannedAt),
        showtimeId: req.showtimeId || undefined,
        scannedBy: scannerOf(ctx),
      });
      return { result: resultOut(answer) };
    },

    async uploadScans(req, ctx) {
      const scannedBy = scannerOf(ctx);
      const answers = await office.upload(
        req.scans.map((s) => ({ payload: s.payload, gate: s.gate, scannedAt: when(s.scannedAt), showtimeId: s.showtimeId || undefined, scannedBy })),
      );
      return { results: answers.map(resultOut) };
    },

    async getCheckInStats(req) {
      const s = await repo.stats(req.showtimeId);
      return {
        showtimeId: req.showtimeId,
        sold: BigInt(s.sold),
        admitted: BigInt(s.admitted),
        voided: BigInt(s.voided),
        duplicateEntries: BigInt(s.duplicateEntries),
      };
    },

    async listSigningKeys() {
      return { keys: (await deps.keys.publicKeys()).map(keyOut) };
    },

    async rotateSigningKey() {
      return { key: keyOut(await deps.keyring.rotate()) };
    },

    async issueTickets(req) {
      const tickets = await office.issue({
        bookingId: req.bookingId,
        showtimeId: req.showtimeId,
        userId: req.userId,
        seatIds: req.seatIds,
        holderName: req.holderName,
      });
      return { tickets: await Promise.all(tickets.map(ticketOut)) };
    },

    async voidTickets(req) {
      return { voided: await office.void(req.bookingId) };
    },
  };
}
