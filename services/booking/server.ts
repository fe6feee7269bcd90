import type { Client } from "@temporalio/client";
import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { AdmissionTokens, DEV_ADMISSION_TOKEN_SECRET } from "../../lib/admission-tokens.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import { idempotencyInterceptor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type HealthCheck, type RunningServer } from "../../lib/server.js";
import { pingTemporal } from "../../lib/temporal.js";
import { AdmissionGate } from "./admission-gate.js";
import { bookingRepos, type BookingRepos } from "./db/repos.js";
import { mapBookingError } from "./errors.js";
import { bookingHandlers, type BookingDeps, type BookingLimits } from "./handlers.js";
import { HoldLimits, type HoldRateSettings } from "./hold-limits.js";
import { InventoryHub } from "./inventory-hub.js";
import { holdRateSettingsOf, readBookingConfig } from "./config.js";
import { bookingWorkflows, type BookingWorkflows } from "../../workflows/booking-client.js";
import { WorkflowStarter, type WorkflowStarterOptions } from "./workflow-starts.js";

export const DEFAULT_LIMITS: BookingLimits = { maxSeatsPerHold: 10, maxHeldSeatsPerUser: 10, defaultHoldSeconds: 600 };

/** The hold-rate limits when the environment sets none (the config's documented defaults). */
export const DEFAULT_HOLD_RATES: HoldRateSettings = holdRateSettingsOf(readBookingConfig({}));

export interface BookingServerDeps {
  db: Knex;
  /** The same database, for the one LISTEN connection of the live seat maps. */
  databaseUrl: string;
  verifier: TokenVerifier;
  /** Temporal: booking workflows are started, signalled and updated through it; also probed by health. */
  temporal: Client;
  /** The booking workflows' task queue (tests use a suffixed one). */
  workflowTaskQueue?: string;
  /** This process's booking-workflow worker's client while it runs: starts are eager (BookingWorkflowsOptions.eager). */
  eagerClient?: () => Client | undefined;
  /** Overrides how workflows are reached (a test that needs a Temporal outage passes one on a dead port). */
  workflows?: BookingWorkflows;
  logger: Logger;
  host: string;
  port: number;
  limits?: Partial<BookingLimits>;
  /**
   * The pool of a hold's checks before it holds, the hold-rate limits and the waiting room's gate
   * (default `db`): main.ts gives them a small one of their own, because with an Idempotency-Key
   * a hold runs in a transaction holding a connection of `db` while it checks, and with every
   * connection so held a check on `db` would never get one.
   */
  limitsDb?: Knex;
  /** Hold requests per user and per showtime; unset ones take the config defaults. */
  holdRates?: Partial<HoldRateSettings>;
  /** The rate limits' clock (tests move it); default the database's. */
  clock?: () => Date;
  /** How long ConfirmBooking waits for the workflow to settle the booking. */
  confirmWaitMs?: number;
  /** The payments service, for PreparePayment and CreateBooking. */
  payments?: BookingDeps["payments"];
  /** Checks the waiting rooms' admission tokens; default: under the development secret (tests). */
  admissionTokens?: AdmissionTokens;
  /** Seat geometry from the catalog for inventories initialised without one (handlers.ts BookingDeps). */
  geometryOf?: BookingDeps["geometryOf"];
  /** Tuning of the workflow starter (concurrency, poll interval). */
  starter?: Pick<WorkflowStarterOptions, "concurrency" | "pollMs" | "leaseSeconds">;
}

export interface BookingServer extends RunningServer {
  /** The service's repositories (the activity worker, started by main.ts, uses them too). */
  repo: BookingRepos;
  hub: InventoryHub;
  workflows: BookingWorkflows;
  starter: WorkflowStarter;
  /** The hold-rate limits (ReserveSeats and ReserveBestSeats call checkHold). */
  holdLimits: HoldLimits;
}

/**
 * Builds the booking service: the BookingService RPCs (REST comes from the gateway's
 * transcoder), Idempotency-Key support, live seat maps (one LISTEN connection), the starter of
 * booking workflows (running until close), and health (Postgres and Temporal: without Temporal
 * seats can still be held, but no booking workflow starts and nothing can be paid). Importing
 * this starts nothing; the workers (activities, booking workflows) and the reaper schedule are
 * started by main.ts.
 */
export async function build(deps: BookingServerDeps): Promise<BookingServer> {
  const repo = bookingRepos(deps.db);
  const hub = new InventoryHub({ databaseUrl: deps.databaseUrl, inventory: repo.inventory, logger: deps.logger });
  const workflows = deps.workflows ?? bookingWorkflows(deps.temporal, { taskQueue: deps.workflowTaskQueue, eager: deps.eagerClient });
  const starter = new WorkflowStarter({ queue: repo.starts, workflows, logger: deps.logger, ...deps.starter });
  const holdLimits = new HoldLimits(deps.limitsDb ?? deps.db, { ...DEFAULT_HOLD_RATES, ...deps.holdRates }, { clock: deps.clock, logger: deps.logger });
  const healthChecks: Record<string, HealthCheck> = {
    postgres: () => pingDatabase(deps.db),
    temporal: () => pingTemporal(deps.temporal),
  };
  const server = await startServer({
    name: "booking",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) =>
      router.service(
        BookingService,
        bookingHandlers({
          db: deps.db,
          repo,
          workflows,
          starter,
          hub,
          logger: deps.logger,
          limits: { ...DEFAULT_LIMITS, ...deps.limits },
          holdLimits,
          confirmWaitMs: deps.confirmWaitMs,
          payments: deps.payments,
          admission: new AdmissionGate(deps.limitsDb ?? deps.db, deps.admissionTokens ?? new AdmissionTokens(DEV_ADMISSION_TOKEN_SECRET)),
          geometryOf: deps.geometryOf,
        }),
      ),
    healthChecks,
    // the one place where the service's domain errors become API errors, for RPCs and streams
    mapError: mapBookingError,
    interceptors: [idempotencyInterceptor(deps.db)],
  });
  starter.start();
  return {
    port: server.port,
    repo,
    hub,
    workflows,
    starter,
    holdLimits,
    async close() {
      await hub.close(); // ends the live streams, which would otherwise hold the listener open
      await server.close();
      await starter.stop(); // after the last hold; what is left starts at the next start
      await holdLimits.idle();
    },
  };
}
