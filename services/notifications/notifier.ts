import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CatalogService, ShowtimeDetails } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import type { Knex } from "../../lib/db.js";
import { AppError, alreadyExists, notFound } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";
import type { IssuedTicket } from "../../workflows/ticket-types.js";
import type { NewNotification, NotificationRecord, NotificationsRepo } from "./db/repo.js";
import { maskEmail, maskPhone } from "./domain/format.js";
import { ShowtimeDetailsCache } from "./showtime-details-cache.js";
import type { Channel, NotificationKind } from "./domain/kinds.js";
import { renderEmail, renderSms, type MessageContext } from "./domain/templates.js";

/** What a message is about: the booking's facts, and the showtime to look the rest up from. */
export interface BookingFacts {
  showtimeId?: string;
  seats: string[];
  amountMinor?: number;
  currency?: string;
  /** Filled from the catalog when `showtimeId` is given and the catalog knows it. */
  eventName?: string;
  venueName?: string;
  venueCity?: string;
  startsAt?: Date;
}

export interface NotifyRequest {
  idempotencyKey: string;
  userId: string;
  kind: NotificationKind;
  /** Empty: every channel the user has a contact for (email always; SMS with a phone number). */
  channels: Channel[];
  bookingId?: string;
  facts: BookingFacts;
  /** booking_confirmed: the tickets, whose QR codes the email carries (never the SMS). */
  tickets?: IssuedTicket[];
}

export interface NotifyResult {
  /** One per channel used, email first. */
  notifications: NotificationRecord[];
  /** True when the key had been seen: nothing new was queued. */
  duplicate: boolean;
}

export interface NotifierDeps {
  repo: NotificationsRepo;
  users: Client<typeof UsersService>;
  catalog: Client<typeof CatalogService>;
  logger: Logger;
  /** IANA zone show times are written in. */
  timeZone: string;
  /** Called once new messages are committed (wakes the delivery loop). */
  queued: () => void;
  /** How long a showtime's catalog details are reused (ShowtimeDetailsCache); 0: ask every time. Default 30 s. */
  showtimeDetailsTtlMs?: number;
}

/** Runs `fn` in a transaction (the caller's, or a new one). */
export type Transactional = <T>(fn: (trx: Knex.Transaction) => Promise<T>) => Promise<T>;

/** Upstream answers that retrying cannot change. */
const PERMANENT = new Set([Code.NotFound, Code.InvalidArgument]);

/** An upstream failure: unavailable (retry later), the cause logged, never sent to our caller. */
function upstreamFailure(logger: Logger, what: string, err: unknown): AppError {
  const e = ConnectError.from(err);
  logger.warn({ err: e, upstream: what }, "upstream call failed");
  return new AppError(Code.Unavailable, `${what} is unavailable; try again`);
}

/**
 * Queues notifications: looks up the user's contacts (users GetUser) and the showtime's event
 * and venue (catalog GetShowtimeDetails) with this service's credential, renders one message per
 * channel, and records them as pending under (idempotency key, channel). A repeated or
 * concurrent request with the same key records nothing new and answers with the first one's
 * messages. Delivery is the delivery loop's business; this never sends anything itself.
 *
 * Shared by the notifyBooking activity and the SendNotification RPC.
 */
export class Notifier {
  private readonly showtimes: ShowtimeDetailsCache<ShowtimeDetails | undefined>;

  constructor(private readonly deps: NotifierDeps) {
    this.showtimes = new ShowtimeDetailsCache({ ttlMs: deps.showtimeDetailsTtlMs });
  }

  /**
   * `transaction` runs the writes (default: a transaction of their own); the SendNotification
   * handler passes the request's idempotency transaction. The lookups happen before it opens.
   */
  async notify(req: NotifyRequest, transaction?: Transactional): Promise<NotifyResult> {
    const { repo } = this.deps;
    const seen = await repo.byKey(req.idempotencyKey);
    if (seen.length > 0) return { notifications: this.sameRequest(req, seen), duplicate: true };

    const user = await this.lookupUser(req.userId);
    const facts = await this.withShowtime(req.facts);
    const ctx: MessageContext = {
      kind: req.kind,
      displayName: user.displayName,
      bookingId: req.bookingId,
      eventName: facts.eventName,
      venueName: facts.venueName,
      venueCity: facts.venueCity,
      startsAt: facts.startsAt,
      seats: facts.seats,
      amountMinor: facts.amountMinor,
      currency: facts.currency,
      timeZone: this.deps.timeZone,
      tickets: req.tickets,
    };

    const wanted: Channel[] = req.channels.length > 0 ? req.channels : ["email", "sms"];
    const rows: NewNotification[] = [];
    const base = { idempotencyKey: req.idempotencyKey, userId: req.userId, kind: req.kind, bookingId: req.bookingId ?? null };
    if (wanted.includes("email") && user.email) {
      const m = renderEmail(ctx);
      const email = { id: randomUUID(), channel: "email" as const, recipient: user.email, recipientMasked: maskEmail(user.email), subject: m.subject, body: m.text };
      // the tickets go with the message: delivery (and every retry of it) draws their QR codes
      rows.push({ ...base, ...email, ...(m.html ? { html: m.html, tickets: ctx.tickets } : {}) });
    }
    if (wanted.includes("sms") && user.phone) {
      const m = renderSms(ctx);
      rows.push({ ...base, id: randomUUID(), channel: "sms", recipient: user.phone, recipientMasked: maskPhone(user.phone), subject: m.subject, body: m.text });
    }

    const run: Transactional = transaction ?? ((fn) => repo.db.transaction(fn));
    const { inserted, recorded } = await run(async (trx) => {
      const inserted = await repo.insertPending(trx, rows);
      // wake the delivery loop once the rows are visible to it
      if (inserted > 0) trx.executionPromise.then(this.deps.queued, () => undefined);
      return { inserted, recorded: await repo.byKey(req.idempotencyKey, trx) };
    });
    if (inserted > 0) {
      this.deps.logger.info(
        { idempotencyKey: req.idempotencyKey, kind: req.kind, userId: req.userId, channels: rows.map((r) => r.channel) },
        "notifications queued",
      );
    }
    // inserted 0 with rows to insert: a concurrent request with the key committed first
    return { notifications: this.sameRequest(req, recorded), duplicate: inserted === 0 && rows.length > 0 };
  }

  /** A key reused for another user or kind is a caller's bug, never a duplicate. */
  private sameRequest(req: NotifyRequest, seen: NotificationRecord[]): NotificationRecord[] {
    const other = seen.find((n) => n.userId !== req.userId || n.kind !== req.kind);
    if (other) {
      throw alreadyExists(`idempotencyKey: ${JSON.stringify(req.idempotencyKey)} was already used for another user or kind`);
    }
    return seen;
  }

  private async lookupUser(userId: string) {
    try {
      const { user } = await this.deps.users.getUser({ userId });
      if (!user) throw notFound("user", userId);
      return user;
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (ConnectError.from(err).code === Code.NotFound) throw notFound("user", userId);
      throw upstreamFailure(this.deps.logger, "the users service", err);
    }
  }

  /** The event, venue and start time of the showtime; what the catalog cannot tell stays as given. */
  private async withShowtime(facts: BookingFacts): Promise<BookingFacts> {
    if (!facts.showtimeId) return facts;
    try {
      const showtimeId = facts.showtimeId;
      const details = await this.showtimes.get(showtimeId, async () => (await this.deps.catalog.getShowtimeDetails({ showtimeId })).details);
      return {
        ...facts,
        eventName: details?.event?.name || facts.eventName,
        venueName: details?.venue?.name || facts.venueName,
        venueCity: details?.venue?.address?.city || facts.venueCity,
        startsAt: details?.showtime?.timestamp ? timestampDate(details.showtime.timestamp) : facts.startsAt,
        currency: facts.currency || details?.showtime?.currency,
      };
    } catch (err) {
      if (PERMANENT.has(ConnectError.from(err).code)) {
        // a message with fewer details beats no message
        this.deps.logger.warn({ showtimeId: facts.showtimeId, err }, "catalog does not know the showtime; rendering without it");
        return facts;
      }
      throw upstreamFailure(this.deps.logger, "the catalog", err);
    }
  }
}
