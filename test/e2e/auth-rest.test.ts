/**
 * Accounts over REST through the real gateway to the real users service (real Postgres):
 * register, login and /me; bad input always a 4xx naming the problem; bad tokens always 401.
 */
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { serviceCredential } from "../../lib/auth.js";
import { silentLogger } from "../../lib/logger.js";
import { SERVICE_NAMES } from "../../lib/services.js";
import { build as buildGateway, type RunningGateway } from "../../services/gateway/server.js";
import { UPSTREAMS } from "../../services/gateway/upstreams.js";
import { AUDIENCE, ISSUER, startUsers, TEST_SERVICE_SECRET, type UsersHarness } from "../../services/users/test/harness.js";

let users: UsersHarness;
let gateway: RunningGateway;
let base: string;

beforeAll(async () => {
  users = await startUsers();
  gateway = await buildGateway({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: UPSTREAMS,
    // only users runs here; the others point at a closed port (their routes would answer 503)
    urls: { ...Object.fromEntries(SERVICE_NAMES.map((n) => [n, "http://127.0.0.1:9"])), users: users.url },
    corsOrigins: "*",
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: serviceCredential(TEST_SERVICE_SECRET, "gateway"),
  });
  base = `http://127.0.0.1:${gateway.port}`;
});

afterAll(async () => {
  await gateway?.close();
  await users?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe("accounts over REST", () => {
  let token: string;

  it("registers (201), logs in, and reads /api/v1/me", async () => {
    const reg = await call("POST", "/api/v1/auth/register", { email: "rest@example.com", password: "password-1", displayName: "Rest", phone: "+14155550100" });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ email: "rest@example.com", displayName: "Rest", role: "user" });

    const login = await call("POST", "/api/v1/auth/login", { email: "rest@example.com", password: "password-1" });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900, userId: reg.body.userId, role: "user" });
    token = login.body.accessToken;

    const me = await call("GET", "/api/v1/me", undefined, { authorization: `Bearer ${token}` });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ userId: reg.body.userId, email: "rest@example.com", displayName: "Rest", phone: "+14155550100", role: "user" });
    expect(me.headers.get("x-request-id")).toBeTruthy();
  });

  it("PATCH /api/v1/me, refresh with rotation, logout", async () => {
    const patched = await call("PATCH", "/api/v1/me", { displayName: "Rest Two" }, { authorization: `Bearer ${token}` });
    expect(patched.status).toBe(200);
    expect(patched.body.displayName).toBe("Rest Two");

    const login = await call("POST", "/api/v1/auth/login", { email: "rest@example.com", password: "password-1" });
    const refreshed = await call("POST", "/api/v1/auth/refresh", { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    // reusing the rotated token is refused and ends the session (it looks stolen)
    expect((await call("POST", "/api/v1/auth/refresh", { refreshToken: login.body.refreshToken })).status).toBe(401);
    expect((await call("GET", "/api/v1/me", undefined, { authorization: `Bearer ${refreshed.body.accessToken}` })).status).toBe(401);

    const fresh = await call("POST", "/api/v1/auth/login", { email: "rest@example.com", password: "password-1" });
    const out = await call("POST", "/api/v1/auth/logout", {}, { authorization: `Bearer ${fresh.body.accessToken}` });
    expect(out.status).toBe(200);
    expect((await call("GET", "/api/v1/me", undefined, { authorization: `Bearer ${fresh.body.accessToken}` })).status).toBe(401);
    expect((await call("POST", "/api/v1/auth/refresh", { refreshToken: fresh.body.refreshToken })).status).toBe(401);
  });

  it("answers 409 for an existing email and 401 for bad credentials, in the spec's error format", async () => {
    const dup = await call("POST", "/api/v1/auth/register", { email: "rest@example.com", password: "password-1", displayName: "X" });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: "already_exists", message: expect.stringMatching(/email/) });
    const bad = await call("POST", "/api/v1/auth/login", { email: "rest@example.com", password: "wrong-password" });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe("unauthenticated");
  });
});

describe("bad input is a 4xx naming the problem, never a 5xx", () => {
  it("malformed JSON → 400", async () => {
    const r = await call("POST", "/api/v1/auth/register", '{"email": "a@b.c", ');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_argument");
    expect(r.body.message).toMatch(/JSON/i);
  });

  it("a wrong type → 400 naming the field", async () => {
    const r = await call("POST", "/api/v1/auth/register", { email: 5, password: "password-1", displayName: "A" });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/email/);
  });

  it("a missing required field → 400 naming the field", async () => {
    const r = await call("POST", "/api/v1/auth/register", { email: "missing@example.com", displayName: "A" });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/password/);
  });

  it("a weak password and a bad email → 400 naming both", async () => {
    const r = await call("POST", "/api/v1/auth/register", { email: "nope", password: "short", displayName: "A" });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/email/);
    expect(r.body.message).toMatch(/password/);
  });

  it("an unknown path → 404", async () => {
    const r = await call("GET", "/api/v1/nothing-here");
    expect(r.status).toBe(404);
    expect(r.body.code).toBe("not_found");
  });

  it("an unknown field → 400 naming it", async () => {
    const r = await call("POST", "/api/v1/auth/login", { email: "a@b.c", password: "x", admin: true });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/admin/);
  });
});

describe("refused tokens over REST → 401", () => {
  let claims: { sub: string; sid: string };
  beforeAll(async () => {
    await call("POST", "/api/v1/auth/register", { email: "tok@example.com", password: "password-1", displayName: "T" });
    const login = await call("POST", "/api/v1/auth/login", { email: "tok@example.com", password: "password-1" });
    const payload = JSON.parse(Buffer.from(login.body.accessToken.split(".")[1], "base64url").toString());
    claims = { sub: payload.sub, sid: payload.sid };
  });

  const me = (token: string) => call("GET", "/api/v1/me", undefined, { authorization: `Bearer ${token}` });
  const sign = (opts: { key?: ReturnType<typeof generateKeyPairSync>["privateKey"]; iss?: string; aud?: string; exp?: number | string } = {}) =>
    new SignJWT({ role: "user", sid: claims.sid })
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject(claims.sub)
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setExpirationTime(opts.exp ?? "5m")
      .sign(opts.key ?? users.privateKey);

  it("accepts a good token (control)", async () => {
    expect((await me(await sign())).status).toBe(200);
  });
  it("alg none", async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const token = `${enc({ alg: "none" })}.${enc({ sub: claims.sub, sid: claims.sid, role: "user", iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    expect((await me(token)).status).toBe(401);
  });
  it("wrong audience", async () => expect((await me(await sign({ aud: "other" }))).status).toBe(401));
  it("wrong issuer", async () => expect((await me(await sign({ iss: "other" }))).status).toBe(401));
  it("expired", async () => expect((await me(await sign({ exp: Math.floor(Date.now() / 1000) - 60 }))).status).toBe(401));
  it("signed with another key", async () =>
    expect((await me(await sign({ key: generateKeyPairSync("ed25519").privateKey }))).status).toBe(401));
  it("an internal service credential from outside", async () => {
    const svc = await serviceCredential(TEST_SERVICE_SECRET, "payments")();
    const r = await me(svc);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("unauthenticated");
  });
});
