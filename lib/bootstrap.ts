import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { DefaultLogger, Runtime, type LogLevel } from "@temporalio/worker";
import { serviceCredential, type TokenVerifier } from "./auth.js";
import { createServiceClient } from "./clients.js";
import { createLogger, type Logger } from "./logger.js";
import { createServiceVerifier } from "./sessions.js";

/** What every service's main reads from its config to start (commonVars plus the users URL). */
export interface BootConfig {
  logLevel: string;
  jwtIssuer: string;
  jwtAudience: string;
  jwksUrl: string;
  serviceAuthSecret: string;
  usersUrl: string;
  /**
   * The service's database, if it has one: the session check hears revocations there (the users
   * service notifies them in the one platform database; lib/sessions.ts createServiceVerifier).
   */
  databaseUrl?: string;
}

export interface ServiceBoot {
  logger: Logger;
  /** Checks callers' tokens: user tokens against the users service's keys and sessions. */
  verifier: TokenVerifier;
  /** A client of another service, calling as this service. */
  client<S extends DescService>(service: S, url: string): Client<S>;
}

/**
 * The start of every service's main: its logger, its token verifier and its clients of other
 * services, all named after it; with `temporalWorker`, also the Temporal SDK's runtime logging.
 */
export function bootService(name: string, config: BootConfig, opts: { temporalWorker?: boolean } = {}): ServiceBoot {
  const logger = createLogger(name, config.logLevel);
  if (opts.temporalWorker) installTemporalRuntime(config.logLevel);
  const credential = serviceCredential(config.serviceAuthSecret, name);
  return {
    logger,
    verifier: createServiceVerifier({ service: name, ...config }),
    client: (service, url) => createServiceClient(service, url, credential),
  };
}

/**
 * The Temporal SDK's own logs (bundler output, worker state) only from warnings up, unless the
 * service logs at debug. Once per process, before any worker is created.
 */
export function installTemporalRuntime(logLevel: string): void {
  const sdkLevel: LogLevel = logLevel === "debug" || logLevel === "trace" ? "DEBUG" : "WARN";
  Runtime.install({ logger: new DefaultLogger(sdkLevel) });
}
