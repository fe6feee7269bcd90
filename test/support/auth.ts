import { randomUUID, generateKeyPairSync } from "node:crypto";
import { serviceCredential, TokenIssuer, TokenVerifier } from "../../lib/auth.js";
import type { Role } from "../../lib/context.js";

export const TEST_SERVICE_SECRET = "test-only-service-secret";

/**
 * Real tokens for service tests without running the users service: a fresh signing key, a
 * verifier that trusts it (as services trust the users service's JWKS), and helpers that mint
 * admin, user, door and service credentials.
 */
export async function testAuth() {
  const issuer = await TokenIssuer.create({
    privateKey: generateKeyPairSync("ed25519").privateKey,
    issuer: "ticketing-users",
    audience: "ticketing-api",
    ttlSeconds: 900,
  });
  const verifier = new TokenVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    keys: { jwks: issuer.jwks() },
    serviceSecret: TEST_SERVICE_SECRET,
  });
  const token = async (role: Role, userId: string = randomUUID()) =>
    (await issuer.issue({ userId, role, sessionId: randomUUID() })).token;
  return {
    issuer,
    verifier,
    adminToken: (userId?: string) => token("admin", userId),
    userToken: (userId?: string) => token("user", userId),
    /** Door staff: check tickets in. */
    doorToken: (userId?: string) => token("door", userId),
    serviceToken: (service = "test") => serviceCredential(TEST_SERVICE_SECRET, service)(),
    /** Connect call options carrying a bearer token. */
    bearer: (t: string) => ({ headers: { authorization: `Bearer ${t}` } }),
  };
}
