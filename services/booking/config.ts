import { admissionTokenVars } from "../../lib/admission-tokens.js";
import { int, optionalStr } from "../../lib/config.js";
import type { HoldRateSettings } from "./hold-limits.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";

export const bookingVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  ...admissionTokenVars,
  port: portVar("booking"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  /** Inventory initialisation reads the showtime and its hall's seat layout from the catalog. */
  catalogUrl: urlVar("catalog"),
  /** PreparePayment and CreateBooking go through the payments service. */
  paymentsUrl: urlVar("payments"),
  maxSeatsPerHold: int("BOOKING_MAX_SEATS_PER_HOLD", {
    default: "10",
    min: 1,
    max: 100,
    doc: "booking: most seats one reservation may hold (the contract allows at most 100)",
  }),
  maxHeldSeatsPerUser: int("BOOKING_MAX_HELD_SEATS_PER_USER", {
    default: "10",
    min: 1,
    max: 1000,
    doc: "booking: most seats one user may hold at once per showtime, over all their unexpired holds",
  }),
  holdsPerUser: int("BOOKING_HOLDS_PER_USER", {
    default: "30",
    min: 0,
    max: 1_000_000,
    doc: "booking: hold requests (reserve, best available) one user may make per BOOKING_HOLDS_PER_USER_WINDOW_SECONDS (429 past it); 0 = no limit",
  }),
  holdsPerUserWindowSeconds: int("BOOKING_HOLDS_PER_USER_WINDOW_SECONDS", {
    default: "60",
    min: 1,
    max: 86_400,
    doc: "booking: the window of BOOKING_HOLDS_PER_USER",
  }),
  holdsPerShowtime: int("BOOKING_HOLDS_PER_SHOWTIME", {
    default: "1000",
    min: 0,
    max: 10_000_000,
    doc: "booking: hold requests without an admission token one showtime takes per BOOKING_HOLDS_PER_SHOWTIME_WINDOW_SECONDS, from all users together (429 past it); 0 = no limit",
  }),
  holdsPerShowtimeWindowSeconds: int("BOOKING_HOLDS_PER_SHOWTIME_WINDOW_SECONDS", {
    default: "10",
    min: 1,
    max: 86_400,
    doc: "booking: the window of BOOKING_HOLDS_PER_SHOWTIME",
  }),
  defaultHoldSeconds: int("BOOKING_DEFAULT_HOLD_SECONDS", {
    default: "600",
    min: 60,
    max: 1800,
    doc: "booking: how long a hold lasts when the request leaves holdTimeoutSeconds at 0",
  }),
  workflowStartConcurrency: int("BOOKING_WORKFLOW_START_CONCURRENCY", {
    default: "16",
    min: 1,
    max: 256,
    doc: "booking: most booking-workflow starts one booking process has in flight at once (holds answer before their workflow starts; docs/adr/0002)",
  }),
  taskQueueSuffix: optionalStr("BOOKING_TASK_QUEUE_SUFFIX", {
    doc: "booking: suffix of its task queues: its activities (`booking-activities-<suffix>`), the booking workflows it runs and starts (`booking-workflows-<suffix>`), and the workflows' queue of the reaper schedule (`ticketing-workflows-<suffix>`); tests only",
  }),
};

export type BookingConfig = ReturnType<typeof readBookingConfig>;

export function readBookingConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(bookingVars, env);
}

/** The hold-rate limits of a read configuration (hold-limits.ts). */
export function holdRateSettingsOf(c: BookingConfig): HoldRateSettings {
  return {
    holdsPerUser: c.holdsPerUser,
    holdsPerUserWindowSeconds: c.holdsPerUserWindowSeconds,
    holdsPerShowtime: c.holdsPerShowtime,
    holdsPerShowtimeWindowSeconds: c.holdsPerShowtimeWindowSeconds,
  };
}
