import type { Knex } from "../../lib/db.js";
import { pingDatabase } from "../../lib/db.js";
import { TokenIssuer, TokenVerifier } from "../../lib/auth.js";
import type { Logger } from "../../lib/logger.js";
import { startServer, type RunningServer } from "../../lib/server.js";
import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import { UsersRepo } from "./db/repo.js";
import { usersHandlers } from "./handlers.js";

export const JWKS_PATH = "/.well-known/jwks.json";

export interface UsersServerDeps {
  db: Knex;
  issuer: TokenIssuer;
  logger: Logger;
  host: string;
  port: number;
  serviceAuthSecret: string;
  refreshTokenTtlSeconds: number;
}

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
  return startServer({
    name: "users",
    host: deps.host,
    port: deps.port,
    logger: deps.logger,
    verifier,
    routes: (router) =>
      router.service(
        UsersService,
        usersHandlers({ repo, issuer: deps.issuer, refreshTokenTtlSeconds: deps.refreshTokenTtlSeconds, logger: deps.logger }),
      ),
    healthChecks: { postgres: () => pingDatabase(deps.db) },
    httpRoutes: (req, res) => {
      if (req.method !== "GET" || req.url !== JWKS_PATH) return false;
      res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" });
      res.end(jwksBody);
      return true;
    },
  });
}
