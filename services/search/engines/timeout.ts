import { SearchUnavailableError } from "../engine.js";

/** Rejects with SearchUnavailableError when `p` takes longer than `ms` (the call itself goes on). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SearchUnavailableError(`${what} did not answer within ${ms} ms`)), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Connection-level failures: the engine is down or unreachable, not a bug in the query. */
export function isConnectionFailure(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string; errors?: unknown[] } | undefined;
  if (!e) return false;
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE", "57P01", "57P03", "08006", "08001"].includes(e.code ?? "")) {
    return true;
  }
  if (e.name === "KnexTimeoutError" || e.name === "ConnectionError" || e.name === "TimeoutError" || e.name === "NoLivingConnectionsError") return true;
  if (/Connection terminated|connect ECONNREFUSED|Timeout acquiring a connection/i.test(e.message ?? "")) return true;
  if (Array.isArray(e.errors)) return e.errors.some(isConnectionFailure); // AggregateError (IPv4 + IPv6)
  return false;
}
