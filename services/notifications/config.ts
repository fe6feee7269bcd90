import { ConfigError, int, optionalStr, str } from "../../lib/config.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";
import { isTimeZone } from "./domain/format.js";

export const DEFAULT_MAIL_FROM = "Ticketing <no-reply@ticketing.local>";

export const notificationsVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  port: portVar("notifications"),
  /** Contacts (email, phone, name) and the session check of user tokens. */
  usersUrl: urlVar("users"),
  /** Event, venue and time of a showtime, for the message text. */
  catalogUrl: urlVar("catalog"),
  smtpUrl: optionalStr("SMTP_URL", {
    doc: "notifications: mail server, e.g. smtp://user:pass@mail.example.com:587 (STARTTLS when offered) or smtps://...:465; unset = emails are only logged and recorded (transport `log`)",
  }),
  mailFrom: str("MAIL_FROM", {
    default: DEFAULT_MAIL_FROM,
    doc: "notifications: From header of every email",
  }),
  maxAttempts: int("NOTIFICATIONS_MAX_ATTEMPTS", {
    default: "5",
    min: 1,
    max: 50,
    doc: "notifications: delivery attempts per message (the first included) before it is recorded as failed",
  }),
  retryBaseMs: int("NOTIFICATIONS_RETRY_BASE_MS", {
    default: "10000",
    min: 10,
    max: 3_600_000,
    doc: "notifications: wait after the first failed delivery attempt; doubles after each further one (±20 % jitter)",
  }),
  retryMaxMs: int("NOTIFICATIONS_RETRY_MAX_MS", {
    default: "600000",
    min: 10,
    max: 86_400_000,
    doc: "notifications: longest wait between two delivery attempts",
  }),
  timeZone: str("NOTIFICATIONS_TIME_ZONE", {
    default: "UTC",
    doc: "notifications: IANA time zone show times are written in (venues carry no zone of their own)",
  }),
  taskQueueSuffix: optionalStr("NOTIFICATIONS_TASK_QUEUE_SUFFIX", {
    doc: "notifications: suffix of its activity task queue (`notifications-activities-<suffix>`), matching workflows on `ticketing-workflows-<suffix>`; tests only",
  }),
};

export type NotificationsConfig = ReturnType<typeof readNotificationsConfig>;

export function readNotificationsConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = readServiceConfig(notificationsVars, env);
  const problems: string[] = [];
  if (config.smtpUrl !== undefined) {
    let protocol = "";
    try {
      protocol = new URL(config.smtpUrl).protocol;
    } catch {
      // reported below
    }
    if (protocol !== "smtp:" && protocol !== "smtps:") problems.push("SMTP_URL must be an smtp:// or smtps:// URL");
  }
  if (!/@/.test(config.mailFrom)) problems.push(`MAIL_FROM must contain an email address, got "${config.mailFrom}"`);
  if (!isTimeZone(config.timeZone)) problems.push(`NOTIFICATIONS_TIME_ZONE must be an IANA time zone, got "${config.timeZone}"`);
  if (config.retryMaxMs < config.retryBaseMs) problems.push("NOTIFICATIONS_RETRY_MAX_MS must be >= NOTIFICATIONS_RETRY_BASE_MS");
  if (problems.length) throw new ConfigError(problems);
  return config;
}
