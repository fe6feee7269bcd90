import type { Client } from "@connectrpc/connect";
import type { Client as TemporalClient } from "@temporalio/client";
import { AdmissionService } from "../../gen/ticketing/admission/v1/admission_pb.js";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { AdmissionTokens } from "../../lib/admission-tokens.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { pingTemporal } from "../../lib/temporal.js";
import { AdmissionRepo } from "./db/repo.js";
import { admissionHandlers, type AdmissionDeps } from "./handlers.js";
import { RoomHub } from "./room-hub.js";

export interface AdmissionServerDeps {
  db: Knex;
  /** The same database, for the one LISTEN connection of the live queue positions. */
  databaseUrl: string;
  verifier: TokenVerifier;
  tokens: AdmissionTokens;
  catalog: AdmissionDeps["catalog"] | Client<typeof CatalogService>;
  temporal: TemporalClient;
  workflow: AdmissionDeps["workflow"];
  logger: Logger;
  host: string;
  port: number;
  now?: () => Date;
  /** Told at once when a room is switched on (AdmissionDeps.booking). */
  booking?: AdmissionDeps["booking"];
  /** Most joins at once (config ADMISSION_MAX_JOINS_IN_FLIGHT); past it 429 with Retry-After. */
  maxJoinsInFlight?: number;
}

export interface AdmissionServer extends RunningServer {
  repo: AdmissionRepo;
  hub: RoomHub;
}

/**
 * Builds the admission service: AdmissionService (waiting rooms, places, live positions; REST
 * from the gateway's transcoder) and health (Postgres and Temporal: without Temporal buyers still
 * join and read their place, but no room opens or admits). Importing this starts nothing; the
 * worker of the gate workflows is started by main.ts.
 */
export async function build(deps: AdmissionServerDeps): Promise<AdmissionServer> {
  const repo = new AdmissionRepo(deps.db);
  const hub = new RoomHub({ databaseUrl: deps.databaseUrl, repo, logger: deps.logger });
  const server = await startServer({
    name: "admission",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) =>
      router.service(
        AdmissionService,
        admissionHandlers({ repo, hub, tokens: deps.tokens, catalog: deps.catalog, temporal: deps.temporal, workflow: deps.workflow, logger: deps.logger, now: deps.now, maxJoinsInFlight: deps.maxJoinsInFlight, booking: deps.booking }),
      ),
    healthChecks: { postgres: () => pingDatabase(deps.db), temporal: () => pingTemporal(deps.temporal) },
  });
  return {
    port: server.port,
    repo,
    hub,
    async close() {
      await hub.close(); // ends the live streams, which would otherwise hold the listener open
      await server.close();
    },
  };
}
