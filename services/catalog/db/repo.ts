import type { JsonObject } from "@bufbuild/protobuf";
import type { Knex } from "../../../lib/db.js";
import { isUniqueViolation } from "../../../lib/db.js";
import type { StoredLayout } from "../domain/layout.js";
import type { StoredPrice } from "../domain/showtime.js";
import { NO_OVERLAP_CONSTRAINT, VENUE_NAME_CITY_INDEX } from "./migrations.js";

/** A query builder: the pool or a transaction. */
export type Db = Knex | Knex.Transaction;

export interface AddressRecord {
  street: string;
  city: string;
  district: string;
  state: string;
  zip: string;
  country: string;
}

export interface VenueRecord {
  id: string;
  name: string;
  address: AddressRecord;
  location?: { lat: number; lon: number };
  imageUrls: string[];
  createdAt: Date;
}

export interface HallRecord {
  id: string;
  venueId: string;
  hallName: string;
  /** Only when read with the layout. */
  seatLayout?: StoredLayout;
  capacity: number;
  seatTypes: string[];
}

export interface EventRecord {
  id: string;
  name: string;
  category: string;
  description: string;
  imageUrl: string;
  keywords: string[];
  durationMinutes: number;
  metadata: JsonObject;
  averageRating: number;
  reviewCount: number;
  createdAt: Date;
}

export interface ShowtimeRecord {
  id: string;
  eventId: string;
  venueId: string;
  hallId: string;
  startsAt: Date;
  endsAt: Date;
  currency: string;
  prices: StoredPrice[];
}

export class VenueNameTakenError extends Error {}
export class ShowtimeOverlapError extends Error {}

interface VenueRow {
  id: string;
  name: string;
  street: string;
  city: string;
  district: string;
  state: string;
  zip: string;
  country: string;
  lat: string | null;
  lon: string | null;
  image_urls: string[];
  created_at: Date;
}

interface HallRow {
  id: string;
  venue_id: string;
  hall_name: string;
  seat_layout?: StoredLayout;
  capacity: number;
  seat_types: string[];
}

interface EventRow {
  id: string;
  name: string;
  category: string;
  description: string;
  image_url: string;
  keywords: string[];
  duration_minutes: number;
  metadata: JsonObject;
  average_rating: number;
  review_count: number;
  created_at: Date;
}

interface ShowtimeRow {
  id: string;
  event_id: string;
  venue_id: string;
  hall_id: string;
  starts_at: Date;
  ends_at: Date;
  currency: string;
  prices: StoredPrice[];
}

const toVenue = (r: VenueRow): VenueRecord => ({
  id: r.id,
  name: r.name,
  address: { street: r.street, city: r.city, district: r.district, state: r.state, zip: r.zip, country: r.country },
  location: r.lat === null || r.lon === null ? undefined : { lat: Number(r.lat), lon: Number(r.lon) },
  imageUrls: r.image_urls,
  createdAt: r.created_at,
});

const toHall = (r: HallRow): HallRecord => ({
  id: r.id,
  venueId: r.venue_id,
  hallName: r.hall_name,
  seatLayout: r.seat_layout,
  capacity: r.capacity,
  seatTypes: r.seat_types,
});

const toEvent = (r: EventRow): EventRecord => ({
  id: r.id,
  name: r.name,
  category: r.category,
  description: r.description,
  imageUrl: r.image_url,
  keywords: r.keywords,
  durationMinutes: r.duration_minutes,
  metadata: r.metadata,
  averageRating: r.average_rating,
  reviewCount: r.review_count,
  createdAt: r.created_at,
});

const toShowtime = (r: ShowtimeRow): ShowtimeRecord => ({
  id: r.id,
  eventId: r.event_id,
  venueId: r.venue_id,
  hallId: r.hall_id,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  currency: r.currency,
  prices: r.prices,
});

const venueRow = (v: Omit<VenueRecord, "createdAt">) => ({
  id: v.id,
  name: v.name,
  ...v.address,
  lat: v.location?.lat ?? null,
  lon: v.location?.lon ?? null,
  image_urls: v.imageUrls,
});

const HALL_COLUMNS = ["id", "venue_id", "hall_name", "capacity", "seat_types"];
const VENUE_COLUMNS = ["id", "name", "street", "city", "district", "state", "zip", "country", "lat", "lon", "image_urls", "created_at"];
const EVENT_COLUMNS = [
  "id", "name", "category", "description", "image_url", "keywords", "duration_minutes", "metadata",
  "average_rating", "review_count", "created_at",
];
const SHOWTIME_COLUMNS = ["id", "event_id", "venue_id", "hall_id", "starts_at", "ends_at", "currency", "prices"];

/** A page of a public list (ListVenues, ListEvents), optionally filtered by a text pattern. */
export interface ListFilter {
  /** ILIKE pattern, escape character `\` (domain/listing.ts containsPattern). */
  contains?: string;
  limit: number;
  offset: number;
}

/** A column matched against a `contains` pattern: the column name goes before it. */
const ILIKE = "ILIKE ? ESCAPE '\\'";

async function countOf(q: Knex.QueryBuilder): Promise<number> {
  const [row] = await q.count({ count: "*" });
  return Number(row.count);
}

function mapVenueConflict(err: unknown): never {
  if (isUniqueViolation(err, VENUE_NAME_CITY_INDEX)) throw new VenueNameTakenError();
  throw err;
}

/** The catalog's queries. Nothing else touches the `catalog` schema. */
export class CatalogRepo {
  constructor(readonly db: Knex) {}

  // ─── venues ───

  async insertVenue(q: Db, v: Omit<VenueRecord, "createdAt">): Promise<VenueRecord> {
    const [row] = await q("venues").insert(venueRow(v)).returning(VENUE_COLUMNS).catch(mapVenueConflict);
    return toVenue(row as VenueRow);
  }

  async getVenue(id: string, q: Db = this.db, opts: { forUpdate?: boolean } = {}): Promise<VenueRecord | undefined> {
    const query = q("venues").where({ id }).first(VENUE_COLUMNS);
    const row = await (opts.forUpdate ? query.forUpdate() : query);
    return row ? toVenue(row as VenueRow) : undefined;
  }

  async updateVenue(q: Db, v: Omit<VenueRecord, "createdAt">): Promise<VenueRecord> {
    const { id: _id, ...changes } = venueRow(v);
    const [row] = await q("venues")
      .where({ id: v.id })
      .update({ ...changes, updated_at: q.fn.now() })
      .returning(VENUE_COLUMNS)
      .catch(mapVenueConflict);
    return toVenue(row as VenueRow);
  }

  async venuesByIds(ids: string[], q: Db = this.db): Promise<Map<string, VenueRecord>> {
    const rows: VenueRow[] = ids.length ? await q("venues").whereIn("id", ids).select(VENUE_COLUMNS) : [];
    return new Map(rows.map((r) => [r.id, toVenue(r)]));
  }

  /**
   * A page of venues by name then id, only those whose name or city matches `contains` (an ILIKE
   * pattern with `\` as its escape character, domain/listing.ts) when given, and how many match.
   */
  async listVenues(f: ListFilter): Promise<{ rows: VenueRecord[]; total: number }> {
    const matching = () => {
      const q = this.db("venues");
      const pattern = f.contains;
      if (pattern) q.where((w) => w.whereRaw(`name ${ILIKE}`, [pattern]).orWhereRaw(`city ${ILIKE}`, [pattern]));
      return q;
    };
    const [rows, total] = await Promise.all([
      matching().orderBy([{ column: "name" }, { column: "id" }]).limit(f.limit).offset(f.offset).select(VENUE_COLUMNS),
      countOf(matching()),
    ]);
    return { rows: (rows as VenueRow[]).map(toVenue), total };
  }

  // ─── halls ───

  /** One INSERT with the layout as one JSONB value. */
  async insertHall(q: Db, h: Required<HallRecord>): Promise<void> {
    await q("halls").insert({
      id: h.id,
      venue_id: h.venueId,
      hall_name: h.hallName,
      seat_layout: JSON.stringify(h.seatLayout),
      capacity: h.capacity,
      seat_types: h.seatTypes,
    });
  }

  async getHall(id: string, opts: { withLayout: boolean }, q: Db = this.db): Promise<HallRecord | undefined> {
    const row = await q("halls")
      .where({ id })
      .first(opts.withLayout ? [...HALL_COLUMNS, "seat_layout"] : HALL_COLUMNS);
    return row ? toHall(row as HallRow) : undefined;
  }

  async listHalls(venueId: string, opts: { withLayout: boolean }, q: Db = this.db): Promise<HallRecord[]> {
    const rows: HallRow[] = await q("halls")
      .where({ venue_id: venueId })
      .orderBy([{ column: "hall_name" }, { column: "id" }])
      .select(opts.withLayout ? [...HALL_COLUMNS, "seat_layout"] : HALL_COLUMNS);
    return rows.map(toHall);
  }

  async hallsByIds(ids: string[], q: Db = this.db): Promise<Map<string, HallRecord>> {
    const rows: HallRow[] = ids.length ? await q("halls").whereIn("id", ids).select(HALL_COLUMNS) : [];
    return new Map(rows.map((r) => [r.id, toHall(r)]));
  }

  // ─── events ───

  async insertEvent(q: Db, e: Omit<EventRecord, "createdAt" | "averageRating" | "reviewCount">): Promise<EventRecord> {
    const [row] = await q("events")
      .insert({
        id: e.id,
        name: e.name,
        category: e.category,
        description: e.description,
        image_url: e.imageUrl,
        keywords: e.keywords,
        duration_minutes: e.durationMinutes,
        metadata: JSON.stringify(e.metadata),
      })
      .returning(EVENT_COLUMNS);
    return toEvent(row as EventRow);
  }

  async getEvent(id: string, q: Db = this.db, opts: { forUpdate?: boolean } = {}): Promise<EventRecord | undefined> {
    const query = q("events").where({ id }).first(EVENT_COLUMNS);
    const row = await (opts.forUpdate ? query.forUpdate() : query);
    return row ? toEvent(row as EventRow) : undefined;
  }

  async updateEvent(q: Db, e: Omit<EventRecord, "createdAt" | "averageRating" | "reviewCount">): Promise<EventRecord> {
    const [row] = await q("events")
      .where({ id: e.id })
      .update({
        name: e.name,
        category: e.category,
        description: e.description,
        image_url: e.imageUrl,
        keywords: e.keywords,
        duration_minutes: e.durationMinutes,
        metadata: JSON.stringify(e.metadata),
        updated_at: q.fn.now(),
      })
      .returning(EVENT_COLUMNS);
    return toEvent(row as EventRow);
  }

  /**
   * Stores a rating aggregate unless a newer one is stored already (order-safe for retried or
   * reordered updates). Returns "applied", "stale" or "missing".
   */
  async updateEventRating(
    id: string,
    r: { averageRating: number; reviewCount: number; computedAt: Date },
    q: Db = this.db,
  ): Promise<"applied" | "stale" | "missing"> {
    const updated = await q("events")
      .where({ id })
      .andWhere((w) => w.whereNull("rating_computed_at").orWhere("rating_computed_at", "<", r.computedAt))
      .update({ average_rating: r.averageRating, review_count: r.reviewCount, rating_computed_at: r.computedAt })
      .returning("id");
    if (updated.length) return "applied";
    return (await q("events").where({ id }).first("id")) ? "stale" : "missing";
  }

  async eventsByIds(ids: string[], q: Db = this.db): Promise<Map<string, EventRecord>> {
    const rows: EventRow[] = ids.length ? await q("events").whereIn("id", ids).select(EVENT_COLUMNS) : [];
    return new Map(rows.map((r) => [r.id, toEvent(r)]));
  }

  /**
   * A page of events by name then id, only those whose name matches `contains` (as in
   * listVenues) and whose category equals `category` ignoring case, when given; and how many
   * match.
   */
  async listEvents(f: ListFilter & { category?: string }): Promise<{ rows: EventRecord[]; total: number }> {
    const matching = () => {
      const q = this.db("events");
      if (f.contains) q.whereRaw(`name ${ILIKE}`, [f.contains]);
      if (f.category !== undefined) q.whereRaw("lower(category) = lower(?)", [f.category]);
      return q;
    };
    const [rows, total] = await Promise.all([
      matching().orderBy([{ column: "name" }, { column: "id" }]).limit(f.limit).offset(f.offset).select(EVENT_COLUMNS),
      countOf(matching()),
    ]);
    return { rows: (rows as EventRow[]).map(toEvent), total };
  }

  // ─── showtimes ───

  /** The first showtime of the hall whose [start, end) overlaps [startsAt, endsAt), if any. */
  async overlappingShowtime(q: Db, hallId: string, startsAt: Date, endsAt: Date): Promise<ShowtimeRecord | undefined> {
    const row = await q("showtimes")
      .where({ hall_id: hallId })
      .whereRaw("tstzrange(starts_at, ends_at) && tstzrange(?, ?)", [startsAt, endsAt])
      .orderBy("starts_at")
      .first(SHOWTIME_COLUMNS);
    return row ? toShowtime(row as ShowtimeRow) : undefined;
  }

  /** Throws ShowtimeOverlapError when the exclusion constraint refuses it (a concurrent insert won). */
  async insertShowtime(q: Db, s: ShowtimeRecord): Promise<void> {
    try {
      await q("showtimes").insert({
        id: s.id,
        event_id: s.eventId,
        venue_id: s.venueId,
        hall_id: s.hallId,
        starts_at: s.startsAt,
        ends_at: s.endsAt,
        currency: s.currency,
        prices: JSON.stringify(s.prices),
      });
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === "23P01" && e.constraint === NO_OVERLAP_CONSTRAINT) throw new ShowtimeOverlapError();
      throw err;
    }
  }

  async getShowtime(id: string, q: Db = this.db): Promise<ShowtimeRecord | undefined> {
    const row = await q("showtimes").where({ id }).first(SHOWTIME_COLUMNS);
    return row ? toShowtime(row as ShowtimeRow) : undefined;
  }

  async listShowtimes(eventId: string, q: Db = this.db): Promise<ShowtimeRecord[]> {
    const rows: ShowtimeRow[] = await q("showtimes")
      .where({ event_id: eventId })
      .orderBy([{ column: "starts_at" }, { column: "id" }])
      .select(SHOWTIME_COLUMNS);
    return rows.map(toShowtime);
  }

  /** A page of showtimes ordered by id, after `afterId`, optionally filtered. */
  async pageShowtimes(f: {
    eventId?: string;
    venueId?: string;
    startsAfter?: Date;
    afterId?: string;
    limit: number;
  }): Promise<ShowtimeRecord[]> {
    const query = this.db("showtimes").select(SHOWTIME_COLUMNS).orderBy("id").limit(f.limit);
    if (f.eventId) query.where("event_id", f.eventId);
    if (f.venueId) query.where("venue_id", f.venueId);
    if (f.startsAfter) query.where("starts_at", ">=", f.startsAfter);
    if (f.afterId) query.where("id", ">", f.afterId);
    const rows = (await query) as ShowtimeRow[];
    return rows.map(toShowtime);
  }
}
