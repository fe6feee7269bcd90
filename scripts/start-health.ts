/**
 * `npm start` waits for the gateway's /healthz before it says READY; while it waits, and when it
 * gives up, it names what /healthz says is unhealthy.
 */
import { AbortedError, delay } from "./dev-infra";
import { elapsed, say } from "./start-output";

/** The gateway logs every failing /healthz; once a second is enough. */
const HEALTH_POLL_MS = 1_000;
const HEALTH_PROGRESS_EVERY_MS = 15_000;

/** Polls the gateway's /healthz until 200; on timeout names what it says is unhealthy. */
export async function waitForHealthy(url: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  say(`waiting for ${url}`);
  const started = Date.now();
  let lastProgress = started;
  let last = "no answer yet";
  while (Date.now() - started < timeoutMs) {
    if (signal.aborted) throw new AbortedError();
    try {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) });
      const body = await response.text();
      if (response.status === 200) {
        say(`gateway healthy after ${elapsed(started)}`);
        return;
      }
      last = `HTTP ${response.status}: ${describeHealth(body)}`;
    } catch (err) {
      if (signal.aborted) throw new AbortedError();
      last = `no answer (${describeFetchError(err)})`;
    }
    if (Date.now() - lastProgress >= HEALTH_PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      say(`still waiting for the gateway to be healthy (${elapsed(started)}): ${last}`);
    }
    await delay(HEALTH_POLL_MS, signal);
  }
  throw new Error(`the gateway did not report healthy within ${timeoutMs / 1000} s; last /healthz: ${last}`);
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err instanceof Error ? err.message : String(err));
}

const UNHEALTHY = /^(down|unhealthy|unavailable|not_serving|service_unknown|unknown|unreachable|error|failed|failing|fail|timeout|degraded)$/i;

/**
 * Names the unhealthy parts of a /healthz body without depending on its exact shape, e.g.
 * `{"status": "unavailable", "services": {"catalog": "unreachable"}, "errors": {"catalog": "cannot connect"}}`
 * gives "catalog unreachable (cannot connect)". Falls back to the (truncated) raw body.
 */
function describeHealth(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.slice(0, 300) || "(empty body)";
  }
  const problems = new Map<string, string>();
  const details = new Map<string, string>();
  const visit = (value: unknown, key: string): void => {
    if (typeof value === "string") {
      if (UNHEALTHY.test(value)) problems.set(key, value);
      return;
    }
    if (value === null || typeof value !== "object") return;
    const record = value as Record<string, unknown>;
    if (key === "errors" || key === "reasons") {
      for (const [name, detail] of Object.entries(record)) if (typeof detail === "string") details.set(name, detail);
      return;
    }
    const name = [record.name, record.service, record.dependency].find((v): v is string => typeof v === "string") ?? key;
    const status = [record.status, record.state].find((v): v is string => typeof v === "string");
    const detail = [record.error, record.message, record.reason].find((v): v is string => typeof v === "string");
    if (detail) details.set(name, detail);
    const before = problems.size;
    for (const [childKey, child] of Object.entries(record)) {
      if (childKey !== "status" && childKey !== "state") visit(child, Array.isArray(value) ? name : childKey);
    }
    const failed = (status !== undefined && UNHEALTHY.test(status)) || record.ok === false || record.healthy === false;
    // report the container only when none of its parts explains the failure
    if (failed && problems.size === before) problems.set(name, status ?? "unhealthy");
  };
  visit(parsed, "gateway");
  if (problems.size === 0) return body.slice(0, 300);
  const parts = [...problems].map(([name, status]) => `${name} ${status}${details.has(name) ? ` (${details.get(name)})` : ""}`);
  return `unhealthy: ${parts.join(", ")}`;
}
