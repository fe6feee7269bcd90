import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EventSchema, HallSchema, ShowtimeSchema, VenueSchema } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { EventRecord, HallRecord, ShowtimeRecord, VenueRecord } from "./db/repo.js";
import { fromMinorUnits } from "../../lib/money.js";

// The catalog's resources as every RPC returns them (handlers.ts, list-handlers.ts).

export const venueOut = (v: VenueRecord): MessageInitShape<typeof VenueSchema> => ({
  venueId: v.id,
  name: v.name,
  address: v.address,
  location: v.location,
  imageUrls: v.imageUrls,
  createdAt: timestampFromDate(v.createdAt),
});

export const hallOut = (h: HallRecord): MessageInitShape<typeof HallSchema> => ({
  hallId: h.id,
  venueId: h.venueId,
  hallName: h.hallName,
  seatLayout: h.seatLayout,
  capacity: h.capacity,
});

export const eventOut = (e: EventRecord): MessageInitShape<typeof EventSchema> => ({
  eventId: e.id,
  name: e.name,
  category: e.category,
  description: e.description,
  imageUrl: e.imageUrl,
  keywords: e.keywords,
  durationMinutes: e.durationMinutes,
  metadata: e.metadata,
  averageRating: e.averageRating,
  reviewCount: e.reviewCount,
  createdAt: timestampFromDate(e.createdAt),
});

export const showtimeOut = (s: ShowtimeRecord): MessageInitShape<typeof ShowtimeSchema> => ({
  showtimeId: s.id,
  eventId: s.eventId,
  venueId: s.venueId,
  hallId: s.hallId,
  timestamp: timestampFromDate(s.startsAt),
  currency: s.currency,
  prices: s.prices.map((p) => ({ seatType: p.seatType, amount: fromMinorUnits(p.amountMinor, s.currency) })),
});
