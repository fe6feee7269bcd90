import { ShowtimeDetailsCache } from "../showtime-details-cache.js";

/** A loader that counts its calls and answers what `next` says (or fails). */
function loader() {
  const calls: string[] = [];
  let fail = false;
  return {
    calls,
    failNext() {
      fail = true;
    },
    load: (id: string) => async () => {
      calls.push(id);
      if (fail) {
        fail = false;
        throw new Error("catalog unavailable");
      }
      return { id, n: calls.length };
    },
  };
}

describe("ShowtimeDetailsCache", () => {
  let now = 1_000_000;
  const clock = () => now;

  it("asks once per showtime within the TTL, and again after it", async () => {
    const cache = new ShowtimeDetailsCache<{ id: string; n: number }>({ ttlMs: 30_000, now: clock });
    const l = loader();
    expect(await cache.get("a", l.load("a"))).toEqual({ id: "a", n: 1 });
    now += 29_999;
    expect(await cache.get("a", l.load("a"))).toEqual({ id: "a", n: 1 });
    expect(await cache.get("b", l.load("b"))).toEqual({ id: "b", n: 2 });
    now += 1;
    expect(await cache.get("a", l.load("a"))).toEqual({ id: "a", n: 3 });
    expect(l.calls).toEqual(["a", "b", "a"]);
  });

  it("concurrent lookups of one showtime share one call", async () => {
    const cache = new ShowtimeDetailsCache<{ id: string; n: number }>({ now: clock });
    const l = loader();
    const all = await Promise.all(Array.from({ length: 10 }, () => cache.get("c", l.load("c"))));
    expect(new Set(all.map((x) => x.n))).toEqual(new Set([1]));
    expect(l.calls).toEqual(["c"]);
  });

  it("a failed call is not remembered: the next lookup asks again", async () => {
    const cache = new ShowtimeDetailsCache<{ id: string; n: number }>({ now: clock });
    const l = loader();
    l.failNext();
    await expect(cache.get("d", l.load("d"))).rejects.toThrow("catalog unavailable");
    expect(await cache.get("d", l.load("d"))).toEqual({ id: "d", n: 2 });
    expect(l.calls).toEqual(["d", "d"]);
  });

  it("keeps at most maxEntries showtimes, forgetting the oldest; TTL 0 asks every time", async () => {
    const cache = new ShowtimeDetailsCache<{ id: string; n: number }>({ maxEntries: 2, now: clock });
    const l = loader();
    for (const id of ["e", "f", "g", "e"]) await cache.get(id, l.load(id));
    expect(l.calls).toEqual(["e", "f", "g", "e"]); // e was the oldest when g came
    const none = new ShowtimeDetailsCache<{ id: string; n: number }>({ ttlMs: 0, now: clock });
    const l2 = loader();
    await none.get("h", l2.load("h"));
    await none.get("h", l2.load("h"));
    expect(l2.calls).toEqual(["h", "h"]);
  });
});
