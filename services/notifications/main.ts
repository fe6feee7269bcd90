import { DefaultLogger, Runtime, type LogLevel } from "@temporalio/worker";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import { serviceCredential } from "../../lib/auth.js";
import { createServiceClient } from "../../lib/clients.js";
import { openDatabase } from "../../lib/db.js";
import { createLogger } from "../../lib/logger.js";
import { runMain } from "../../lib/server.js";
import { createServiceVerifier } from "../../lib/sessions.js";
import { LogEmailTransport, redactSmtpUrl, SmtpEmailTransport } from "./channels/email.js";
import { LogSmsProvider } from "./channels/sms.js";
import { readNotificationsConfig } from "./config.js";
import { migrations, SCHEMA } from "./db/migrations.js";
import { build } from "./server.js";
import { notificationsTaskQueue } from "./worker.js";

const config = readNotificationsConfig();
const logger = createLogger("notifications", config.logLevel);
// the Temporal SDK's own logs (worker state) only from warnings up, unless debugging
const sdkLevel: LogLevel = config.logLevel === "debug" || config.logLevel === "trace" ? "DEBUG" : "WARN";
Runtime.install({ logger: new DefaultLogger(sdkLevel) });

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
    const credential = serviceCredential(config.serviceAuthSecret, "notifications");
    const verifier = createServiceVerifier({
      service: "notifications",
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      jwksUrl: config.jwksUrl,
      serviceAuthSecret: config.serviceAuthSecret,
      usersUrl: config.usersUrl,
    });
    const server = await build({
      db,
      verifier,
      users: createServiceClient(UsersService, config.usersUrl, credential),
      catalog: createServiceClient(CatalogService, config.catalogUrl, credential),
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
