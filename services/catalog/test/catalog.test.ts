import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createClient } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import {
  codeOf,
  errorOf,
  gridLayout,
  hoursFromNow,
  SEEDS_LAYOUT,
  startCatalog,
  type CatalogHarness,
} from "./harness.js";

let h: CatalogHarness;
beforeAll(async () => {
  h = await startCatalog();
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
const unique = (s: string) => `${s} ${++seq}-${Date.now()}`;

async function venue(city = "Hyderabad", extra: object = {}) {
  const res = await h.client.createVenue(
    { name: unique("Venue"), address: { city, street: "1 Main St" }, location: { lat: 17.44, lon: 78.38 }, ...extra },
    h.admin,
  );
  return res.venue!;
}

async function hall(venueId: string, seatLayout: object = SEEDS_LAYOUT) {
  const res = await h.client.createHall({ venueId, hallName: unique("Hall"), seatLayout }, h.admin);
  return res.hall!;
}

async function event(durationMinutes = 120, extra: object = {}) {
  const res = await h.client.createEvent({ name: unique("Event"), category: "Movie", durationMinutes, ...extra }, h.admin);
  return res.event!;
}

const seedsPrices = [
  { seatType: "premium", amount: 45 },
  { seatType: "standard", amount: 25.5 },
];

async function outbox(eventType: string, aggregateId: string) {
  return h.db("outbox").where({ event_type: eventType, aggregate_id: aggregateId }).orderBy("seq").select("payload", "event_id");
}

describe("the admin flow: venue → hall → event → showtime (seeds flows 1 and 2)", () => {
  it("creates and reads back each resource with the seeds' seatLayout", async () => {
    const created = await h.client.createVenue(
      {
        name: "Cineplex 101",
        address: { street: "123 Main St", city: "Hyderabad", district: "Madhapur", state: "Telangana", zip: "500081", country: "IN" },
        location: { lat: 17.4431, lon: 78.4772 },
        imageUrls: ["venues/cineplex-101/front.jpg"],
      },
      h.admin,
    );
    const v = created.venue!;
    expect(v.venueId).toMatch(/^[0-9a-f-]{36}$/);
    expect(v).toMatchObject({
      name: "Cineplex 101",
      address: { street: "123 Main St", city: "Hyderabad", district: "Madhapur", state: "Telangana", zip: "500081", country: "IN" },
      location: { lat: 17.4431, lon: 78.4772 },
      imageUrls: ["venues/cineplex-101/front.jpg"],
    });
    expect(v.createdAt).toBeDefined();
    expect((await h.client.getVenue({ venueId: v.venueId })).venue).toEqual(v);

    const hl = (await h.client.createHall({ venueId: v.venueId, hallName: "Screen 1", seatLayout: SEEDS_LAYOUT }, h.admin)).hall!;
    expect(hl).toMatchObject({ venueId: v.venueId, hallName: "Screen 1", capacity: 6 });
    expect(hl.seatLayout?.sections.map((s) => s.name)).toEqual(["Premium", "Regular"]);
    const got = (await h.client.getHall({ venueId: v.venueId, hallId: hl.hallId })).hall!;
    expect(got).toEqual(hl);
    expect(got.seatLayout?.sections[1].rows[0].seats[1]).toMatchObject({
      id: "C2",
      label: "C2",
      coordinates: { x: 30, y: 60 },
      seatType: "standard",
    });

    const list = await h.client.listHalls({ venueId: v.venueId });
    expect(list.halls).toHaveLength(1);
    expect(list.halls[0]).toMatchObject({ hallId: hl.hallId, capacity: 6 });
    expect(list.halls[0].seatLayout).toBeUndefined(); // lists leave layouts out unless asked
    const withLayout = await h.client.listHalls({ venueId: v.venueId, includeSeatLayout: true });
    expect(withLayout.halls[0].seatLayout).toEqual(hl.seatLayout);

    const ev = (
      await h.client.createEvent(
        {
          name: "The Dark Knight Rises",
          category: "Movie",
          description: "Batman returns.",
          imageUrl: "events/tdkr/poster.jpg",
          keywords: ["movie", "action", "batman", "superhero"],
          durationMinutes: 165,
          metadata: { language: "en", rating: "PG-13", cast: ["Christian Bale"] },
        },
        h.admin,
      )
    ).event!;
    expect(ev).toMatchObject({
      name: "The Dark Knight Rises",
      category: "Movie",
      keywords: ["movie", "action", "batman", "superhero"],
      durationMinutes: 165,
      metadata: { language: "en", rating: "PG-13", cast: ["Christian Bale"] },
      averageRating: 0,
      reviewCount: 0,
    });
    expect((await h.client.getEvent({ eventId: ev.eventId })).event).toEqual(ev);

    const at = hoursFromNow(48);
    const st = (
      await h.client.createShowtime(
        { eventId: ev.eventId, venueId: v.venueId, hallId: hl.hallId, timestamp: timestampFromDate(at), currency: "USD", prices: seedsPrices },
        h.admin,
      )
    ).showtime!;
    expect(st).toMatchObject({ eventId: ev.eventId, venueId: v.venueId, hallId: hl.hallId, currency: "USD" });
    expect(st.timestamp?.seconds).toBe(BigInt(Math.floor(at.getTime() / 1000)));
    expect(st.prices).toEqual([
      expect.objectContaining({ seatType: "premium", amount: 45 }),
      expect.objectContaining({ seatType: "standard", amount: 25.5 }),
    ]);
    expect((await h.client.getShowtime({ showtimeId: st.showtimeId })).showtime).toEqual(st);
    expect((await h.client.listShowtimes({ eventId: ev.eventId })).showtimes).toEqual([st]);

    // stored as integer minor units; ends_at = start + the event's running time
    const row = await h.db("showtimes").where({ id: st.showtimeId }).first();
    expect(row.prices).toEqual([
      { seatType: "premium", amountMinor: 4500 },
      { seatType: "standard", amountMinor: 2550 },
    ]);
    expect(new Date(row.ends_at).getTime() - new Date(row.starts_at).getTime()).toBe(165 * 60_000);

    // ShowtimeCreated went to the outbox in the same transaction
    const events = await outbox("ShowtimeCreated", st.showtimeId);
    expect(events).toHaveLength(1);
    expect(events[0].payload).toEqual({
      eventId: events[0].event_id,
      showtimeId: st.showtimeId,
      catalogEventId: ev.eventId,
      venueId: v.venueId,
      hallId: hl.hallId,
      startsAt: at.toISOString(),
    });
  });

  it("answers plain gRPC too (same handlers)", async () => {
    const grpc = createClient(CatalogService, createGrpcTransport({ baseUrl: h.url }));
    const v = await venue();
    expect((await grpc.getVenue({ venueId: v.venueId })).venue?.name).toBe(v.name);
    expect(await codeOf(grpc.createVenue({ name: "x", address: { city: "y" } }))).toBe(Code.Unauthenticated);
  });

  it("lists showtimes of an event ordered by time and 404s an unknown event", async () => {
    const v = await venue();
    const hl = await hall(v.venueId);
    const ev = await event(60);
    const times = [hoursFromNow(30), hoursFromNow(10), hoursFromNow(20)];
    for (const t of times) {
      await h.client.createShowtime(
        { eventId: ev.eventId, venueId: v.venueId, hallId: hl.hallId, timestamp: timestampFromDate(t), currency: "USD", prices: seedsPrices },
        h.admin,
      );
    }
    const list = (await h.client.listShowtimes({ eventId: ev.eventId })).showtimes;
    expect(list.map((s) => Number(s.timestamp!.seconds))).toEqual(
      [...times].sort((a, b) => a.getTime() - b.getTime()).map((t) => Math.floor(t.getTime() / 1000)),
    );
    expect(await codeOf(h.client.listShowtimes({ eventId: randomUUID() }))).toBe(Code.NotFound);
  });
});

describe("venue validation", () => {
  it("requires a name and a city (blank counts as missing)", async () => {
    const noName = await errorOf(h.client.createVenue({ name: "", address: { city: "Hyderabad" } }, h.admin));
    expect(noName.code).toBe(Code.InvalidArgument);
    expect(noName.rawMessage).toMatch(/^name: /);
    const blank = await errorOf(h.client.createVenue({ name: "   ", address: { city: "Hyderabad" } }, h.admin));
    expect(blank.rawMessage).toBe("name: must not be blank");
    const noCity = await errorOf(h.client.createVenue({ name: "X", address: { street: "1 Main St" } }, h.admin));
    expect(noCity.code).toBe(Code.InvalidArgument);
    expect(noCity.rawMessage).toMatch(/address\.city: /);
    const noAddress = await errorOf(h.client.createVenue({ name: "X" }, h.admin));
    expect(noAddress.rawMessage).toMatch(/^address: /);
    const blankCity = await errorOf(h.client.createVenue({ name: "X", address: { city: "  " } }, h.admin));
    expect(blankCity.rawMessage).toBe("address.city: must not be blank");
  });

  it("refuses coordinates out of range, naming lat and lon", async () => {
    const lat = await errorOf(h.client.createVenue({ name: "X", address: { city: "C" }, location: { lat: 90.5, lon: 0 } }, h.admin));
    expect(lat.code).toBe(Code.InvalidArgument);
    expect(lat.rawMessage).toMatch(/^location\.lat: /);
    const lon = await errorOf(h.client.createVenue({ name: "X", address: { city: "C" }, location: { lat: 0, lon: -180.1 } }, h.admin));
    expect(lon.rawMessage).toMatch(/^location\.lon: /);
    const both = await errorOf(h.client.createVenue({ name: "X", address: { city: "C" }, location: { lat: -91, lon: 181 } }, h.admin));
    expect(both.rawMessage).toMatch(/location\.lat: .*location\.lon: /);
    // the edges are fine
    const edge = await h.client.createVenue({ name: unique("Pole"), address: { city: "C" }, location: { lat: -90, lon: 180 } }, h.admin);
    expect(edge.venue?.location).toEqual(expect.objectContaining({ lat: -90, lon: 180 }));
  });

  it("refuses a second venue with the same name in the same city (any case), allows it elsewhere", async () => {
    const name = unique("Prasads IMAX");
    await h.client.createVenue({ name, address: { city: "Hyderabad" } }, h.admin);
    const dup = await errorOf(h.client.createVenue({ name: name.toUpperCase(), address: { city: "hyderabad" } }, h.admin));
    expect(dup.code).toBe(Code.AlreadyExists);
    expect(dup.rawMessage).toMatch(/^name: a venue named .* already exists in hyderabad/);
    const elsewhere = await h.client.createVenue({ name, address: { city: "Bengaluru" } }, h.admin);
    expect(elsewhere.venue?.address?.city).toBe("Bengaluru");
  });

  it("keeps a venue without a location (found by city only)", async () => {
    const v = (await h.client.createVenue({ name: unique("No GPS"), address: { city: "Pune" } }, h.admin)).venue!;
    expect(v.location).toBeUndefined();
    expect((await h.client.getVenue({ venueId: v.venueId })).venue?.location).toBeUndefined();
  });

  it("takes images as object keys only: no data URLs, nothing over 1024 characters", async () => {
    const data = await errorOf(
      h.client.createVenue({ name: "X", address: { city: "C" }, imageUrls: ["ok.jpg", "data:image/png;base64,iVBORw0KGgo="] }, h.admin),
    );
    expect(data.code).toBe(Code.InvalidArgument);
    expect(data.rawMessage).toMatch(/^imageUrls\[1\]: .*data URL/);
    const long = await errorOf(h.client.createVenue({ name: "X", address: { city: "C" }, imageUrls: ["k".repeat(1025)] }, h.admin));
    expect(long.rawMessage).toMatch(/^imageUrls\[0\]: /);
    const poster = await errorOf(h.client.createEvent({ name: "E", imageUrl: "DATA:image/jpeg;base64,/9j/4AAQ" }, h.admin));
    expect(poster.rawMessage).toMatch(/^imageUrl: .*data URL/);
  });

  it("404s an unknown venue", async () => {
    const err = await errorOf(h.client.getVenue({ venueId: randomUUID() }));
    expect(err.code).toBe(Code.NotFound);
    expect(await codeOf(h.client.getVenue({ venueId: "not-a-uuid" }))).toBe(Code.InvalidArgument);
  });
});

describe("hall validation and capacity", () => {
  let venueId: string;
  beforeAll(async () => {
    venueId = (await venue()).venueId;
  });

  const create = (seatLayout: object) => h.client.createHall({ venueId, hallName: "Hall", seatLayout }, h.admin);

  it("derives capacity from the layout and defaults seatType to standard", async () => {
    const hl = (await create(gridLayout(10, 25))).hall!;
    expect(hl.capacity).toBe(250);
    expect(hl.seatLayout?.sections[0].rows[3].seats[7].seatType).toBe("standard");
    const row = await h.db("halls").where({ id: hl.hallId }).first("capacity", "seat_types");
    expect(row).toEqual({ capacity: 250, seat_types: ["standard"] });
    const mixed = (await create(SEEDS_LAYOUT)).hall!;
    expect((await h.db("halls").where({ id: mixed.hallId }).first("seat_types")).seat_types).toEqual(["premium", "standard"]);
  });

  it("refuses a layout without seats", async () => {
    for (const layout of [{ sections: [] }, { sections: [{ name: "Empty", rows: [] }] }, { sections: [{ rows: [{ label: "A", seats: [] }] }] }]) {
      const err = await errorOf(create(layout));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/^seatLayout(\.sections)?: /);
    }
    expect((await errorOf(h.client.createHall({ venueId, hallName: "Hall" }, h.admin))).rawMessage).toMatch(/^seatLayout: /);
  });

  it("refuses a seat without an id, naming its path", async () => {
    const layout = gridLayout(2, 3);
    (layout.sections[0].rows[1].seats[2] as { id: string }).id = "";
    const err = await errorOf(create(layout));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^seatLayout\.sections\[0\]\.rows\[1\]\.seats\[2\]\.id: /);
    (layout.sections[0].rows[1].seats[2] as { id: string }).id = "   ";
    expect((await errorOf(create(layout))).rawMessage).toBe("seatLayout.sections[0].rows[1].seats[2].id: every seat needs an id");
  });

  it("refuses a seat id used twice in the hall, across sections and rows", async () => {
    const layout = structuredClone(SEEDS_LAYOUT);
    layout.sections[1].rows[0].seats[1].id = "A1";
    const err = await errorOf(create(layout));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(
      'seatLayout.sections[1].rows[0].seats[1].id: duplicate seat id "A1" (already used by seatLayout.sections[0].rows[0].seats[0])',
    );
  });

  it("refuses more than 100,000 seats and accepts exactly 100,000", async () => {
    const big = {
      sections: [0, 1].map((s) => ({
        id: `s${s}`,
        name: `S${s}`,
        rows: Array.from({ length: 500 }, (_, r) => ({
          label: `${s}-${r}`,
          seats: Array.from({ length: 100 + (s === 1 && r === 0 ? 1 : 0) }, (_, i) => ({ id: `${s}-${r}-${i}` })),
        })),
      })),
    };
    const err = await errorOf(create(big));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe("seatLayout: at most 100000 seats per hall, got 100001");
    big.sections[1].rows[0].seats.pop();
    const ok = (await create(big)).hall!;
    expect(ok.capacity).toBe(100_000);
  }, 120_000);

  it("404s an unknown venue, and a hall asked for under another venue", async () => {
    expect(await codeOf(h.client.createHall({ venueId: randomUUID(), hallName: "H", seatLayout: SEEDS_LAYOUT }, h.admin))).toBe(
      Code.NotFound,
    );
    const hl = await hall(venueId);
    const other = await venue();
    expect(await codeOf(h.client.getHall({ venueId: other.venueId, hallId: hl.hallId }))).toBe(Code.NotFound);
    expect(await codeOf(h.client.getHall({ venueId, hallId: randomUUID() }))).toBe(Code.NotFound);
    expect(await codeOf(h.client.listHalls({ venueId: randomUUID() }))).toBe(Code.NotFound);
  });
});

describe("showtime validation", () => {
  let venueId: string;
  let hallId: string;
  let eventId: string;
  beforeAll(async () => {
    venueId = (await venue()).venueId;
    hallId = (await hall(venueId)).hallId;
    eventId = (await event(120)).eventId;
  });

  const create = (over: Record<string, unknown> = {}) =>
    h.client.createShowtime(
      { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(24 * 30)), currency: "USD", prices: seedsPrices, ...over },
      h.admin,
    );

  it("404s an unknown event, venue or hall", async () => {
    for (const [field, what] of [["eventId", "event"], ["venueId", "venue"], ["hallId", "hall"]] as const) {
      const err = await errorOf(create({ [field]: randomUUID() }));
      expect(err.code).toBe(Code.NotFound);
      expect(err.rawMessage).toMatch(new RegExp(`^${what} `));
    }
  });

  it("refuses a hall that is not in the venue (400 naming hallId)", async () => {
    const other = await venue();
    const err = await errorOf(create({ venueId: other.venueId }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^hallId: hall .* is not in venue /);
  });

  it("refuses a seat type of the hall without a price, naming the seat type", async () => {
    const err = await errorOf(create({ prices: [{ seatType: "premium", amount: 45 }] }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('prices: seat type "standard" of the hall has no price');
  });

  it("refuses a price for a seat type the hall does not have, twice the same seat type, and too many decimals", async () => {
    const unknown = await errorOf(create({ prices: [...seedsPrices, { seatType: "vip", amount: 99 }] }));
    expect(unknown.rawMessage).toMatch(/^prices\[2\]\.seatType: the hall has no seats of type "vip"/);
    const twice = await errorOf(create({ prices: [...seedsPrices, { seatType: "premium", amount: 46 }] }));
    expect(twice.code).toBe(Code.InvalidArgument);
    expect(twice.rawMessage).toMatch(/prices/);
    const cents = await errorOf(create({ prices: [{ seatType: "premium", amount: 45.005 }, seedsPrices[1]] }));
    expect(cents.rawMessage).toBe("prices[0].amount: USD has 2 decimal places, got 45.005");
    const negative = await errorOf(create({ prices: [{ seatType: "premium", amount: -1 }, seedsPrices[1]] }));
    expect(negative.rawMessage).toMatch(/^prices\[0\]\.amount: /);
  });

  it("stores zero-decimal currencies as they are (JPY) and refuses unknown currencies", async () => {
    const st = (
      await create({
        timestamp: timestampFromDate(hoursFromNow(24 * 31)),
        currency: "JPY",
        prices: [
          { seatType: "premium", amount: 1800 },
          { seatType: "standard", amount: 1200 },
        ],
      })
    ).showtime!;
    expect(st.prices.map((p) => p.amount)).toEqual([1800, 1200]);
    expect((await h.db("showtimes").where({ id: st.showtimeId }).first("prices")).prices[0].amountMinor).toBe(1800);
    const yen = await errorOf(create({ currency: "JPY", prices: [{ seatType: "premium", amount: 1800.5 }, { seatType: "standard", amount: 1200 }] }));
    expect(yen.rawMessage).toBe("prices[0].amount: JPY has 0 decimal places, got 1800.5");
    expect((await errorOf(create({ currency: "usd" }))).rawMessage).toMatch(/^currency: /);
    expect((await errorOf(create({ currency: "XYZ" }))).rawMessage).toBe('currency: unknown ISO 4217 currency "XYZ"');
  });

  it("refuses a timestamp in the past (or missing)", async () => {
    const past = await errorOf(create({ timestamp: timestampFromDate(hoursFromNow(-1)) }));
    expect(past.code).toBe(Code.InvalidArgument);
    expect(past.rawMessage).toMatch(/^timestamp: /);
    expect((await errorOf(create({ timestamp: undefined }))).rawMessage).toMatch(/^timestamp: /);
  });

  it("refuses a showtime that overlaps another in the same hall, using the event's duration (409)", async () => {
    const base = hoursFromNow(24 * 40);
    const at = (min: number) => timestampFromDate(new Date(base.getTime() + min * 60_000));
    const first = (await create({ timestamp: at(0) })).showtime!;
    // 120-minute event: [0, 120) is taken
    for (const start of [-119, 0, 60, 119]) {
      const err = await errorOf(create({ timestamp: at(start) }));
      expect(err.code).toBe(Code.AlreadyExists);
      expect(err.rawMessage).toMatch(new RegExp(`^timestamp: .* overlaps showtime ${first.showtimeId}`));
    }
    // touching is fine on both sides
    await create({ timestamp: at(120) });
    await create({ timestamp: at(-120) });
    // another hall at the same time is fine
    const otherHall = await hall(venueId);
    await create({ hallId: otherHall.hallId, timestamp: at(0) });
    // a longer event from before reaches into the slot
    const long = await event(300);
    const err = await errorOf(create({ eventId: long.eventId, timestamp: at(-400) }));
    expect(err.code).toBe(Code.AlreadyExists);
  });

  it("uses a default duration (120 min) for an event of unknown length", async () => {
    const unknownLength = await event(0);
    const base = hoursFromNow(24 * 50);
    const at = (min: number) => timestampFromDate(new Date(base.getTime() + min * 60_000));
    await create({ eventId: unknownLength.eventId, timestamp: at(0) });
    expect(await codeOf(create({ timestamp: at(119) }))).toBe(Code.AlreadyExists);
    expect(await codeOf(create({ timestamp: at(120) }))).toBe("ok");
  });

  it("lets exactly one of many concurrent overlapping creates win (race-free)", async () => {
    const hl = await hall(venueId);
    const base = hoursFromNow(24 * 60);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        codeOf(create({ hallId: hl.hallId, timestamp: timestampFromDate(new Date(base.getTime() + i * 5 * 60_000)) })),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r !== "ok").every((r) => r === Code.AlreadyExists)).toBe(true);
    expect(await h.db("showtimes").where({ hall_id: hl.hallId }).count<{ count: string }[]>("* as count")).toEqual([{ count: "1" }]);
  });

  it("404s an unknown showtime", async () => {
    expect(await codeOf(h.client.getShowtime({ showtimeId: randomUUID() }))).toBe(Code.NotFound);
  });
});

describe("access: admin-only writes, public reads, internal RPCs", () => {
  let venueId: string;
  let hallId: string;
  let eventId: string;
  let showtimeId: string;
  beforeAll(async () => {
    venueId = (await venue()).venueId;
    hallId = (await hall(venueId)).hallId;
    eventId = (await event()).eventId;
    showtimeId = (
      await h.client.createShowtime(
        { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(5)), currency: "USD", prices: seedsPrices },
        h.admin,
      )
    ).showtime!.showtimeId;
  });

  const writes = () => ({
    createVenue: (o?: object) => h.client.createVenue({ name: unique("V"), address: { city: "C" } }, o),
    updateVenue: (o?: object) => h.client.updateVenue({ venueId, name: unique("V") }, o),
    createHall: (o?: object) => h.client.createHall({ venueId, hallName: "H", seatLayout: SEEDS_LAYOUT }, o),
    createEvent: (o?: object) => h.client.createEvent({ name: "E" }, o),
    updateEvent: (o?: object) => h.client.updateEvent({ eventId, name: "E2" }, o),
    createShowtime: (o?: object) =>
      h.client.createShowtime(
        { eventId, venueId, hallId, timestamp: timestampFromDate(hoursFromNow(24 * 365)), currency: "USD", prices: seedsPrices },
        o,
      ),
  });

  it("401 without a token, 403 with a user token, for every write", async () => {
    for (const [name, call] of Object.entries(writes())) {
      expect([name, await codeOf(call())]).toEqual([name, Code.Unauthenticated]);
      expect([name, await codeOf(call(h.user))]).toEqual([name, Code.PermissionDenied]);
    }
  });

  it("401 with a bad token", async () => {
    expect(await codeOf(writes().createVenue({ headers: { authorization: "Bearer not.a.token" } }))).toBe(Code.Unauthenticated);
  });

  it("reads are public", async () => {
    expect(await codeOf(h.client.getVenue({ venueId }))).toBe("ok");
    expect(await codeOf(h.client.getHall({ venueId, hallId }))).toBe("ok");
    expect(await codeOf(h.client.listHalls({ venueId }))).toBe("ok");
    expect(await codeOf(h.client.getEvent({ eventId }))).toBe("ok");
    expect(await codeOf(h.client.getShowtime({ showtimeId }))).toBe("ok");
    expect(await codeOf(h.client.listShowtimes({ eventId }))).toBe("ok");
    expect(await codeOf(h.client.getVenue({ venueId }, h.user))).toBe("ok");
  });

  it("internal RPCs take service credentials only", async () => {
    const calls = {
      getShowtimeDetails: (o?: object) => h.client.getShowtimeDetails({ showtimeId }, o),
      listShowtimeDetails: (o?: object) => h.client.listShowtimeDetails({}, o),
      updateEventRating: (o?: object) =>
        h.client.updateEventRating({ eventId, averageRating: 4, reviewCount: 1, computedAt: timestampFromDate(new Date(0)) }, o),
    };
    for (const [name, call] of Object.entries(calls)) {
      expect([name, await codeOf(call())]).toEqual([name, Code.Unauthenticated]);
      expect([name, await codeOf(call(h.user))]).toEqual([name, Code.PermissionDenied]);
      expect([name, await codeOf(call(h.admin))]).toEqual([name, Code.PermissionDenied]);
      expect([name, await codeOf(call(h.service))]).toEqual([name, "ok"]);
    }
  });
});

describe("PATCH venue", () => {
  it("changes only what is sent; merges the address field by field; replaces the location", async () => {
    const v = await venue("Hyderabad", { imageUrls: ["a.jpg"], address: { city: "Hyderabad", street: "1 Main St", zip: "500001" } });
    const renamed = (await h.client.updateVenue({ venueId: v.venueId, name: "Renamed " + v.venueId }, h.admin)).venue!;
    expect(renamed).toMatchObject({ name: "Renamed " + v.venueId, address: v.address, location: v.location, imageUrls: ["a.jpg"] });
    const zip = (await h.client.updateVenue({ venueId: v.venueId, address: { zip: "500081" } }, h.admin)).venue!;
    expect(zip.address).toEqual({ ...v.address, zip: "500081" });
    const cleared = (await h.client.updateVenue({ venueId: v.venueId, address: { street: "" } }, h.admin)).venue!;
    expect(cleared.address).toMatchObject({ street: "", city: "Hyderabad", zip: "500081" });
    const moved = (await h.client.updateVenue({ venueId: v.venueId, location: { lat: 12.97, lon: 77.59 } }, h.admin)).venue!;
    expect(moved.location).toEqual(expect.objectContaining({ lat: 12.97, lon: 77.59 }));
    expect(moved.createdAt).toEqual(v.createdAt);
    expect((await h.client.getVenue({ venueId: v.venueId })).venue).toEqual(moved);
  });

  it("replaces imageUrls when non-empty, keeps them when empty, clears them with updateMask", async () => {
    const v = await venue("Hyderabad", { imageUrls: ["a.jpg"] });
    const replaced = (await h.client.updateVenue({ venueId: v.venueId, imageUrls: ["b.jpg", "c.jpg"] }, h.admin)).venue!;
    expect(replaced.imageUrls).toEqual(["b.jpg", "c.jpg"]);
    const kept = (await h.client.updateVenue({ venueId: v.venueId, imageUrls: [] }, h.admin)).venue!;
    expect(kept.imageUrls).toEqual(["b.jpg", "c.jpg"]);
    const emptied = (await h.client.updateVenue({ venueId: v.venueId, imageUrls: [], updateMask: { paths: ["image_urls"] } }, h.admin))
      .venue!;
    expect(emptied.imageUrls).toEqual([]);
    expect(await codeOf(h.client.updateVenue({ venueId: v.venueId, updateMask: { paths: ["name"] } }, h.admin))).toBe(
      Code.InvalidArgument,
    );
  });

  it("validates what it changes: blank name or city, coordinates, images, name taken in the city", async () => {
    const v = await venue("Chennai");
    const other = await venue("Chennai");
    expect((await errorOf(h.client.updateVenue({ venueId: v.venueId, name: " " }, h.admin))).rawMessage).toBe("name: must not be blank");
    expect((await errorOf(h.client.updateVenue({ venueId: v.venueId, address: { city: "" } }, h.admin))).rawMessage).toMatch(
      /^address\.city: /,
    );
    expect((await errorOf(h.client.updateVenue({ venueId: v.venueId, location: { lat: 100, lon: 0 } }, h.admin))).rawMessage).toMatch(
      /^location\.lat: /,
    );
    expect((await errorOf(h.client.updateVenue({ venueId: v.venueId, imageUrls: ["data:,x"] }, h.admin))).rawMessage).toMatch(
      /^imageUrls\[0\]: /,
    );
    const taken = await errorOf(h.client.updateVenue({ venueId: v.venueId, name: other.name.toLowerCase() }, h.admin));
    expect(taken.code).toBe(Code.AlreadyExists);
    // moving to a city where the name is free is fine
    const moved = await h.client.updateVenue({ venueId: v.venueId, name: other.name, address: { city: "Madurai" } }, h.admin);
    expect(moved.venue?.address?.city).toBe("Madurai");
    expect(await codeOf(h.client.updateVenue({ venueId: randomUUID(), name: "x" }, h.admin))).toBe(Code.NotFound);
  });

  it("publishes VenueUpdated in the same transaction, and nothing when the update fails", async () => {
    const v = await venue();
    await h.client.updateVenue({ venueId: v.venueId, name: unique("New name") }, h.admin);
    await errorOf(h.client.updateVenue({ venueId: v.venueId, name: " " }, h.admin));
    const events = await outbox("VenueUpdated", v.venueId);
    expect(events).toHaveLength(1);
    expect(events[0].payload).toEqual({ eventId: events[0].event_id, venueId: v.venueId });
  });
});

describe("PATCH event", () => {
  it("changes only what is sent; keywords replace or clear with updateMask; metadata is replaced; rating is not editable", async () => {
    const e = await event(100, { description: "d", imageUrl: "p.jpg", keywords: ["a", "b"], metadata: { language: "en" } });
    const named = (await h.client.updateEvent({ eventId: e.eventId, name: "New" }, h.admin)).event!;
    expect(named).toMatchObject({ ...e, name: "New", createdAt: e.createdAt, $typeName: e.$typeName });
    const dur = (await h.client.updateEvent({ eventId: e.eventId, durationMinutes: 0, category: "Concert" }, h.admin)).event!;
    expect(dur).toMatchObject({ durationMinutes: 0, category: "Concert", keywords: ["a", "b"], description: "d" });
    const kw = (await h.client.updateEvent({ eventId: e.eventId, keywords: ["c", " C ", "d"] }, h.admin)).event!;
    expect(kw.keywords).toEqual(["c", "d"]);
    expect((await h.client.updateEvent({ eventId: e.eventId, keywords: [] }, h.admin)).event!.keywords).toEqual(["c", "d"]);
    const noKw = (await h.client.updateEvent({ eventId: e.eventId, updateMask: { paths: ["keywords"] } }, h.admin)).event!;
    expect(noKw.keywords).toEqual([]);
    const meta = (await h.client.updateEvent({ eventId: e.eventId, metadata: { rating: "PG" } }, h.admin)).event!;
    expect(meta.metadata).toEqual({ rating: "PG" });
    expect(meta.name).toBe("New");
    const noMeta = (await h.client.updateEvent({ eventId: e.eventId, metadata: {} }, h.admin)).event!;
    expect(noMeta.metadata).toEqual({});
    expect((await errorOf(h.client.updateEvent({ eventId: e.eventId, name: "" }, h.admin))).rawMessage).toMatch(/^name: /);
    expect((await errorOf(h.client.updateEvent({ eventId: e.eventId, durationMinutes: -1 }, h.admin))).rawMessage).toMatch(
      /^durationMinutes: /,
    );
    expect(await codeOf(h.client.updateEvent({ eventId: randomUUID(), name: "x" }, h.admin))).toBe(Code.NotFound);
    const events = await outbox("EventUpdated", e.eventId);
    expect(events.length).toBe(7); // one per successful update, none for the refused ones
    expect(events[0].payload).toEqual({ eventId: events[0].event_id, catalogEventId: e.eventId });
  });
});

describe("internal reads and the rating aggregate", () => {
  it("GetShowtimeDetails denormalises event, venue and hall (layout on request)", async () => {
    const v = await venue();
    const hl = await hall(v.venueId);
    const e = await event();
    const st = (
      await h.client.createShowtime(
        { eventId: e.eventId, venueId: v.venueId, hallId: hl.hallId, timestamp: timestampFromDate(hoursFromNow(3)), currency: "EUR", prices: seedsPrices },
        h.admin,
      )
    ).showtime!;
    const d = (await h.client.getShowtimeDetails({ showtimeId: st.showtimeId }, h.service)).details!;
    expect(d.showtime).toEqual(st);
    expect(d.event).toEqual(e);
    expect(d.venue).toEqual(v);
    expect(d.hall).toMatchObject({ hallId: hl.hallId, capacity: 6 });
    expect(d.hall?.seatLayout).toBeUndefined();
    const full = (await h.client.getShowtimeDetails({ showtimeId: st.showtimeId, includeSeatLayout: true }, h.service)).details!;
    expect(full.hall?.seatLayout).toEqual(hl.seatLayout);
    expect(await codeOf(h.client.getShowtimeDetails({ showtimeId: randomUUID() }, h.service))).toBe(Code.NotFound);
  });

  it("ListShowtimeDetails pages through showtimes by id, filtered by event, venue and start", async () => {
    const v = await venue();
    const hl = await hall(v.venueId);
    const e = await event(30);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const st = await h.client.createShowtime(
        { eventId: e.eventId, venueId: v.venueId, hallId: hl.hallId, timestamp: timestampFromDate(hoursFromNow(1 + i)), currency: "USD", prices: seedsPrices },
        h.admin,
      );
      ids.push(st.showtime!.showtimeId);
    }
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await h.client.listShowtimeDetails({ eventId: e.eventId, pageSize: 3, pageToken }, h.service);
      seen.push(...page.details.map((d) => d.showtime!.showtimeId));
      for (const d of page.details) {
        expect(d.event?.eventId).toBe(e.eventId);
        expect(d.venue?.venueId).toBe(v.venueId);
        expect(d.hall?.hallId).toBe(hl.hallId);
        expect(d.hall?.seatLayout).toBeUndefined();
      }
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
    const byVenue = await h.client.listShowtimeDetails({ venueId: v.venueId, startsAfter: timestampFromDate(hoursFromNow(4.5)) }, h.service);
    expect(byVenue.details).toHaveLength(3);
    expect(byVenue.nextPageToken).toBe("");
    expect((await errorOf(h.client.listShowtimeDetails({ pageToken: "garbage" }, h.service))).rawMessage).toMatch(/^pageToken: /);
  });

  it("UpdateEventRating keeps the newest aggregate and shows it on the event; each applied one publishes EventUpdated for search", async () => {
    const e = await event();
    const at = (s: number) => timestampFromDate(new Date(1_700_000_000_000 + s * 1000));
    const published = async () => (await h.db("outbox").where({ event_type: "EventUpdated", aggregate_id: e.eventId })).length;
    const before = await published();
    expect((await h.client.updateEventRating({ eventId: e.eventId, averageRating: 4.5, reviewCount: 2, computedAt: at(10) }, h.service)).applied).toBe(true);
    expect(await published()).toBe(before + 1);
    expect((await h.client.updateEventRating({ eventId: e.eventId, averageRating: 1, reviewCount: 1, computedAt: at(5) }, h.service)).applied).toBe(false);
    expect(await published()).toBe(before + 1); // a stale aggregate changes nothing
    expect((await h.client.getEvent({ eventId: e.eventId })).event).toMatchObject({ averageRating: 4.5, reviewCount: 2 });
    expect((await h.client.updateEventRating({ eventId: e.eventId, averageRating: 4, reviewCount: 3, computedAt: at(11) }, h.service)).applied).toBe(true);
    expect((await h.client.getEvent({ eventId: e.eventId })).event).toMatchObject({ averageRating: 4, reviewCount: 3 });
    expect(
      await codeOf(h.client.updateEventRating({ eventId: randomUUID(), averageRating: 1, reviewCount: 1, computedAt: at(1) }, h.service)),
    ).toBe(Code.NotFound);
    expect(
      await codeOf(h.client.updateEventRating({ eventId: e.eventId, averageRating: 6, reviewCount: 1, computedAt: at(20) }, h.service)),
    ).toBe(Code.InvalidArgument);
  });
});
