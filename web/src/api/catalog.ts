/**
 * Catalog reads several pages share: a showtime with its event, venue and hall, and the names of
 * many showtimes or venues at once (My bookings, an event's showtimes). Every read is a cached
 * connect-query GET; the same showtime or venue is fetched once however many places show it.
 */
import { createQueryOptions, skipToken, useQuery, useTransport } from "@connectrpc/connect-query";
import { useQueries } from "@tanstack/react-query";
import { CatalogService, type Event, type Hall, type Showtime, type Venue } from "../../../gen/ticketing/catalog/v1/catalog_pb";

export interface ShowtimeInfo {
  showtime?: Showtime;
  event?: Event;
  venue?: Venue;
  hall?: Hall;
  error: unknown;
  isPending: boolean;
}

/** A showtime, its event and venue, and (with `withHall`) its hall with the seat layout. */
export function useShowtimeInfo(showtimeId: string | undefined, withHall = false): ShowtimeInfo {
  const st = useQuery(CatalogService.method.getShowtime, showtimeId ? { showtimeId } : skipToken);
  const showtime = st.data?.showtime;
  const ev = useQuery(CatalogService.method.getEvent, showtime ? { eventId: showtime.eventId } : skipToken);
  const ve = useQuery(CatalogService.method.getVenue, showtime ? { venueId: showtime.venueId } : skipToken);
  const ha = useQuery(
    CatalogService.method.getHall,
    showtime && withHall ? { venueId: showtime.venueId, hallId: showtime.hallId } : skipToken,
    // a hall's layout is large and changes never for a showtime: keep it
    { staleTime: Infinity },
  );
  return {
    showtime,
    event: ev.data?.event,
    venue: ve.data?.venue,
    hall: ha.data?.hall,
    error: st.error ?? ev.error ?? ve.error ?? ha.error,
    isPending: st.isPending || (!!showtime && (ev.isPending || ve.isPending || (withHall && ha.isPending))),
  };
}

/** Venues by id (each fetched once and cached). */
export function useVenues(venueIds: readonly string[]): Map<string, Venue> {
  const transport = useTransport();
  const ids = [...new Set(venueIds)];
  const results = useQueries({
    queries: ids.map((venueId) => createQueryOptions(CatalogService.method.getVenue, { venueId }, { transport })),
  });
  const map = new Map<string, Venue>();
  results.forEach((r) => r.data?.venue && map.set(r.data.venue.venueId, r.data.venue));
  return map;
}

/** Showtimes by id, with their events (for lists of bookings). */
export function useShowtimes(showtimeIds: readonly string[]): { showtimes: Map<string, Showtime>; events: Map<string, Event> } {
  const transport = useTransport();
  const ids = [...new Set(showtimeIds)];
  const st = useQueries({
    queries: ids.map((showtimeId) => createQueryOptions(CatalogService.method.getShowtime, { showtimeId }, { transport })),
  });
  const showtimes = new Map<string, Showtime>();
  st.forEach((r) => r.data?.showtime && showtimes.set(r.data.showtime.showtimeId, r.data.showtime));
  const eventIds = [...new Set([...showtimes.values()].map((s) => s.eventId))];
  const ev = useQueries({
    queries: eventIds.map((eventId) => createQueryOptions(CatalogService.method.getEvent, { eventId }, { transport })),
  });
  const events = new Map<string, Event>();
  ev.forEach((r) => r.data?.event && events.set(r.data.event.eventId, r.data.event));
  return { showtimes, events };
}
