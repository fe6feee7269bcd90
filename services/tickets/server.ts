import { TicketsService } from "../../gen/ticketing/tickets/v1/tickets_pb.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { SigningKeysRepo } from "./db/keys.js";
import { TicketsRepo } from "./db/repo.js";
import { ticketsHandlers } from "./handlers.js";
import { Keyring } from "./keyring.js";
import { TicketOffice, type TicketOfficeDeps } from "./ticket-office.js";

export interface TicketsServerDeps {
  db: Knex;
  verifier: TokenVerifier;
  users: TicketOfficeDeps["users"];
  logger: Logger;
  host: string;
  port: number;
  now?: () => Date;
}

export interface TicketsServer extends RunningServer {
  repo: TicketsRepo;
  keyring: Keyring;
  /** What the activities run (activities.ts). */
  office: TicketOffice;
}

/**
 * Builds the tickets service: TicketsService (tickets with their QR codes, check-in, offline
 * uploads, signing keys; REST from the gateway's transcoder) and health (Postgres: check-in
 * needs nothing else). Makes the first signing key when the database has none. Importing this
 * starts nothing; the activity worker is started by main.ts.
 */
export async function build(deps: TicketsServerDeps): Promise<TicketsServer> {
  const repo = new TicketsRepo(deps.db);
  const keys = new SigningKeysRepo(deps.db);
  const keyring = new Keyring(keys);
  await keyring.start();
  const office = new TicketOffice({ repo, keyring, users: deps.users, logger: deps.logger });
  const server = await startServer({
    name: "tickets",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) => router.service(TicketsService, ticketsHandlers({ office, repo, keys, keyring, now: deps.now })),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
  });
  return { port: server.port, repo, keyring, office, close: () => server.close() };
}
