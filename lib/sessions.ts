import { serviceCredential, TokenVerifier } from "./auth.js";
import { createServiceClient } from "./clients.js";
import { UsersService } from "../gen/ticketing/users/v1/users_pb.js";

/**
 * Asks the users service whether a session was ended by logout, for services other than users.
 * Active answers are cached for `ttlMs` (a logged-out token keeps working on other services for
 * at most that long; on the users service itself logout takes effect at once). Ended sessions
 * never come back, so that answer is cached until evicted.
 */
export function remoteSessionChecker(
  usersUrl: string,
  credential: () => Promise<string>,
  opts: { ttlMs?: number; maxEntries?: number } = {},
): (sessionId: string) => Promise<boolean> {
  const client = createServiceClient(UsersService, usersUrl, credential);
  const ttl = opts.ttlMs ?? 5_000;
  const max = opts.maxEntries ?? 50_000;
  const cache = new Map<string, { active: boolean; until: number }>();
  return async (sessionId) => {
    const hit = cache.get(sessionId);
    if (hit && (!hit.active || hit.until > Date.now())) return hit.active;
    const { active } = await client.isSessionActive({ sessionId });
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(sessionId, { active, until: Date.now() + ttl });
    return active;
  };
}

/**
 * The token verifier of every service but users: the users service's JWKS, this service's
 * credential for the session check, and the shared service secret.
 */
export function createServiceVerifier(opts: {
  service: string;
  jwtIssuer: string;
  jwtAudience: string;
  jwksUrl: string;
  serviceAuthSecret: string;
  usersUrl: string;
}): TokenVerifier {
  return new TokenVerifier({
    issuer: opts.jwtIssuer,
    audience: opts.jwtAudience,
    keys: { jwksUrl: opts.jwksUrl },
    serviceSecret: opts.serviceAuthSecret,
    isSessionActive: remoteSessionChecker(opts.usersUrl, serviceCredential(opts.serviceAuthSecret, opts.service)),
  });
}
