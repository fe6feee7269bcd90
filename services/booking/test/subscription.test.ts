import { Subscription, type WatchMessage } from "../inventory-hub.js";

/**
 * One stream's queue of the live seat maps (inventory-hub.ts), on its own: what a stream is given
 * once its client has gone, or the service shuts down.
 */

const change = (seatId: string): WatchMessage => ({ snapshot: false, lastUpdatedMs: 1, seats: [{ seatId, status: "held" }] });

function subscription() {
  const closed: Subscription[] = [];
  const sub = new Subscription({ all: true }, 10, (s) => closed.push(s));
  return { sub, closed };
}

describe("a seat map subscription", () => {
  it("once its client has gone (the signal aborts) it yields nothing more, not even what is queued", async () => {
    const { sub, closed } = subscription();
    const abort = new AbortController();
    const messages = sub.messages(abort.signal);
    sub.push(change("A1"));
    sub.push(change("A2"));
    sub.push(change("A3"));
    expect((await messages.next()).value).toEqual(change("A1"));
    abort.abort();
    // A2 and A3 would be written to a response that no longer exists
    expect(await messages.next()).toEqual({ done: true, value: undefined });
    expect(closed).toEqual([sub]);
  });

  it("a client gone while the stream waits for changes ends it too, and later changes are dropped", async () => {
    const { sub, closed } = subscription();
    const abort = new AbortController();
    const messages = sub.messages(abort.signal);
    sub.push(change("A1"));
    expect((await messages.next()).value).toEqual(change("A1"));
    const waiting = messages.next();
    abort.abort();
    sub.push(change("A2"));
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(closed).toEqual([sub]);
  });

  it("closed by the service (shutdown), it still hands over what was queued, then ends", async () => {
    const { sub } = subscription();
    const messages = sub.messages(new AbortController().signal);
    sub.push(change("A1"));
    sub.push(change("A2"));
    sub.close();
    expect((await messages.next()).value).toEqual(change("A1"));
    expect((await messages.next()).value).toEqual(change("A2"));
    expect((await messages.next()).done).toBe(true);
  });
});
