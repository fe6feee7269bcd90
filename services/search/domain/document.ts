import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ShowtimeDetails } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";

/**
 * The denormalised search document: one per showtime, the seeds' Elasticsearch document
 * (showtimeId, showtime, event {eventId, name, category, imageUrl, keywords}, venue {venueId,
 * name, city, address, location}) plus the seat counts, the "price from" and the time its
 * catalog data was read. Every engine stores exactly this (Postgres in a jsonb column next to
 * its query columns).
 */
export interface ShowDocument {
  showtimeId: string;
  /** RFC 3339 UTC start time. */
  showtime: string;
  event: {
    eventId: string;
    name: string;
    category: string;
    imageUrl: string;
    keywords: string[];
    /** Absent in documents indexed before ratings were shown (read as 0). */
    averageRating?: number;
    reviewCount?: number;
  };
  venue: {
    venueId: string;
    name: string;
    city: string;
    address: ShowAddress;
    /** Absent when the venue has no coordinates (found by city only). */
    location?: { lat: number; lon: number };
  };
  /** Seats available, as last heard from booking; the hall's capacity until booking answers. */
  availableSeats: number;
  /** Seats in the hall. */
  totalSeats: number;
  /**
   * The lowest price over the showtime's seat types, in major units of `currency` (0: free).
   * Absent (with `currency`) in documents indexed before search carried prices: unknown until
   * the showtime is re-indexed.
   */
  priceFrom?: number;
  /** ISO 4217 code of `priceFrom`; present exactly when `priceFrom` is. */
  currency?: string;
  /**
   * When the catalog data of this document was read (RFC 3339). A write never replaces a document
   * read later: concurrent or replayed indexing cannot bring back stale data.
   */
  indexedAt: string;
}

export interface ShowAddress {
  street: string;
  city: string;
  district: string;
  state: string;
  zip: string;
  country: string;
}

/** A document to write; availableSeats undefined = keep what the index has (or the capacity). */
export type DocumentWrite = Omit<ShowDocument, "availableSeats"> & { availableSeats?: number };

/** Builds the document from the catalog's GetShowtimeDetails / ListShowtimeDetails answer. */
export function documentFromDetails(details: ShowtimeDetails, indexedAt: Date, availableSeats?: number): DocumentWrite {
  const { showtime, event, venue, hall } = details;
  if (!showtime?.timestamp || !event || !venue) {
    throw new Error(`catalog details of showtime ${showtime?.showtimeId ?? "?"} lack the showtime, event or venue`);
  }
  const address = venue.address;
  return {
    showtimeId: showtime.showtimeId,
    showtime: timestampDate(showtime.timestamp).toISOString(),
    event: {
      eventId: event.eventId,
      name: event.name,
      category: event.category,
      imageUrl: event.imageUrl,
      keywords: [...event.keywords],
      averageRating: event.averageRating,
      reviewCount: event.reviewCount,
    },
    venue: {
      venueId: venue.venueId,
      name: venue.name,
      city: address?.city ?? "",
      address: {
        street: address?.street ?? "",
        city: address?.city ?? "",
        district: address?.district ?? "",
        state: address?.state ?? "",
        zip: address?.zip ?? "",
        country: address?.country ?? "",
      },
      ...(venue.location ? { location: { lat: venue.location.lat, lon: venue.location.lon } } : {}),
    },
    availableSeats,
    totalSeats: hall?.capacity ?? 0,
    ...priceFromOf(showtime.prices, showtime.currency),
    indexedAt: indexedAt.toISOString(),
  };
}

/**
 * "Price from": the lowest of the showtime's prices (one per seat type of the hall, major units)
 * and their currency; nothing when the showtime has no price or no currency (unknown, as for
 * documents indexed before prices).
 */
export function priceFromOf(
  prices: ReadonlyArray<{ amount: number }>,
  currency: string,
): Pick<ShowDocument, "priceFrom" | "currency"> {
  const code = currency.trim();
  if (!prices.length || !code) return {};
  return { priceFrom: prices.reduce((min, p) => Math.min(min, p.amount), Infinity), currency: code };
}
