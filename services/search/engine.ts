import type { DocumentWrite, ShowDocument } from "./domain/document.js";
import type { SearchQuery } from "./domain/query.js";

export type EngineName = "postgres" | "elasticsearch" | "opensearch";

export interface SearchHits {
  /** The page of documents, in result order. */
  documents: ShowDocument[];
  /** Matches over all pages. */
  total: number;
}

/** A showtime's seat count as booking reported it. */
export interface Availability {
  showtimeId: string;
  availableSeats: number;
}

/** Cursor of `upcoming`: the last (start, id) seen. */
export interface UpcomingCursor {
  showtime: string;
  showtimeId: string;
}

/** What a full rebuild reads: the catalog's documents, page by page. */
export type DocumentSource = AsyncIterable<DocumentWrite[]>;

/**
 * The search index: where documents are stored and how they are searched. Two implementations,
 * chosen by config: Postgres (schema `search`: full-text, pg_trgm, cube/earthdistance) and
 * Elasticsearch/OpenSearch (one index behind an alias). Every method is safe to retry.
 */
export interface SearchEngine {
  readonly name: EngineName;
  /** Creates what is missing (schema objects, index and alias); idempotent. */
  init(): Promise<void>;
  /**
   * Writes documents (insert or replace). A document never replaces one read later from the
   * catalog (`indexedAt`). Missing availableSeats keep the stored value, or the capacity.
   */
  upsert(docs: DocumentWrite[]): Promise<void>;
  /** Removes documents; unknown ids are ignored. */
  remove(showtimeIds: string[]): Promise<void>;
  /** Updates seat counts of indexed showtimes; unknown ids are ignored. */
  setAvailability(entries: Availability[]): Promise<void>;
  /** Searches; throws SearchUnavailableError when the engine cannot answer. */
  search(query: SearchQuery): Promise<SearchHits>;
  /** Ids of indexed showtimes starting at or after `from`, by (start, id), after `cursor`. */
  upcoming(from: Date, cursor: UpcomingCursor | undefined, limit: number): Promise<Array<UpcomingCursor>>;
  /** Ids of the indexed showtimes of an event or a venue (to drop those the catalog no longer has). */
  showtimeIdsOf(filter: { eventId: string } | { venueId: string }): Promise<string[]>;
  /**
   * Rebuilds the whole index from `source` without downtime: a new index (or table) is filled
   * while searches read the old one, then swapped in atomically; writes made meanwhile are kept.
   */
  rebuild(source: DocumentSource): Promise<{ indexed: number; removed: number }>;
  /** Makes every write so far visible to search (tests, the re-index command). */
  refresh(): Promise<void>;
  /** Throws when the engine is not usable (health check). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The engine is down or too slow: search answers 503, indexing activities retry. */
export class SearchUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SearchUnavailableError";
  }
}
