import { optionalStr } from "../../lib/config.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";

export const ticketsVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  port: portVar("tickets"),
  /** The holder's name (GetUser) and the session check of user tokens. */
  usersUrl: urlVar("users"),
  taskQueueSuffix: optionalStr("TICKETS_TASK_QUEUE_SUFFIX", {
    doc: "tickets: suffix of its activity task queue (`tickets-activities-<suffix>`), matching workflows on `ticketing-workflows-<suffix>` / `booking-workflows-<suffix>`; tests only",
  }),
};

export type TicketsConfig = ReturnType<typeof readTicketsConfig>;

export function readTicketsConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(ticketsVars, env);
}
