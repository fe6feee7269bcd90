/**
 * The showtime facts a notification shows (event, venue, start), remembered for a short while:
 * during an on-sale nearly every notification is about the same few showtimes, and asking the
 * catalog for each one was a catalog RPC per booking. A fact the catalog changes (an event
 * renamed, a show moved) reaches new messages within `ttlMs` (default 30 s); messages already
 * queued keep what they said, as before. Concurrent lookups of one showtime share one call; a
 * failed call is not remembered.
 */
export class ShowtimeDetailsCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.maxEntries = opts.maxEntries ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  /** The remembered answer for `showtimeId`, or `load()`'s (remembered once it succeeds). */
  get(showtimeId: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(showtimeId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    if (this.ttlMs <= 0) return load();
    const value = load();
    const entry = { at: this.now(), value };
    this.entries.delete(showtimeId); // re-inserted last: the Map's order is the age order
    this.entries.set(showtimeId, entry);
    value.catch(() => {
      if (this.entries.get(showtimeId) === entry) this.entries.delete(showtimeId);
    });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
