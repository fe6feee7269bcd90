import type { Knex } from "../../lib/db.js";
import { pingDatabase } from "../../lib/db.js";
import { TokenIssuer, TokenVerifier } from "../../lib/auth.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import { UsersRepo } from "./db/repo.js";
import { usersHandlers } from "./handlers.js";
import { readUsersConfig, usersLimitsOf } from "./config.js";
import { UsersLimits, type UsersLimitSettings } from "./limits.js";

export const JWKS_PATH = "/.well-known/jwks.json";

export interface UsersServerDeps {
  db: Knex;
  issuer: TokenIssuer;
  logger: Logger;
  host: string;
  port: number;
  serviceAuthSecret: string;
  refreshTokenTtlSeconds: number;
  /** Sign-in lock-outs and registrations per address; unset ones take the config defaults. */
  limits?: Partial<UsersLimitSettings>;
  /** The limits' clock (tests move it); default the database's. */
  clock?: () => Date;
}

/** The limits' settings when the environment sets none (the config's documented defaults). */
export const DEFAULT_USERS_LIMITS: UsersLimitSettings = usersLimitsOf(readUsersConfig({}));

/**
 * Builds the users service. Its own verifier checks tokens against its own key set and
 * sessions against its own table, so a logout takes effect at once here.
 */
export async function build(deps: UsersServerDeps): Promise<RunningServer> {
  const repo = new UsersRepo(deps.db);
  const jwks = deps.issuer.jwks();
  const verifier = new TokenVerifier({
    issuer: deps.issuer.issuer,
    audience: deps.issuer.audience,
    keys: { jwks },
    serviceSecret: deps.serviceAuthSecret,
    isSessionActive: (sid) => repo.isSessionActive(sid),
  });
  const jwksBody = JSON.stringify(jwks);
  const limits = new UsersLimits(deps.db, { ...DEFAULT_USERS_LIMITS, ...deps.limits }, { clock: deps.clock, logger: deps.logger });
  const server = await startServer({
    name: "users",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier,
    routes: (router) =>
      router.service(
        UsersService,
        usersHandlers({
          repo,
          issuer: deps.issuer,
          refreshTokenTtlSeconds: deps.refreshTokenTtlSeconds,
          logger: deps.logger,
          limits,
        }),
      ),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
    httpRoutes: (req, res) => {
      if (req.method !== "GET" || req.url !== JWKS_PATH) return false;
      res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" });
      res.end(jwksBody);
      return true;
    },
  });
  return {
    port: server.port,
    async close() {
      await server.close();
      await limits.idle(); // a sweep under way ends before the database closes
    },
  };
}
