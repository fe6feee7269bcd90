import type { Knex } from "../../../lib/db.js";
import { SCHEMA, SIMILAR_WORDS_FUNCTION, WORDS_TABLE } from "../db/migrations.js";

/**
 * The Postgres engine's words: query and document text split into words, and typo tolerance
 * through `search.words` (the vocabulary of event names and keywords) with a cache of each query
 * word's similar words.
 */

/** Similar dictionary words taken per query word, most similar first. */
export const SIMILAR_PER_WORD = 8;
/** Words up to this long also match dictionary words one edit away (oneEditAway). */
const SHORT_WORD = 5;
/** How long a query word's similar dictionary words are reused (the vocabulary only grows). */
const SIMILAR_CACHE_MS = 30_000;
/** Query words whose similar words are kept at most (oldest dropped first). */
const SIMILAR_CACHE_SIZE = 10_000;

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** Lower-case words (letters and digits) of a text, each once, in order. */
export function wordsOf(text: string, max = 16): string[] {
  return [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, max);
}

const EDIT_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Every string one edit away from `word`: a letter deleted, two neighbours swapped, a letter
 * replaced or inserted (Elasticsearch/OpenSearch fuzziness for words of 3–5 letters, a swap counting as one
 * edit). Trigram similarity misses these for short words: "jzaz" shares no trigram with "jazz".
 * Letters outside a–z/0–9 that the word itself has are tried too. Empty below 3 letters.
 */
export function oneEditAway(word: string): string[] {
  const letters = [...word];
  if (letters.length < 3) return [];
  const alphabet = [...new Set([...EDIT_ALPHABET, ...letters])];
  const out = new Set<string>();
  for (let i = 0; i <= letters.length; i++) {
    const head = letters.slice(0, i).join("");
    const tail = letters.slice(i);
    if (tail.length) out.add(head + tail.slice(1).join("")); // delete
    if (tail.length > 1) out.add(head + tail[1] + tail[0] + tail.slice(2).join("")); // swap
    for (const c of alphabet) {
      if (tail.length && c !== tail[0]) out.add(head + c + tail.slice(1).join("")); // replace
      out.add(head + c + tail.join("")); // insert
    }
  }
  out.delete(word);
  return [...out];
}

/** The query words as a prefix OR query ('simple' configuration), or undefined without words. */
export function tsQueryOf(text: string): string | undefined {
  const words = wordsOf(text);
  return words.length ? words.map((w) => `${w}:*`).join(" | ") : undefined;
}

/**
 * Query word → its similar dictionary words, most similar first, for SIMILAR_CACHE_MS: the
 * words people search for repeat, and the lookup is a round trip of its own. `forget()` when
 * this engine adds a word to the dictionary; other replicas see new words within the TTL (exact
 * and prefix matches never depend on it).
 */
export class SimilarWords {
  private readonly cache = new Map<string, { at: number; words: string[] }>();
  /** Bumped with every clear: a lookup sent before a clear must not refill the cache after it. */
  private generation = 0;

  constructor(private readonly db: () => Knex) {}

  /** A word was added to the dictionary: what is cached may lack it. */
  forget(): void {
    this.cache.clear();
    this.generation++;
  }

  /**
   * Typos: for each word, the dictionary words similar to it (trigram index, small table), then
   * those one edit away from a short word (exact lookups), from the cache or in one round trip.
   */
  async of(words: string[]): Promise<Map<string, string[]>> {
    const now = Date.now();
    const found = new Map<string, string[]>();
    for (const w of words) {
      const hit = this.cache.get(w);
      if (hit && now - hit.at < SIMILAR_CACHE_MS) found.set(w, hit.words);
    }
    const missing = words.filter((w) => !found.has(w));
    if (!missing.length) return found;
    const generation = this.generation;
    const edits = missing.filter((w) => [...w].length <= SHORT_WORD).flatMap((w) => oneEditAway(w).map((e) => [w, e] as const));
    const { rows } = await this.db().raw<{ rows: Array<{ token: string; word: string }> }>(
      `SELECT token, word FROM (
         SELECT token, word, 0 AS source, row_number() OVER () AS rank
           FROM ${q(SCHEMA)}.${q(SIMILAR_WORDS_FUNCTION)}(?::text[], ?)
         UNION ALL
         SELECT e.token, w.word, 1, row_number() OVER (PARTITION BY e.token ORDER BY w.word)
           FROM unnest(?::text[], ?::text[]) AS e(token, word)
           JOIN ${q(SCHEMA)}.${q(WORDS_TABLE)} w ON w.word = e.word) found
       ORDER BY source, rank`,
      [missing, SIMILAR_PER_WORD, edits.map((e) => e[0]), edits.map((e) => e[1])],
    );
    // read before a word was added meanwhile: answered, not kept
    const keep = generation === this.generation;
    for (const w of missing) {
      const similar = rows.filter((r) => r.token === w).map((r) => r.word);
      found.set(w, similar);
      if (!keep) continue;
      this.cache.delete(w);
      this.cache.set(w, { at: now, words: similar });
    }
    while (this.cache.size > SIMILAR_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return found;
  }
}
