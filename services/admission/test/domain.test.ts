import { secondsFor, viewEntry, type Entry, type Room } from "../domain/room.js";

const T = new Date("2026-12-03T18:00:00Z");
const at = (s: number) => new Date(T.getTime() + s * 1000);

const room = (over: Partial<Room> = {}): Room => ({
  showtimeId: "s",
  enabled: true,
  onSaleAt: at(0),
  showtimeStartsAt: at(86_400),
  ratePerMinute: 120,
  maxActiveBuyers: 0,
  windowSeconds: 600,
  state: "open",
  servingNumber: 10,
  lastPosition: 100,
  generation: 1,
  advancedAt: at(30),
  ...over,
});
const entry = (over: Partial<Entry> = {}): Entry => ({ showtimeId: "s", userId: "u", joinedAt: at(-60), position: 25, admittedAt: null, ...over });

describe("a buyer's place", () => {
  it("in the pre-queue: no position, the wait until the on-sale time", () => {
    expect(viewEntry(room({ state: "scheduled", servingNumber: 0 }), entry({ position: null }), at(-90))).toEqual({
      status: "prequeue",
      position: 0,
      ahead: 0,
      estimatedWaitSeconds: 90,
    });
  });

  it("waiting: buyers ahead and the wait at the room's rate", () => {
    // 15 places to go at 2 a second
    expect(viewEntry(room(), entry(), at(40))).toEqual({ status: "waiting", position: 25, ahead: 14, estimatedWaitSeconds: 8 });
  });

  it("admitted until its window ends, then lapsed", () => {
    const admitted = entry({ position: 7, admittedAt: at(20) });
    expect(viewEntry(room(), admitted, at(619))).toMatchObject({ status: "admitted", ahead: 0, estimatedWaitSeconds: 0, admissionExpiresAt: at(620) });
    expect(viewEntry(room(), admitted, at(620)).status).toBe("lapsed");
  });

  it("closed once the room is switched off, whatever the workflow has got to", () => {
    expect(viewEntry(room({ enabled: false }), entry(), at(40)).status).toBe("closed");
    expect(viewEntry(room({ state: "closed" }), entry({ position: 3 }), at(40)).status).toBe("closed");
  });

  it("by a cap, the pace assumes each admitted buyer uses their whole window", () => {
    expect(secondsFor({ ratePerMinute: 0, maxActiveBuyers: 50, windowSeconds: 600 }, 100)).toBe(1200);
    expect(secondsFor({ ratePerMinute: 60, maxActiveBuyers: 0, windowSeconds: 600 }, 3)).toBe(3);
    expect(secondsFor({ ratePerMinute: 60, maxActiveBuyers: 0, windowSeconds: 600 }, 0)).toBe(0);
  });
});
