import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs (pino), one base field `service`. The request id is added per request by
 * the server interceptor (`logger.child({ requestId })`).
 */
export function createLogger(service: string, level: string = "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
