import type { Stack } from "../scripts/platform-stack";

/** What every benchmark gets: the running stack and REST helpers with an admin session. */
export interface BenchContext {
  stack: Stack;
  adminToken: string;
  rest(method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any endpoint
}

/** One benchmark: returns its section of docs/benchmarks.md (markdown). */
export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<string>;
}

export function restClient(gateway: string): BenchContext["rest"] {
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
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
