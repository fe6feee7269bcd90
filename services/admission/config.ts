import { admissionTokenVars } from "../../lib/admission-tokens.js";
import { int, optionalStr } from "../../lib/config.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";

export const admissionVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  ...admissionTokenVars,
  port: portVar("admission"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  /** ConfigureWaitingRoom reads the showtime's start (GetShowtime): the room closes then. */
  catalogUrl: urlVar("catalog"),
  /** The gate workflow tells booking when tokens are required (SetAdmissionRequired). */
  bookingUrl: urlVar("booking"),
  tickMs: int("WAITING_ROOM_TICK_MS", {
    default: "1000",
    min: 100,
    max: 60_000,
    doc: "admission: pause between two admission steps of a waiting room's workflow (the serving number moves at most this often)",
  }),
  stepsPerRun: int("WAITING_ROOM_STEPS_PER_RUN", {
    default: "500",
    min: 10,
    max: 10_000,
    doc: "admission: admission steps after which a waiting room's workflow continues as new (keeps its history short)",
  }),
  maxJoinsInFlight: int("ADMISSION_MAX_JOINS_IN_FLIGHT", {
    default: "64",
    min: 1,
    max: 100_000,
    doc: "admission: most joins one admission process works on at once; past it a join answers 429 with Retry-After 2 s (the queue page tries again), so a rush is shed at once instead of queueing until it times out",
  }),
  taskQueueSuffix: optionalStr("ADMISSION_TASK_QUEUE_SUFFIX", {
    doc: "admission: suffix of its task queue (`admission-workflows-<suffix>`, the gate workflows and their activities); tests only",
  }),
};

export type AdmissionConfig = ReturnType<typeof readAdmissionConfig>;

export function readAdmissionConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(admissionVars, env);
}
