import type { Client } from "@temporalio/client";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import { idempotencyInterceptor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import type { OutboxRelay } from "../../lib/outbox.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { CatalogRepo } from "./db/repo.js";
import { catalogHandlers } from "./handlers.js";
import { createCatalogRelay } from "./outbox.js";

export interface CatalogServerDeps {
  db: Knex;
  verifier: TokenVerifier;
  /**
   * Temporal, for the outbox relay. With a client the relay runs in this process (started here,
   * stopped by `close()`); null/undefined runs no relay (events wait in the outbox), for tests
   * that do not look at events.
   */
  temporal?: Client | null;
  logger: Logger;
  host: string;
  port: number;
  /** Relay tuning (tests); defaults are lib/outbox.ts's. */
  relay?: { pollMs?: number; taskQueue?: string };
  /** The clock for "in the future" checks; tests may pin it. */
  now?: () => Date;
}

export interface CatalogServer extends RunningServer {
  /** The running relay, when a Temporal client was given. */
  relay?: OutboxRelay;
}

/**
 * Builds the catalog service: the CatalogService RPCs (REST comes from the gateway's
 * transcoder), Idempotency-Key support on every call, the health probe, and the outbox relay.
 * Health reports Postgres only: while Temporal is down the catalog keeps taking writes and its
 * events wait in the outbox.
 */
export async function build(deps: CatalogServerDeps): Promise<CatalogServer> {
  const repo = new CatalogRepo(deps.db);
  const server = await startServer({
    name: "catalog",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) =>
      router.service(CatalogService, catalogHandlers({ db: deps.db, repo, logger: deps.logger, now: deps.now })),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
    interceptors: [idempotencyInterceptor(deps.db)],
  });
  const relay = deps.temporal
    ? createCatalogRelay({ db: deps.db, temporal: deps.temporal, logger: deps.logger, ...deps.relay })
    : undefined;
  relay?.start();
  return {
    port: server.port,
    relay,
    async close() {
      await server.close(); // no new events after this
      await relay?.stop();
    },
  };
}
