import { Code } from "@connectrpc/connect";
import { AppError } from "../../../lib/errors.js";
import { uuidV5 } from "../domain/ids.js";
import { DEFAULT_SEAT_TYPE, MAX_SEATS, normalizeLayout } from "../domain/layout.js";
import { fromMinorUnits, minorDigits, toMinorUnits } from "../../../lib/money.js";
import { checkStartsInFuture, endsAt, priceSeatTypes } from "../domain/showtime.js";
import { geoPoint, imageKey, keywords } from "../domain/values.js";
import { gridLayout, SEEDS_LAYOUT } from "./harness.js";

/** Pure rules, no engines. */

const problem = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(Code.InvalidArgument);
    return (err as AppError).message;
  }
  throw new Error("expected a validation error");
};

describe("uuidV5", () => {
  it("matches RFC 4122's algorithm (the well-known DNS example) and is deterministic", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
    expect(uuidV5("demo:venue:x")).toBe(uuidV5("demo:venue:x"));
    expect(uuidV5("demo:venue:x")).not.toBe(uuidV5("demo:venue:y"));
  });
});

describe("normalizeLayout", () => {
  it("counts seats, collects sorted seat types and fills in the default seat type", () => {
    const n = normalizeLayout({
      sections: [{ id: " s ", name: "S", rows: [{ label: "A", seats: [{ id: "A1", label: "", seatType: "" }, { id: "A2", label: "", seatType: "vip" }] }] }],
    });
    expect(n.capacity).toBe(2);
    expect(n.seatTypes).toEqual([DEFAULT_SEAT_TYPE, "vip"]);
    expect(n.layout.sections[0]).toEqual({
      id: "s",
      name: "S",
      rows: [{ label: "A", seats: [{ id: "A1", label: "", seatType: "standard" }, { id: "A2", label: "", seatType: "vip" }] }],
    });
    const seeds = normalizeLayout(SEEDS_LAYOUT);
    expect(seeds.capacity).toBe(6);
    expect(seeds.layout).toEqual(SEEDS_LAYOUT);
  });

  it("keeps the hall's focal point (the stage) and refuses one that is not finite", () => {
    const sections = [{ id: "", name: "", rows: [{ label: "A", seats: [{ id: "A1", label: "", seatType: "" }] }] }];
    expect(normalizeLayout({ focalPoint: { x: 5, y: -3 }, sections }).layout.focalPoint).toEqual({ x: 5, y: -3 });
    expect(normalizeLayout({ sections }).layout).not.toHaveProperty("focalPoint");
    expect(problem(() => normalizeLayout({ focalPoint: { x: NaN, y: 0 }, sections }))).toBe("seatLayout.focalPoint: x and y must be finite numbers");
  });

  it("reports every problem (up to ten) with its JSON path", () => {
    const layout = gridLayout(2, 2);
    layout.sections[0].rows[1].seats[0].id = "R1S1";
    layout.sections[0].rows[1].seats[1].id = "";
    expect(problem(() => normalizeLayout(layout))).toBe(
      'seatLayout.sections[0].rows[1].seats[0].id: duplicate seat id "R1S1" (already used by seatLayout.sections[0].rows[0].seats[0]); ' +
        "seatLayout.sections[0].rows[1].seats[1].id: every seat needs an id",
    );
    const many = gridLayout(1, 30);
    for (const seat of many.sections[0].rows[0].seats) seat.id = "same";
    expect(problem(() => normalizeLayout(many)).split("; ")).toHaveLength(10);
  });

  it("refuses no seats and more than MAX_SEATS", () => {
    expect(problem(() => normalizeLayout({ sections: [] }))).toBe("seatLayout: the layout must contain at least one seat");
    const tooMany = { sections: [{ id: "", name: "", rows: [{ label: "", seats: new Array(MAX_SEATS + 1).fill({ id: "x", label: "", seatType: "" }) }] }] };
    expect(problem(() => normalizeLayout(tooMany))).toBe(`seatLayout: at most ${MAX_SEATS} seats per hall, got ${MAX_SEATS + 1}`);
  });

  it("validates 10,000 seats in one pass, fast", () => {
    const layout = gridLayout(100, 100, "standard");
    normalizeLayout(layout); // warm up
    const started = performance.now();
    const n = normalizeLayout(layout);
    expect(n.capacity).toBe(10_000);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe("money", () => {
  it("converts major units to integer minor units per ISO 4217 digits", () => {
    expect(minorDigits("USD")).toBe(2);
    expect(minorDigits("JPY")).toBe(0);
    expect(minorDigits("KWD")).toBe(3);
    expect(toMinorUnits(45, "USD")).toBe(4500);
    expect(toMinorUnits(0.1 + 0.2, "USD")).toBe(30);
    expect(toMinorUnits(19.99, "INR")).toBe(1999);
    expect(toMinorUnits(12.345, "USD")).toBeUndefined();
    expect(toMinorUnits(1500, "JPY")).toBe(1500);
    expect(toMinorUnits(1500.5, "JPY")).toBeUndefined();
    expect(toMinorUnits(1.234, "KWD")).toBe(1234);
    expect(fromMinorUnits(2550, "USD")).toBe(25.5);
    expect(fromMinorUnits(1500, "JPY")).toBe(1500);
  });
});

describe("showtime rules", () => {
  it("prices every seat type of the hall exactly once", () => {
    expect(priceSeatTypes([{ seatType: "standard", amount: 10 }, { seatType: "premium", amount: 20.5 }], ["premium", "standard"], "USD")).toEqual([
      { seatType: "premium", amountMinor: 2050 },
      { seatType: "standard", amountMinor: 1000 },
    ]);
    expect(problem(() => priceSeatTypes([{ seatType: "standard", amount: 10 }], ["premium", "standard", "wheelchair"], "USD"))).toBe(
      'prices: seat type "premium" of the hall has no price; prices: seat type "wheelchair" of the hall has no price',
    );
  });

  it("ends after the event's running time, or the default when unknown; starts in the future", () => {
    const start = new Date("2030-01-01T18:00:00Z");
    expect(endsAt(start, 90).toISOString()).toBe("2030-01-01T19:30:00.000Z");
    expect(endsAt(start, 0).toISOString()).toBe("2030-01-01T20:00:00.000Z");
    expect(problem(() => checkStartsInFuture(start, start))).toMatch(/^timestamp: must be in the future/);
    expect(() => checkStartsInFuture(start, new Date(start.getTime() - 1))).not.toThrow();
  });
});

describe("values", () => {
  it("image keys, keywords, coordinates", () => {
    expect(imageKey("imageUrl", " venues/a.jpg ")).toBe("venues/a.jpg");
    expect(problem(() => imageKey("imageUrl", "data:text/plain,hi"))).toMatch(/^imageUrl: .*data URL/);
    expect(problem(() => imageKey("imageUrl", "a\nb"))).toMatch(/control characters/);
    expect(keywords("keywords", [" Action ", "action", "Batman"])).toEqual(["Action", "Batman"]);
    expect(problem(() => keywords("keywords", ["ok", " "]))).toBe("keywords[1]: must not be blank");
    expect(problem(() => geoPoint("location", { lat: Number.NaN, lon: 0 }))).toMatch(/^location\.lat: /);
  });
});
