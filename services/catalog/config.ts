import { bool } from "../../lib/config.js";
import { readServiceConfig, commonVars, databaseVars, portVar, temporalVars, urlVar } from "../../lib/common-config.js";

export const catalogVars = {
  ...commonVars,
  ...databaseVars,
  ...temporalVars,
  port: portVar("catalog"),
  /** The session check of user tokens (logout) asks the users service. */
  usersUrl: urlVar("users"),
  demoData: bool("CATALOG_DEMO_DATA", {
    default: "false",
    doc: "catalog: load the demo venues, halls, events and showtimes (next two weeks) at start-up; idempotent (`npm start` sets it)",
  }),
};

export type CatalogConfig = ReturnType<typeof readCatalogConfig>;

export function readCatalogConfig(env: NodeJS.ProcessEnv = process.env) {
  return readServiceConfig(catalogVars, env);
}
