import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import { openDatabase } from "../../lib/db.js";
import { bootService } from "../../lib/bootstrap.js";
import { runMain } from "../../lib/server.js";
import { LogEmailTransport, redactSmtpUrl, SmtpEmailTransport } from "./channels/email.js";
import { LogSmsProvider } from "./channels/sms.js";
import { readNotificationsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";
import { notificationsTaskQueue } from "./worker.js";

const config = readNotificationsConfig();
const { logger, verifier, client } = bootService("notifications", config, { temporalWorker: true });

runMain(logger, async () => {
  const db = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
  const email = config.smtpUrl
    ? new SmtpEmailTransport({ url: config.smtpUrl, from: config.mailFrom })
    : new LogEmailTransport(logger);
  if (config.smtpUrl) {
    logger.info({ smtp: redactSmtpUrl(config.smtpUrl), from: config.mailFrom }, "email over SMTP");
  } else {
    const level = config.nodeEnv === "production" ? "warn" : "info";
    logger[level]("no SMTP_URL: emails are recorded and logged, not sent (development transport)");
  }
  const sms = new LogSmsProvider(logger);
  try {
    const server = await build({
      db,
      verifier,
      users: client(UsersService, config.usersUrl),
      catalog: client(CatalogService, config.catalogUrl),
      email,
      sms,
      logger,
      host: config.host,
      port: config.port,
      retry: { maxAttempts: config.maxAttempts, baseDelayMs: config.retryBaseMs, maxDelayMs: config.retryMaxMs },
      timeZone: config.timeZone,
      temporal: {
        address: config.temporalAddress,
        namespace: config.temporalNamespace,
        taskQueue: notificationsTaskQueue(config.taskQueueSuffix),
      },
    });
    return {
      async close() {
        await server.close(); // stops listening, then the worker, then the delivery loop
        await email.close();
        await sms.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await email.close();
    await db.destroy();
    throw err;
  }
});
