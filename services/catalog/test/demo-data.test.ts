import { Code } from "@connectrpc/connect";
import { silentLogger } from "../../../lib/logger.js";
import { readCatalogConfig } from "../config.js";
import { DEMO_EVENTS, DEMO_VENUES, demoId, demoShowtimes } from "../demo/data.js";
import { loadDemoData } from "../demo/load.js";
import { normalizeLayout } from "../domain/layout.js";
import { codeOf, startCatalog, type CatalogHarness } from "./harness.js";

let h: CatalogHarness;
beforeAll(async () => {
  h = await startCatalog();
});
afterAll(async () => {
  await h?.close();
});

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number((await h.db(table).where(where).count<{ count: string }[]>("* as count"))[0].count);

describe("demo data (CATALOG_DEMO_DATA)", () => {
  it("is off by default and parsed as a boolean", () => {
    expect(readCatalogConfig({}).demoData).toBe(false);
    expect(readCatalogConfig({ CATALOG_DEMO_DATA: "true" }).demoData).toBe(true);
    expect(() => readCatalogConfig({ CATALOG_DEMO_DATA: "maybe" })).toThrow(/CATALOG_DEMO_DATA/);
  });

  it("is self-consistent: valid layouts, a price for every seat type, no overlapping slots", () => {
    for (const venue of DEMO_VENUES) {
      for (const hall of venue.halls) {
        const { seatTypes } = normalizeLayout(hall.layout);
        expect([hall.key, Object.keys(hall.prices).sort()]).toEqual([hall.key, seatTypes]);
        for (const e of hall.events) expect(DEMO_EVENTS.some((x) => x.key === e)).toBe(true);
      }
    }
    const shows = demoShowtimes(new Date("2030-01-01T00:00:00Z"));
    expect(new Set(shows.map((s) => s.id)).size).toBe(shows.length);
    const duration = new Map(DEMO_EVENTS.map((e) => [e.key, e.durationMinutes]));
    const byHall = new Map<string, Array<[number, number]>>();
    for (const s of shows) {
      const list = byHall.get(s.hall.key) ?? [];
      list.push([s.startsAt.getTime(), s.startsAt.getTime() + duration.get(s.eventKey)! * 60_000]);
      byHall.set(s.hall.key, list);
    }
    for (const list of byHall.values()) {
      list.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < list.length; i++) expect(list[i][0]).toBeGreaterThanOrEqual(list[i - 1][1]);
    }
  });

  it("loads two cities, realistic halls, events of several categories and two weeks of future showtimes", async () => {
    const now = new Date();
    const first = await loadDemoData(h.db, { logger: silentLogger(), now });
    expect(first).toMatchObject({ venues: 5, halls: 6, events: DEMO_EVENTS.length });
    expect(first.showtimes).toBeGreaterThan(200);

    const cities = await h.db("venues").distinct("city").pluck("city");
    expect(cities.sort()).toEqual(["Bengaluru", "Hyderabad"]);
    const categories = new Set(DEMO_EVENTS.map((e) => e.category));
    expect([...categories].sort()).toEqual(["Comedy", "Concert", "Movie", "Sports", "Theatre"]);

    // through the API: a 200-seat cinema screen with premium, standard and wheelchair seats …
    const venueId = demoId("venue", "cineplex-101");
    const screen = (await h.client.getHall({ venueId, hallId: demoId("hall", "cineplex-101/screen-1") })).hall!;
    expect(screen.capacity).toBe(200);
    const types = new Set(screen.seatLayout!.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((x) => x.seatType))));
    expect([...types].sort()).toEqual(["premium", "standard", "wheelchair"]);
    expect(screen.seatLayout!.sections[0].rows[0].seats[0]).toMatchObject({ id: "A1", coordinates: { x: 10, y: 20 } });
    // … and a 2,000-seat auditorium with several sections
    const auditorium = (
      await h.client.getHall({ venueId: demoId("venue", "shilpa-auditorium"), hallId: demoId("hall", "shilpa-auditorium/main") })
    ).hall!;
    expect(auditorium.capacity).toBe(2000);
    expect(auditorium.seatLayout!.sections.length).toBeGreaterThanOrEqual(3);
    expect((await h.client.getVenue({ venueId })).venue?.location).toEqual(expect.objectContaining({ lat: 17.4431, lon: 78.4772 }));

    // every showtime is in the future, within two weeks, and published through the outbox
    const bounds = (await h.db("showtimes").min("starts_at as min").max("starts_at as max").first())!;
    expect(new Date(bounds.min).getTime()).toBeGreaterThan(now.getTime());
    expect(new Date(bounds.max).getTime()).toBeLessThan(now.getTime() + 15 * 86_400_000);
    expect(await count("outbox", { event_type: "ShowtimeCreated" })).toBe(first.showtimes);
    const movie = demoId("event", "dark-knight-rises");
    const listed = (await h.client.listShowtimes({ eventId: movie })).showtimes;
    expect(listed.length).toBeGreaterThan(10);
    expect(listed[0].currency).toBe("INR");
    expect(listed[0].prices.length).toBeGreaterThanOrEqual(3);
  });

  it("is idempotent: loading again (or later the same day) creates nothing and publishes nothing", async () => {
    const before = { showtimes: await count("showtimes"), outbox: await count("outbox"), venues: await count("venues") };
    const again = await loadDemoData(h.db, { logger: silentLogger() });
    expect(again).toEqual({ venues: 0, halls: 0, events: 0, showtimes: 0 });
    expect({ showtimes: await count("showtimes"), outbox: await count("outbox"), venues: await count("venues") }).toEqual(before);
  });

  it("a load on a later day adds only that day's new showtimes, with deterministic ids", async () => {
    const before = await count("showtimes");
    const tomorrow = new Date(Date.now() + 86_400_000);
    const existing = new Set<string>(await h.db("showtimes").pluck("id"));
    const fresh = demoShowtimes(tomorrow).filter((s) => !existing.has(s.id));
    // only the new fourteenth day (the rest of tomorrow's shows exist already, with the same ids)
    const lastDay = Math.max(...demoShowtimes(tomorrow).map((s) => s.startsAt.getTime())) - 86_400_000;
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((s) => s.startsAt.getTime() > lastDay)).toBe(true);
    const next = await loadDemoData(h.db, { logger: silentLogger(), now: tomorrow });
    expect(next.showtimes).toBe(fresh.length);
    expect(await count("showtimes")).toBe(before + fresh.length);
    expect(await count("outbox", { event_type: "ShowtimeCreated" })).toBe(before + fresh.length);
  });

  it("skips a demo venue whose name a real venue already uses in that city", async () => {
    const other = await startCatalog();
    try {
      await other.client.createVenue({ name: "CINEPLEX 101", address: { city: "hyderabad" } }, other.admin);
      const result = await loadDemoData(other.db, { logger: silentLogger() });
      expect(result.venues).toBe(4);
      expect(result.halls).toBe(4);
      expect(await codeOf(other.client.getVenue({ venueId: demoId("venue", "cineplex-101") }))).toBe(Code.NotFound);
    } finally {
      await other.close();
    }
  });
});
