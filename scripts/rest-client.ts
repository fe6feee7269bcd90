/**
 * A small client of the platform's public REST API over loopback, for the benchmarks, the
 * browser tests' fixtures and the screenshot script: JSON in and out, an optional bearer token,
 * and a 429's Retry-After.
 */
export type Rest = (
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any; retryAfterSeconds?: number }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any endpoint

export function restClient(gateway: string): Rest {
  return async (method, path, body, token, headers = {}) => {
    const res = await fetch(gateway + path, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const retryAfter = res.headers.get("retry-after");
    return { status: res.status, body: text ? JSON.parse(text) : undefined, ...(retryAfter !== null && { retryAfterSeconds: Number(retryAfter) }) };
  };
}
