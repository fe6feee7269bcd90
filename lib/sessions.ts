import { serviceCredential, TokenVerifier } from "./auth.js";
import { createServiceClient } from "./clients.js";
import { createLogger } from "./logger.js";
import { RevocationFeed } from "./session-revocations.js";
import { UsersService } from "../gen/ticketing/users/v1/users_pb.js";

export interface SessionCheckerOptions {
  /**
   * Revocations heard as they commit (lib/session-revocations.ts). With a feed, an active answer
   * is remembered for `ttlMs` but only while the feed is live, and a revocation drops it at once;
   * without one, every check asks users.
   */
  revocations?: RevocationFeed;
  /** How long an active answer is remembered (default 30 s): the bound if an event were lost. */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * Asks the users service whether a session was ended (logout, a reused refresh token), for
 * services other than users, remembering the answers (docs/adr/0006): an ended session never
 * comes back, so that answer is kept until evicted; an active one is kept for `ttlMs` while the
 * revocation feed is live. A revocation heard while a check is in flight wins over its answer;
 * a lost feed forgets every active answer (revocations may have been missed).
 */
export function remoteSessionChecker(
  usersUrl: string,
  credential: () => Promise<string>,
  opts: SessionCheckerOptions = {},
): (sessionId: string) => Promise<boolean> {
  const client = createServiceClient(UsersService, usersUrl, credential);
  const feed = opts.revocations;
  const ttl = opts.ttlMs ?? 30_000;
  const max = opts.maxEntries ?? 50_000;
  const cache = new Map<string, { active: boolean; until: number }>();
  /** Bumped whenever the feed stops being trustworthy: answers fetched across it are not kept. */
  let epoch = 0;
  const remember = (sessionId: string, active: boolean) => {
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(sessionId, { active, until: Date.now() + ttl });
  };
  feed?.on("revoked", (sessionId) => {
    cache.delete(sessionId);
    remember(sessionId, false);
  });
  const forgetActive = () => {
    epoch++;
    for (const [id, entry] of cache) if (entry.active) cache.delete(id);
  };
  feed?.on("lost", forgetActive);
  feed?.on("live", forgetActive);

  return async (sessionId) => {
    const hit = cache.get(sessionId);
    if (hit && (!hit.active || (hit.until > Date.now() && feed?.live))) return hit.active;
    const started = epoch;
    const { active } = await client.isSessionActive({ sessionId });
    const now = cache.get(sessionId);
    if (now && !now.active) return false; // revoked while we asked
    if (!active || (feed?.live && epoch === started)) remember(sessionId, active);
    return active;
  };
}

/**
 * The token verifier of every service but users: the users service's JWKS, this service's
 * credential for the session check, the shared service secret, and session revocations heard on
 * the platform's database (the one the users service writes to), when the service has one.
 */
export function createServiceVerifier(opts: {
  service: string;
  jwtIssuer: string;
  jwtAudience: string;
  jwksUrl: string;
  serviceAuthSecret: string;
  usersUrl: string;
  logLevel?: string;
  /**
   * The database the users service notifies revocations on (a service's own DATABASE_URL: every
   * service's schema lives in the one platform database; BootConfig.databaseUrl); none = every
   * check asks users.
   */
  databaseUrl?: string;
}): TokenVerifier {
  let revocations: RevocationFeed | undefined;
  if (opts.databaseUrl) {
    revocations = new RevocationFeed({ databaseUrl: opts.databaseUrl, logger: createLogger(opts.service, opts.logLevel) });
    void revocations.start();
  }
  return new TokenVerifier({
    issuer: opts.jwtIssuer,
    audience: opts.jwtAudience,
    keys: { jwksUrl: opts.jwksUrl },
    serviceSecret: opts.serviceAuthSecret,
    isSessionActive: remoteSessionChecker(opts.usersUrl, serviceCredential(opts.serviceAuthSecret, opts.service), { revocations }),
  });
}
