/**
 * lib/auth.ts: TokenVerifier remembers verified tokens until they expire. What it must not
 * change: an expired token is refused, a logged-out session is refused on the next request, and
 * only the exact token text that was verified is remembered.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Access } from "../gen/ticketing/common/v1/auth_pb.js";
import { TokenIssuer, TokenVerifier, authorize } from "../lib/auth.js";
import { ANONYMOUS, type Caller, type Role } from "../lib/context.js";
import { AppError } from "../lib/errors.js";

async function setup() {
  const issuer = await TokenIssuer.create({
    privateKey: generateKeyPairSync("ed25519").privateKey,
    issuer: "ticketing-users",
    audience: "ticketing-api",
    ttlSeconds: 60,
  });
  const ended = new Set<string>();
  let sessionChecks = 0;
  const verifier = new TokenVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    keys: { jwks: issuer.jwks() },
    serviceSecret: "test-only-service-secret",
    isSessionActive: async (sid) => {
      sessionChecks++;
      return !ended.has(sid);
    },
  });
  const sessionId = randomUUID();
  const { token } = await issuer.issue({ userId: randomUUID(), role: "user", sessionId });
  return { verifier, issuer, token, sessionId, ended, checks: () => sessionChecks };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof AppError || e instanceof ConnectError ? e.message : String(e)),
  );

afterEach(() => jest.useRealTimers());

it("a remembered token is still refused once it has expired", async () => {
  const { verifier, token } = await setup();
  expect((await verifier.verify(token)).kind).toBe("user");
  expect((await verifier.verify(token)).kind).toBe("user");
  jest.useFakeTimers({ now: Date.now() + 61_000, doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
  expect(await refusal(verifier.verify(token))).toBe("token expired");
});

it("the session is checked on every request, remembered token or not: logout takes effect", async () => {
  const { verifier, token, sessionId, ended, checks } = await setup();
  await verifier.verify(token);
  await verifier.verify(token);
  expect(checks()).toBe(2);
  ended.add(sessionId);
  expect(await refusal(verifier.verify(token))).toBe("session has ended; sign in again");
});

it("only the exact token is remembered: one changed character is verified, and refused", async () => {
  const { verifier, token } = await setup();
  await verifier.verify(token);
  const sig = token.lastIndexOf(".") + 5;
  const forged = token.slice(0, sig) + (token[sig] === "A" ? "B" : "A") + token.slice(sig + 1);
  expect(await refusal(verifier.verify(forged))).toMatch(/^invalid token/);
  const payload = token.indexOf(".") + 5;
  const altered = token.slice(0, payload) + (token[payload] === "A" ? "B" : "A") + token.slice(payload + 1);
  expect(await refusal(verifier.verify(altered))).toMatch(/^(invalid token|malformed)/);
});

it("verifies each role's token, and the door level admits door staff and admins only", async () => {
  const { verifier, issuer } = await setup();
  for (const role of ["user", "door", "admin"] as const) {
    const { token } = await issuer.issue({ userId: randomUUID(), role, sessionId: randomUUID() });
    expect(await verifier.verify(token)).toMatchObject({ kind: "user", role });
  }
  const answer = (caller: Caller) => {
    try {
      authorize(Access.DOOR, caller);
      return "allowed";
    } catch (err) {
      return (err as AppError).code;
    }
  };
  const user = (role: Role): Caller => ({ kind: "user", userId: randomUUID(), role, sessionId: randomUUID() });
  expect(answer(user("door"))).toBe("allowed");
  expect(answer(user("admin"))).toBe("allowed");
  expect(answer(user("user"))).toBe(Code.PermissionDenied);
  expect(answer(ANONYMOUS)).toBe(Code.Unauthenticated);
  expect(answer({ kind: "service", service: "booking" })).toBe("allowed");
  // a door account is a signed-in account: user-level RPCs (its profile, logout) let it in, admin ones do not
  expect(() => authorize(Access.USER, user("door"))).not.toThrow();
  expect(() => authorize(Access.ADMIN, user("door"))).toThrow("admin role required");
});
