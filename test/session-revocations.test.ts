/**
 * lib/sessions.ts + lib/session-revocations.ts (docs/adr/0006): another service remembers that a
 * session is active, and forgets it the moment the users service commits its revocation; while
 * the LISTEN connection is down it trusts nothing it remembers. Real users service, real Postgres;
 * the tests wait for the events, never for time to pass.
 */
import { once } from "node:events";
import { decodeJwt } from "jose";
import { serviceCredential } from "../lib/auth.js";
import { silentLogger } from "../lib/logger.js";
import { RevocationFeed } from "../lib/session-revocations.js";
import { remoteSessionChecker } from "../lib/sessions.js";
import { startUsers, TEST_SERVICE_SECRET, type UsersHarness } from "../services/users/test/harness.js";

let users: UsersHarness;
let feed: RevocationFeed;
let check: (sessionId: string) => Promise<boolean>;

beforeAll(async () => {
  users = await startUsers();
  feed = new RevocationFeed({ databaseUrl: users.databaseUrl, logger: silentLogger() });
  await feed.start();
  check = remoteSessionChecker(users.url, serviceCredential(TEST_SERVICE_SECRET, "test"), { revocations: feed });
});

afterAll(async () => {
  await feed.close();
  await users.close();
});

let n = 0;
async function login(): Promise<{ sessionId: string; auth: { headers: Record<string, string> } }> {
  const email = `rev-${n++}@example.com`;
  await users.client.register({ email, password: "correct-horse", displayName: "Rev" });
  const { accessToken } = await users.client.login({ email, password: "correct-horse" });
  return { sessionId: String(decodeJwt(accessToken).sid), auth: { headers: { authorization: `Bearer ${accessToken}` } } };
}

/** Ends the session in the table behind the feed's back (no NOTIFY): only the cache says active. */
const revokeSilently = (sessionId: string) => users.db("sessions").where({ id: sessionId }).update({ revoked_at: users.db.fn.now() });

it("remembers an active session, and forgets it as soon as the logout commits", async () => {
  expect(feed.live).toBe(true);
  const a = await login();
  const b = await login();
  expect(await check(a.sessionId)).toBe(true);
  expect(await check(b.sessionId)).toBe(true);

  // answered from memory: the table says ended, the cache still says active
  await revokeSilently(b.sessionId);
  expect(await check(b.sessionId)).toBe(true);

  const heard = once(feed, "revoked");
  await users.client.logout({}, a.auth);
  expect(await heard).toEqual([a.sessionId]);
  expect(await check(a.sessionId)).toBe(false);
});

it("trusts nothing it remembers while the LISTEN connection is down, and listens again", async () => {
  const s = await login();
  expect(await check(s.sessionId)).toBe(true);
  await revokeSilently(s.sessionId);

  const lost = once(feed, "lost");
  const back = once(feed, "live");
  await users.db.raw(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN session_revoked%'",
  );
  await lost;
  expect(feed.live).toBe(false);
  expect(await check(s.sessionId)).toBe(false); // asked users
  await back;
  expect(feed.live).toBe(true);

  const t = await login();
  expect(await check(t.sessionId)).toBe(true);
  const heard = once(feed, "revoked");
  await users.client.logout({}, t.auth);
  await heard;
  expect(await check(t.sessionId)).toBe(false);
});
