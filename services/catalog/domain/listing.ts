/** The public lists' paging (ListVenues, ListEvents): pageSize 0 means this many. */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * The rows to read for a 1-based page: page 0 means 1, pageSize 0 means DEFAULT_PAGE_SIZE. The
 * contract bounds both (page ≤ 10000, pageSize ≤ 100), so the offset stays small.
 */
export function pageWindow(page: number, pageSize: number): { limit: number; offset: number } {
  const limit = pageSize > 0 ? pageSize : DEFAULT_PAGE_SIZE;
  return { limit, offset: (Math.max(page, 1) - 1) * limit };
}

/**
 * An ILIKE pattern (used with `ESCAPE '\'`) that matches any text containing `text`, where
 * LIKE's wildcards `%` and `_` and the escape character itself match literally. Undefined for a
 * blank filter (no filter at all); the text is trimmed.
 */
export function containsPattern(text: string): string | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  return `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
