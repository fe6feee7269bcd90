import { generateKeyPairSync } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { RateLimitedSchema } from "../../../gen/ticketing/common/v1/errors_pb.js";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { serviceCredential, TokenIssuer } from "../../../lib/auth.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import type { RunningServer } from "../../../lib/server.js";
import { SERVICE_NAMES } from "../../../lib/services.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { build as buildGateway, type RunningGateway } from "../../gateway/server.js";
import { UPSTREAMS } from "../../gateway/upstreams.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import type { UsersLimitSettings } from "../limits.js";
import { build } from "../server.js";
import { AUDIENCE, ISSUER, TEST_SERVICE_SECRET } from "./harness.js";

/*
 * The users service's limits on real Postgres: two instances of the service built over one
 * database (as two replicas, each with its own connection pool) share the counters, which
 * outlive an instance; the time is a clock the test moves, so a lock-out lifts without waiting.
 * The gateway in front shows the REST and Connect form of a 429.
 */

const LIMITS: UsersLimitSettings = {
  loginMaxFailuresPerAccount: 3,
  loginMaxFailuresPerAddress: 100,
  loginLockoutBaseSeconds: 30,
  loginLockoutMaxSeconds: 100,
  loginFailureMemorySeconds: 3600,
  registrationsPerAddress: 2,
  registrationWindowSeconds: 600,
};

let database: { url: string; drop(): Promise<void> };
let issuer: TokenIssuer;
let now = Date.parse("2026-12-03T12:00:00Z");
const clock = () => new Date(now);
const replicas: Array<{ db: Knex; server: RunningServer; client: Client<typeof UsersService> }> = [];
const gateways: RunningGateway[] = [];

async function startReplica(limits: Partial<UsersLimitSettings> = LIMITS) {
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations });
  const server = await build({
    db,
    issuer,
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    serviceAuthSecret: TEST_SERVICE_SECRET,
    refreshTokenTtlSeconds: 3600,
    limits,
    clock,
  });
  const client = createClient(UsersService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "1.1" }));
  const replica = { db, server, client };
  replicas.push(replica);
  return replica;
}

async function stop(replica: (typeof replicas)[number]) {
  replicas.splice(replicas.indexOf(replica), 1);
  await replica.server.close();
  await replica.db.destroy();
}

async function startGateway(usersPort: number, trustedProxies = 0): Promise<string> {
  const g = await buildGateway({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: UPSTREAMS,
    urls: { ...Object.fromEntries(SERVICE_NAMES.map((n) => [n, "http://127.0.0.1:9"])), users: `http://127.0.0.1:${usersPort}` },
    corsOrigins: "*",
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: serviceCredential(TEST_SERVICE_SECRET, "gateway"),
    trustedProxies,
  });
  gateways.push(g);
  return `http://127.0.0.1:${g.port}`;
}

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
}

async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

let seq = 0;
const email = () => `limits-${++seq}@example.com`;
const PASSWORD = "correct-horse-1";

beforeAll(async () => {
  database = await createTestDatabase("users_limits");
  issuer = await TokenIssuer.create({
    privateKey: generateKeyPairSync("ed25519").privateKey,
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSeconds: 900,
  });
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  for (const r of [...replicas]) await stop(r);
  await database.drop();
});

describe("sign-in lock-out", () => {
  it("locks an account after N failures counted on two replicas, refuses even the right password with 429 + Retry-After, and lifts on time", async () => {
    const a = await startReplica();
    const b = await startReplica();
    const who = email();
    await a.client.register({ email: who, password: PASSWORD, displayName: "Lock" });
    // failures on both replicas add up: 2 on a, 1 on b
    for (const r of [a, a, b]) {
      expect((await refusal(r.client.login({ email: who, password: "wrong-password" }))).code).toBe(Code.Unauthenticated);
    }
    const locked = await refusal(a.client.login({ email: who, password: PASSWORD }));
    expect(locked.code).toBe(Code.ResourceExhausted);
    expect(locked.metadata.get("retry-after")).toBe("30");
    const detail = locked.findDetails(RateLimitedSchema)[0];
    expect(detail).toMatchObject({ retryAfterSeconds: 30, limit: "login.account" });
    // the other replica sees the same lock
    expect((await refusal(b.client.login({ email: who, password: PASSWORD }))).code).toBe(Code.ResourceExhausted);

    now += 29_000;
    expect((await refusal(b.client.login({ email: who, password: PASSWORD }))).metadata.get("retry-after")).toBe("1");
    now += 1_001;
    // lifted: the right password signs in, and that forgets the account's failures
    expect((await a.client.login({ email: who, password: PASSWORD })).userId).toBeTruthy();
    for (let i = 0; i < 2; i++) await refusal(a.client.login({ email: who, password: "wrong-password" }));
    expect((await a.client.login({ email: who, password: PASSWORD })).userId).toBeTruthy();
    await stop(a);
    await stop(b);
  });

  it("doubles the lock-out with each failure after one lifts, up to the cap; the lock outlives a restart", async () => {
    let r = await startReplica();
    const who = email(); // never registered: unknown emails lock alike, so a lock-out tells nothing
    for (let i = 0; i < 3; i++) await refusal(r.client.login({ email: who, password: "wrong-password" }));
    const waits: string[] = [];
    for (let k = 0; k < 4; k++) {
      const e = await refusal(r.client.login({ email: who, password: "wrong-password" }));
      expect(e.code).toBe(Code.ResourceExhausted);
      const wait = e.metadata.get("retry-after")!;
      waits.push(wait);
      // attempts while locked are refused without counting: the wait does not grow
      expect((await refusal(r.client.login({ email: who, password: "x-wrong-again" }))).metadata.get("retry-after")).toBe(wait);
      if (k === 1) {
        // a restart of the service (a new instance over the same database) keeps the lock
        await stop(r);
        r = await startReplica();
        expect((await refusal(r.client.login({ email: who, password: "wrong-password" }))).metadata.get("retry-after")).toBe(wait);
      }
      now += Number(wait) * 1000;
      // lifted: one more failure locks again, for twice as long
      expect((await refusal(r.client.login({ email: who, password: "wrong-password" }))).code).toBe(Code.Unauthenticated);
    }
    expect(waits).toEqual(["30", "60", "100", "100"]); // 30, 60, then the cap (120 > 100)
    await stop(r);
  });

  it("through the gateway: REST 429 with Retry-After and the error body, Connect and gRPC-Web with the retry-after header and detail", async () => {
    const r = await startReplica();
    const base = await startGateway(r.server.port);
    const who = email();
    for (let i = 0; i < 3; i++) expect((await post(base, "/api/v1/auth/login", { email: who, password: "wrong-password" })).status).toBe(401);
    const res = await post(base, "/api/v1/auth/login", { email: who, password: "wrong-password" });
    expect(res.status).toBe(429);
    expect(res.retryAfter).toBe("30");
    expect(res.body).toMatchObject({
      code: "resource_exhausted",
      message: expect.stringContaining("too many failed sign-ins for this account"),
      details: [{ type: "ticketing.common.v1.RateLimited", debug: { retryAfterSeconds: 30, limit: "login.account" } }],
    });
    const d = (res.body.details as Array<{ value: string }>)[0];
    expect(fromBinary(RateLimitedSchema, Buffer.from(d.value, "base64")).retryAfterSeconds).toBe(30);

    const viaConnect = createClient(UsersService, createConnectTransport({ baseUrl: base, httpVersion: "1.1" }));
    const e = await refusal(viaConnect.login({ email: who, password: PASSWORD }));
    expect(e.code).toBe(Code.ResourceExhausted);
    expect(e.metadata.get("retry-after")).toBe("30");
    expect(e.findDetails(RateLimitedSchema)[0]?.limit).toBe("login.account");
    const viaGrpcWeb = createClient(UsersService, createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1" }));
    const w = await refusal(viaGrpcWeb.login({ email: who, password: PASSWORD }));
    expect(w.code).toBe(Code.ResourceExhausted);
    expect(w.metadata.get("retry-after")).toBe("30");
    expect(w.findDetails(RateLimitedSchema)[0]?.retryAfterSeconds).toBe(30);
    await stop(r);
  });
});

describe("sign-in lock-out per client address", () => {
  it("locks an address that fails on many accounts, for every account, while the same account signs in from elsewhere", async () => {
    const r = await startReplica({ ...LIMITS, loginMaxFailuresPerAddress: 4 });
    const base = await startGateway(r.server.port, 1);
    const from = (client: string) => ({ "x-forwarded-for": client });
    const victim = email();
    await r.client.register({ email: victim, password: PASSWORD, displayName: "V" });
    // one failure on each of 4 accounts: no account reaches its own limit (3), the address does
    for (let i = 0; i < 4; i++) {
      expect((await post(base, "/api/v1/auth/login", { email: email(), password: "wrong-password" }, from("198.51.100.77"))).status).toBe(401);
    }
    const refused = await post(base, "/api/v1/auth/login", { email: victim, password: PASSWORD }, from("198.51.100.77"));
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("30");
    expect(refused.body).toMatchObject({ details: [{ debug: { limit: "login.address" } }] });
    // the account itself is not locked: from another address it signs in, which does not clear the address
    expect((await post(base, "/api/v1/auth/login", { email: victim, password: PASSWORD }, from("198.51.100.78"))).status).toBe(200);
    expect((await post(base, "/api/v1/auth/login", { email: victim, password: PASSWORD }, from("198.51.100.77"))).status).toBe(429);
    now += 30_000;
    expect((await post(base, "/api/v1/auth/login", { email: victim, password: PASSWORD }, from("198.51.100.77"))).status).toBe(200);
    await stop(r);
  });
});

describe("registrations per client address", () => {
  it("counts the socket's address: x-client-address and X-Forwarded-For from outside change nothing", async () => {
    const r = await startReplica();
    const base = await startGateway(r.server.port);
    now += LIMITS.registrationWindowSeconds * 1000; // a new window: the earlier tests registered from this address too
    const forged: Array<Record<string, string>> = [{ "x-client-address": "203.0.113.7" }, { "x-forwarded-for": "198.51.100.9" }];
    for (const headers of forged) {
      expect((await post(base, "/api/v1/auth/register", { email: email(), password: PASSWORD, displayName: "R" }, headers)).status).toBe(201);
    }
    const third = await post(base, "/api/v1/auth/register", { email: email(), password: PASSWORD, displayName: "R" }, { "x-client-address": "192.0.2.1" });
    expect(third.status).toBe(429);
    expect(Number(third.retryAfter)).toBeGreaterThan(0);
    expect(Number(third.retryAfter)).toBeLessThanOrEqual(600);
    expect(third.body).toMatchObject({ code: "resource_exhausted", details: [{ debug: { limit: "register.address" } }] });

    // the window ends: registrations from the address are accepted again
    now += Number(third.retryAfter) * 1000;
    expect((await post(base, "/api/v1/auth/register", { email: email(), password: PASSWORD, displayName: "R" })).status).toBe(201);
    await stop(r);
  });

  it("behind a trusted proxy (GATEWAY_TRUSTED_PROXIES=1), counts the address the proxy put in X-Forwarded-For", async () => {
    const r = await startReplica();
    const base = await startGateway(r.server.port, 1);
    const from = (client: string) => ({ "x-forwarded-for": `10.9.9.9, ${client}` }); // the left entry is the caller's own claim
    const register = (client: string) => post(base, "/api/v1/auth/register", { email: email(), password: PASSWORD, displayName: "P" }, from(client));
    expect((await register("198.51.100.1")).status).toBe(201);
    expect((await register("198.51.100.1")).status).toBe(201);
    expect((await register("198.51.100.1")).status).toBe(429);
    // another client behind the same proxy has its own count
    expect((await register("198.51.100.2")).status).toBe(201);
    // IPv6: one /64 is one subject
    expect((await register("2001:db8:1:2::a")).status).toBe(201);
    expect((await register("2001:db8:1:2:ffff::b")).status).toBe(201);
    expect((await register("2001:db8:1:2::c")).status).toBe(429);
    await stop(r);
  });
});
