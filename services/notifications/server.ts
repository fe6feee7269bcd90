import type { Client } from "@connectrpc/connect";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { NotificationsService } from "../../gen/ticketing/notifications/v1/notifications_pb.js";
import type { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import type { TokenVerifier } from "../../lib/auth.js";
import { pingDatabase, type Knex } from "../../lib/db.js";
import { idempotencyInterceptor } from "../../lib/idempotency.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import type { NotificationActivities } from "../../workflows/notification-types.js";
import { createNotificationActivities } from "./activities.js";
import type { EmailTransport, SmsProvider } from "./channels/types.js";
import { NotificationsRepo } from "./db/repo.js";
import { DeliveryLoop, type RetryPolicy } from "./delivery.js";
import { notificationsHandlers } from "./handlers.js";
import { Notifier } from "./notifier.js";
import { startActivityWorker, type ActivityWorker } from "./worker.js";

export interface NotificationsServerDeps {
  db: Knex;
  verifier: TokenVerifier;
  /** The users service (GetUser) with this service's credential. */
  users: Client<typeof UsersService>;
  /** The catalog (GetShowtimeDetails) with this service's credential. */
  catalog: Client<typeof CatalogService>;
  email: EmailTransport;
  sms: SmsProvider;
  logger: Logger;
  host: string;
  port: number;
  retry: RetryPolicy;
  /** IANA zone show times are written in. */
  timeZone: string;
  /** Delivery loop tuning (tests); defaults are delivery.ts's. */
  delivery?: { pollMs?: number; leaseMs?: number; batchSize?: number };
  /**
   * The Temporal activity worker: started here and stopped by `close()`. Null/undefined runs
   * none (tests that call the activities directly).
   */
  temporal?: { address: string; namespace: string; taskQueue: string } | null;
}

export interface NotificationsServer extends RunningServer {
  notifier: Notifier;
  activities: NotificationActivities;
  delivery: DeliveryLoop;
  worker?: ActivityWorker;
}

/**
 * Builds the notifications service: NotificationsService (ListMyNotifications, SendNotification)
 * with Idempotency-Key support, the delivery loop, and, given Temporal, the worker of the
 * notifyBooking activity. Health reports Postgres only: without Temporal the service still
 * serves the message log and delivers what is queued.
 */
export async function build(deps: NotificationsServerDeps): Promise<NotificationsServer> {
  const repo = new NotificationsRepo(deps.db);
  const delivery = new DeliveryLoop({
    repo,
    email: deps.email,
    sms: deps.sms,
    logger: deps.logger,
    retry: deps.retry,
    ...deps.delivery,
  });
  const notifier = new Notifier({
    repo,
    users: deps.users,
    catalog: deps.catalog,
    logger: deps.logger,
    timeZone: deps.timeZone,
    queued: () => delivery.kick(),
  });
  const activities = createNotificationActivities({ notifier, logger: deps.logger });
  const server = await startServer({
    name: "notifications",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier: deps.verifier,
    routes: (router) => router.service(NotificationsService, notificationsHandlers({ db: deps.db, repo, notifier })),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
    interceptors: [idempotencyInterceptor(deps.db)],
  });
  delivery.start(); // also picks up what an earlier process left pending
  const worker = deps.temporal
    ? startActivityWorker({ ...deps.temporal, activities, logger: deps.logger })
    : undefined;
  return {
    port: server.port,
    notifier,
    activities,
    delivery,
    worker,
    async close() {
      await server.close();
      await worker?.close(); // running activities finish first
      await delivery.stop(); // sends in flight are recorded
    },
  };
}
