import type { Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import { normalizeLayout } from "../domain/layout.js";
import { roundToMinorUnits } from "../../../lib/money.js";
import { endsAt } from "../domain/showtime.js";
import { publishShowtimeCreated } from "../outbox.js";
import { DEMO_EVENTS, DEMO_VENUES, demoId, demoShowtimes } from "./data.js";

export interface DemoLoadResult {
  venues: number;
  halls: number;
  events: number;
  showtimes: number;
}

/**
 * Loads the demo catalog in one transaction, idempotently: every row has a name-derived id and
 * is inserted with ON CONFLICT DO NOTHING, so a second load (or a concurrent one on another
 * replica) inserts nothing it already has. Only showtimes actually inserted publish
 * ShowtimeCreated, through the outbox like any other. A demo venue whose name is already taken
 * in its city by a real venue is skipped with its halls and showtimes; a demo showtime that
 * would overlap a real one in its hall is skipped (the exclusion constraint is an arbiter of
 * DO NOTHING). Returns what was inserted.
 */
export async function loadDemoData(db: Knex, opts: { logger: Logger; now?: Date; days?: number }): Promise<DemoLoadResult> {
  const now = opts.now ?? new Date();
  const result = await db.transaction(async (trx) => {
    const venues = await trx("venues")
      .insert(
        DEMO_VENUES.map((v) => ({
          id: demoId("venue", v.key),
          name: v.name,
          ...v.address,
          lat: v.location.lat,
          lon: v.location.lon,
          image_urls: v.imageUrls,
        })),
      )
      .onConflict()
      .ignore()
      .returning("id");
    const present = new Set(
      (await trx("venues").whereIn("id", DEMO_VENUES.map((v) => demoId("venue", v.key))).pluck("id")) as string[],
    );
    for (const v of DEMO_VENUES) {
      if (!present.has(demoId("venue", v.key))) {
        opts.logger.warn({ venue: v.name, city: v.address.city }, "demo venue skipped: the name is taken in that city");
      }
    }

    const halls = DEMO_VENUES.filter((v) => present.has(demoId("venue", v.key))).flatMap((v) => v.halls.map((h) => ({ v, h })));
    let hallsInserted = 0;
    for (const { v, h } of halls) {
      // one at a time: a 2,000-seat layout is ~250 kB of JSON
      const { layout, capacity, seatTypes } = normalizeLayout(h.layout);
      const inserted = await trx("halls")
        .insert({
          id: demoId("hall", h.key),
          venue_id: demoId("venue", v.key),
          hall_name: h.hallName,
          seat_layout: JSON.stringify(layout),
          capacity,
          seat_types: seatTypes,
        })
        .onConflict("id")
        .ignore()
        .returning("id");
      hallsInserted += inserted.length;
    }

    const events = await trx("events")
      .insert(
        DEMO_EVENTS.map((e) => ({
          id: demoId("event", e.key),
          name: e.name,
          category: e.category,
          description: e.description,
          image_url: e.imageUrl,
          keywords: e.keywords,
          duration_minutes: e.durationMinutes,
          metadata: JSON.stringify(e.metadata),
        })),
      )
      .onConflict("id")
      .ignore()
      .returning("id");

    const durations = new Map(DEMO_EVENTS.map((e) => [e.key, e.durationMinutes]));
    const planned = demoShowtimes(now, opts.days).filter((s) => present.has(demoId("venue", s.venue.key)));
    const rows = planned.map((s) => ({
      id: s.id,
      event_id: demoId("event", s.eventKey),
      venue_id: demoId("venue", s.venue.key),
      hall_id: demoId("hall", s.hall.key),
      starts_at: s.startsAt,
      ends_at: endsAt(s.startsAt, durations.get(s.eventKey) ?? 0),
      currency: s.venue.currency,
      prices: JSON.stringify(
        Object.entries(s.hall.prices).map(([seatType, amount]) => ({
          seatType,
          amountMinor: roundToMinorUnits(amount, s.venue.currency),
        })),
      ),
    }));
    const byId = new Map(planned.map((s) => [s.id, s]));
    let showtimes = 0;
    for (let i = 0; i < rows.length; i += 500) {
      // no conflict target: both the primary key and the no-overlap exclusion constraint arbitrate
      const inserted: Array<{ id: string }> = await trx("showtimes")
        .insert(rows.slice(i, i + 500))
        .onConflict()
        .ignore()
        .returning("id");
      for (const { id } of inserted) {
        const s = byId.get(id)!;
        await publishShowtimeCreated(trx, {
          showtimeId: id,
          catalogEventId: demoId("event", s.eventKey),
          venueId: demoId("venue", s.venue.key),
          hallId: demoId("hall", s.hall.key),
          startsAt: s.startsAt.toISOString(),
        });
      }
      showtimes += inserted.length;
    }
    return { venues: venues.length, halls: hallsInserted, events: events.length, showtimes };
  });
  opts.logger.info(result, "demo data loaded");
  return result;
}
