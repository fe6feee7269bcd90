import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  CatalogService,
  type Address,
  type AddressUpdate,
  type ShowtimeDetailsSchema,
} from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { Knex } from "../../lib/db.js";
import { alreadyExists, invalidArgument, notFound } from "../../lib/errors.js";
import { transactionFor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import {
  CatalogRepo,
  ShowtimeOverlapError,
  VenueNameTakenError,
  type AddressRecord,
  type EventRecord,
  type ShowtimeRecord,
  type VenueRecord,
} from "./db/repo.js";
import { normalizeLayout } from "./domain/layout.js";
import { checkCurrency, checkStartsInFuture, endsAt, priceSeatTypes } from "./domain/showtime.js";
import { geoPoint, imageKey, imageKeys, keywords, requiredText } from "./domain/values.js";
import { listHandlers } from "./list-handlers.js";
import { publishEventUpdated, publishShowtimeCreated, publishVenueUpdated } from "./outbox.js";
import { eventOut, hallOut, showtimeOut, venueOut } from "./resources.js";

export interface CatalogDeps {
  db: Knex;
  repo: CatalogRepo;
  logger: Logger;
  /** The clock; tests may pin it. */
  now?: () => Date;
}

// ─── input ───

const ADDRESS_FIELDS = ["street", "city", "district", "state", "zip", "country"] as const;

function addressIn(a: Address): AddressRecord {
  return {
    street: a.street.trim(),
    city: requiredText("address.city", a.city),
    district: a.district.trim(),
    state: a.state.trim(),
    zip: a.zip.trim(),
    country: a.country.trim(),
  };
}

/** AddressUpdate merged into the stored address field by field; the city cannot be emptied. */
function mergeAddress(current: AddressRecord, patch: AddressUpdate): AddressRecord {
  const next = { ...current };
  for (const field of ADDRESS_FIELDS) {
    const value = patch[field];
    if (value === undefined) continue;
    next[field] = field === "city" ? requiredText("address.city", value) : value.trim();
  }
  return next;
}

const PAGE_TOKEN_PREFIX = "v1:";

function encodePageToken(lastId: string): string {
  return Buffer.from(PAGE_TOKEN_PREFIX + lastId).toString("base64url");
}

function decodePageToken(token: string): string | undefined {
  if (token === "") return undefined;
  const raw = Buffer.from(token, "base64url").toString("utf8");
  const id = raw.startsWith(PAGE_TOKEN_PREFIX) ? raw.slice(PAGE_TOKEN_PREFIX.length) : "";
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw invalidArgument("pageToken", "is not a token from a previous response");
  }
  return id;
}

const fmtRange = (s: ShowtimeRecord) => `${s.startsAt.toISOString()} to ${s.endsAt.toISOString()}`;

export function catalogHandlers(deps: CatalogDeps): ServiceImpl<typeof CatalogService> {
  const { db, repo } = deps;
  const now = deps.now ?? (() => new Date());

  async function requireEvent(id: string, q: Knex | Knex.Transaction = db): Promise<EventRecord> {
    const event = await repo.getEvent(id, q);
    if (!event) throw notFound("event", id);
    return event;
  }

  async function requireVenue(id: string, q: Knex | Knex.Transaction = db): Promise<VenueRecord> {
    const venue = await repo.getVenue(id, q);
    if (!venue) throw notFound("venue", id);
    return venue;
  }

  async function details(
    showtimes: ShowtimeRecord[],
    withLayout: boolean,
  ): Promise<Array<MessageInitShape<typeof ShowtimeDetailsSchema>>> {
    const uniq = (f: (s: ShowtimeRecord) => string) => [...new Set(showtimes.map(f))];
    const [events, venues, halls] = await Promise.all([
      repo.eventsByIds(uniq((s) => s.eventId)),
      repo.venuesByIds(uniq((s) => s.venueId)),
      withLayout && showtimes.length === 1
        ? repo.getHall(showtimes[0].hallId, { withLayout: true }).then((h) => new Map(h ? [[h.id, h]] : []))
        : repo.hallsByIds(uniq((s) => s.hallId)),
    ]);
    return showtimes.map((s) => {
      const event = events.get(s.eventId);
      const venue = venues.get(s.venueId);
      const hall = halls.get(s.hallId);
      return {
        showtime: showtimeOut(s),
        event: event && eventOut(event),
        venue: venue && venueOut(venue),
        hall: hall && hallOut(hall),
      };
    });
  }

  return {
    // ─── venues ───

    async createVenue(req, ctx) {
      const name = requiredText("name", req.name);
      const address = addressIn(req.address ?? ({ city: "" } as Address));
      const location = req.location ? geoPoint("location", req.location) : undefined;
      const imageUrls = imageKeys("imageUrls", req.imageUrls);
      try {
        const venue = await transactionFor(ctx, db, (trx) =>
          repo.insertVenue(trx, { id: randomUUID(), name, address, location, imageUrls }),
        );
        deps.logger.info({ venueId: venue.id }, "venue created");
        return { venue: venueOut(venue) };
      } catch (err) {
        if (err instanceof VenueNameTakenError) {
          throw alreadyExists(`name: a venue named ${JSON.stringify(name)} already exists in ${address.city}`);
        }
        throw err;
      }
    },

    async getVenue(req) {
      return { venue: venueOut(await requireVenue(req.venueId)) };
    },

    ...listHandlers({ repo }),

    async updateVenue(req, ctx) {
      const clearImages = req.updateMask?.paths.includes("image_urls") ?? false;
      let name = "";
      let city = "";
      try {
        const venue = await transactionFor(ctx, db, async (trx) => {
          const current = await repo.getVenue(req.venueId, trx, { forUpdate: true });
          if (!current) throw notFound("venue", req.venueId);
          const next = { ...current };
          if (req.name !== undefined) next.name = requiredText("name", req.name);
          if (req.address) next.address = mergeAddress(current.address, req.address);
          if (req.location) next.location = geoPoint("location", req.location);
          if (req.imageUrls.length > 0 || clearImages) next.imageUrls = imageKeys("imageUrls", req.imageUrls);
          name = next.name;
          city = next.address.city;
          const updated = await repo.updateVenue(trx, next);
          await publishVenueUpdated(trx, { venueId: updated.id });
          return updated;
        });
        return { venue: venueOut(venue) };
      } catch (err) {
        if (err instanceof VenueNameTakenError) {
          throw alreadyExists(`name: a venue named ${JSON.stringify(name)} already exists in ${city}`);
        }
        throw err;
      }
    },

    // ─── halls ───

    async createHall(req, ctx) {
      const hallName = requiredText("hallName", req.hallName);
      if (!req.seatLayout) throw invalidArgument("seatLayout", "is required");
      const { layout, capacity, seatTypes } = normalizeLayout(req.seatLayout);
      const hall = await transactionFor(ctx, db, async (trx) => {
        await requireVenue(req.venueId, trx);
        const record = { id: randomUUID(), venueId: req.venueId, hallName, seatLayout: layout, capacity, seatTypes };
        await repo.insertHall(trx, record);
        return record;
      });
      deps.logger.info({ hallId: hall.id, venueId: hall.venueId, capacity }, "hall created");
      return { hall: hallOut(hall) };
    },

    async getHall(req) {
      const hall = await repo.getHall(req.hallId, { withLayout: true });
      if (!hall || hall.venueId !== req.venueId) throw notFound("hall", `${req.hallId} of venue ${req.venueId}`);
      return { hall: hallOut(hall) };
    },

    async listHalls(req) {
      await requireVenue(req.venueId);
      const halls = await repo.listHalls(req.venueId, { withLayout: req.includeSeatLayout });
      return { halls: halls.map(hallOut) };
    },

    // ─── events ───

    async createEvent(req, ctx) {
      const record = {
        id: randomUUID(),
        name: requiredText("name", req.name),
        category: req.category.trim(),
        description: req.description.trim(),
        imageUrl: imageKey("imageUrl", req.imageUrl),
        keywords: keywords("keywords", req.keywords),
        durationMinutes: req.durationMinutes,
        metadata: req.metadata ?? {},
      };
      const event = await transactionFor(ctx, db, (trx) => repo.insertEvent(trx, record));
      deps.logger.info({ catalogEventId: event.id }, "event created");
      return { event: eventOut(event) };
    },

    async getEvent(req) {
      return { event: eventOut(await requireEvent(req.eventId)) };
    },

    async updateEvent(req, ctx) {
      const clearKeywords = req.updateMask?.paths.includes("keywords") ?? false;
      const event = await transactionFor(ctx, db, async (trx) => {
        const current = await repo.getEvent(req.eventId, trx, { forUpdate: true });
        if (!current) throw notFound("event", req.eventId);
        const next = { ...current };
        if (req.name !== undefined) next.name = requiredText("name", req.name);
        if (req.category !== undefined) next.category = req.category.trim();
        if (req.description !== undefined) next.description = req.description.trim();
        if (req.imageUrl !== undefined) next.imageUrl = imageKey("imageUrl", req.imageUrl);
        if (req.keywords.length > 0 || clearKeywords) next.keywords = keywords("keywords", req.keywords);
        if (req.durationMinutes !== undefined) next.durationMinutes = req.durationMinutes;
        if (req.metadata !== undefined) next.metadata = req.metadata;
        const updated = await repo.updateEvent(trx, next);
        await publishEventUpdated(trx, { catalogEventId: updated.id });
        return updated;
      });
      return { event: eventOut(event) };
    },

    // ─── showtimes ───

    async createShowtime(req, ctx) {
      if (!req.timestamp) throw invalidArgument("timestamp", "is required");
      const startsAt = timestampDate(req.timestamp);
      checkStartsInFuture(startsAt, now());
      const currency = checkCurrency(req.currency);
      const showtime = await transactionFor(ctx, db, async (trx) => {
        const event = await requireEvent(req.eventId, trx);
        const venue = await requireVenue(req.venueId, trx);
        const hall = await repo.getHall(req.hallId, { withLayout: false }, trx);
        if (!hall) throw notFound("hall", req.hallId);
        if (hall.venueId !== venue.id) {
          throw invalidArgument("hallId", `hall ${hall.id} is not in venue ${venue.id}`);
        }
        const prices = priceSeatTypes(req.prices, hall.seatTypes, currency);
        const record: ShowtimeRecord = {
          id: randomUUID(),
          eventId: event.id,
          venueId: venue.id,
          hallId: hall.id,
          startsAt,
          endsAt: endsAt(startsAt, event.durationMinutes),
          currency,
          prices,
        };
        const overlapMessage = (other?: ShowtimeRecord) =>
          `timestamp: the showtime (${fmtRange(record)}) overlaps ` +
          (other ? `showtime ${other.id} (${fmtRange(other)})` : "another showtime") +
          ` in hall ${hall.id}`;
        const clash = await repo.overlappingShowtime(trx, hall.id, record.startsAt, record.endsAt);
        if (clash) throw alreadyExists(overlapMessage(clash));
        try {
          await repo.insertShowtime(trx, record);
        } catch (err) {
          // a concurrent request took the slot between our check and our insert
          if (err instanceof ShowtimeOverlapError) throw alreadyExists(overlapMessage());
          throw err;
        }
        await publishShowtimeCreated(trx, {
          showtimeId: record.id,
          catalogEventId: event.id,
          venueId: venue.id,
          hallId: hall.id,
          startsAt: startsAt.toISOString(),
        });
        return record;
      });
      deps.logger.info({ showtimeId: showtime.id, hallId: showtime.hallId }, "showtime created");
      return { showtime: showtimeOut(showtime) };
    },

    async getShowtime(req) {
      const showtime = await repo.getShowtime(req.showtimeId);
      if (!showtime) throw notFound("showtime", req.showtimeId);
      return { showtime: showtimeOut(showtime) };
    },

    async listShowtimes(req) {
      await requireEvent(req.eventId);
      return { showtimes: (await repo.listShowtimes(req.eventId)).map(showtimeOut) };
    },

    // ─── internal ───

    async getShowtimeDetails(req) {
      const showtime = await repo.getShowtime(req.showtimeId);
      if (!showtime) throw notFound("showtime", req.showtimeId);
      const [d] = await details([showtime], req.includeSeatLayout);
      return { details: d };
    },

    async listShowtimeDetails(req) {
      const pageSize = req.pageSize || 100;
      const page = await repo.pageShowtimes({
        eventId: req.eventId || undefined,
        venueId: req.venueId || undefined,
        startsAfter: req.startsAfter ? timestampDate(req.startsAfter) : undefined,
        afterId: decodePageToken(req.pageToken),
        limit: pageSize + 1,
      });
      const more = page.length > pageSize;
      const items = more ? page.slice(0, pageSize) : page;
      return {
        details: await details(items, false),
        nextPageToken: more ? encodePageToken(items[items.length - 1].id) : "",
      };
    },

    async updateEventRating(req) {
      if (!req.computedAt) throw invalidArgument("computedAt", "is required");
      const computedAt = timestampDate(req.computedAt);
      const result = await db.transaction(async (trx) => {
        const r = await repo.updateEventRating(req.eventId, { averageRating: req.averageRating, reviewCount: req.reviewCount, computedAt }, trx);
        // search shows the rating with every showtime of the event
        if (r === "applied") await publishEventUpdated(trx, { catalogEventId: req.eventId });
        return r;
      });
      if (result === "missing") throw notFound("event", req.eventId);
      return { applied: result === "applied" };
    },
  };
}
