import type { ServiceImpl } from "@connectrpc/connect";
import type { JsonObject, JsonValue, MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { NotificationsService, type NotificationSchema } from "../../gen/ticketing/notifications/v1/notifications_pb.js";
import { callerOf } from "../../lib/context.js";
import type { Knex } from "../../lib/db.js";
import { invalidArgument, permissionDenied } from "../../lib/errors.js";
import { transactionFor } from "../../lib/idempotency.js";
import type { NotificationRecord, NotificationsRepo } from "./db/repo.js";
import { roundToMinorUnits } from "../../lib/money.js";
import { isChannel, isNotificationKind, type Channel } from "./domain/kinds.js";
import type { BookingFacts, Notifier } from "./notifier.js";

export interface NotificationsDeps {
  db: Knex;
  repo: NotificationsRepo;
  notifier: Notifier;
}

const DEFAULT_PAGE_SIZE = 50;

export const notificationOut = (n: NotificationRecord): MessageInitShape<typeof NotificationSchema> => ({
  notificationId: n.id,
  userId: n.userId,
  channel: n.channel,
  status: n.status,
  kind: n.kind,
  subject: n.subject,
  body: n.body,
  recipient: n.recipientMasked,
  bookingId: n.bookingId ?? "",
  createdAt: timestampFromDate(n.createdAt),
  sentAt: n.sentAt ? timestampFromDate(n.sentAt) : undefined,
  failureReason: n.status === "failed" ? (n.failureReason ?? "") : "",
});

const str = (data: JsonObject, key: string): string | undefined => {
  const v = data[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidArgument(`data.${key}`, "must be a string");
  return v;
};

/**
 * SendNotification's template variables (`data`): eventName, venueName, venueCity, showtime
 * (RFC 3339), seats (strings), totalAmount (major units, with currency), currency, and
 * showtimeId (when given, the catalog fills in event, venue and time).
 */
export function factsFromData(data: JsonObject | undefined): BookingFacts {
  const d = data ?? {};
  const showtime = str(d, "showtime");
  const startsAt = showtime === undefined ? undefined : new Date(showtime);
  if (startsAt && Number.isNaN(startsAt.getTime())) throw invalidArgument("data.showtime", "must be an RFC 3339 time");
  const seatsRaw: JsonValue = d.seats ?? [];
  if (!Array.isArray(seatsRaw) || !seatsRaw.every((s) => typeof s === "string")) {
    throw invalidArgument("data.seats", "must be a list of seat ids");
  }
  const currency = str(d, "currency")?.toUpperCase();
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) throw invalidArgument("data.currency", "must be an ISO 4217 code");
  const total = d.totalAmount;
  if (total !== undefined && total !== null && (typeof total !== "number" || !(total >= 0))) {
    throw invalidArgument("data.totalAmount", "must be a non-negative number");
  }
  if (typeof total === "number" && !currency) throw invalidArgument("data.currency", "is required with totalAmount");
  const showtimeId = str(d, "showtimeId");
  if (showtimeId !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(showtimeId)) {
    throw invalidArgument("data.showtimeId", "must be a UUID");
  }
  return {
    showtimeId,
    seats: seatsRaw as string[],
    amountMinor: typeof total === "number" && currency ? roundToMinorUnits(total, currency) : undefined,
    currency,
    eventName: str(d, "eventName"),
    venueName: str(d, "venueName"),
    venueCity: str(d, "venueCity"),
    startsAt,
  };
}

export function notificationsHandlers(deps: NotificationsDeps): ServiceImpl<typeof NotificationsService> {
  const { db, repo, notifier } = deps;
  return {
    async listMyNotifications(req, ctx) {
      const caller = callerOf(ctx);
      if (caller.kind !== "user") throw permissionDenied("a user's token is required: the log is the caller's own");
      const pageSize = req.pageSize || DEFAULT_PAGE_SIZE;
      const page = Math.max(1, req.page);
      const { items, total } = await repo.listForUser(caller.userId, { offset: (page - 1) * pageSize, limit: pageSize });
      return { notifications: items.map(notificationOut), total };
    },

    async sendNotification(req, ctx) {
      // the contract's rules (string.in) have checked both already; this narrows the types
      if (!isNotificationKind(req.kind)) throw invalidArgument("kind", `unknown kind ${JSON.stringify(req.kind)}`);
      const channels: Channel[] = req.channels.filter(isChannel);
      const facts = factsFromData(req.data);
      const result = await notifier.notify(
        { idempotencyKey: req.idempotencyKey, userId: req.userId, kind: req.kind, channels, bookingId: req.bookingId || undefined, facts },
        (fn) => transactionFor(ctx, db, fn),
      );
      return { notifications: result.notifications.map(notificationOut), duplicate: result.duplicate };
    },
  };
}
