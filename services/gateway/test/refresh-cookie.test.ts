import { Writable } from "node:stream";
import pino from "pino";
import { silentLogger } from "../../../lib/logger.js";
import { SERVICE_NAMES } from "../../../lib/services.js";
import { serviceCredential } from "../../../lib/auth.js";
import { startUsers, TEST_SERVICE_SECRET, type UsersHarness } from "../../users/test/harness.js";
import { readCookie, refreshCookie } from "../refresh-cookie.js";
import { build, type GatewayDeps, type RunningGateway } from "../server.js";
import { UPSTREAMS } from "../upstreams.js";

/*
 * The web app's refresh cookie, through the real gateway to the real users service (real
 * Postgres), over the Connect protocol with plain fetch, as a browser sends it. fetch keeps no
 * cookies: each test sends the Cookie header a browser would.
 */

const USERS = "/ticketing.users.v1.UsersService";
const OPT_IN = { "x-refresh-cookie": "1" };
const MAX_AGE = 3600;
const EMAIL = "cookie@example.com";
const PASSWORD = "password-cookie-1";

let users: UsersHarness;
const gateways: RunningGateway[] = [];
let base: string;
/** A gateway whose users service is a closed port: any call to it would answer `unavailable`. */
let noBackend: string;
/** A gateway started as in production: the cookie is always Secure. */
let production: string;
const logLines: string[] = [];
const issuedTokens = new Set<string>();

async function gateway(usersUrl: string, extra: Partial<GatewayDeps> = {}): Promise<string> {
  const g = await build({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: UPSTREAMS,
    urls: { ...Object.fromEntries(SERVICE_NAMES.map((n) => [n, "http://127.0.0.1:9"])), users: usersUrl },
    corsOrigins: "*",
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 10_000,
    serviceCredential: serviceCredential(TEST_SERVICE_SECRET, "gateway"),
    refreshCookie: { maxAgeSeconds: MAX_AGE },
    ...extra,
  });
  gateways.push(g);
  return `http://127.0.0.1:${g.port}`;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  setCookie: string[];
}

/** A unary Connect call with JSON, as connect-web sends it. */
async function rpc(url: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}${USERS}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const setCookie = res.headers.getSetCookie();
  for (const c of setCookie) {
    const value = c.split(";")[0].split("=")[1];
    if (value) issuedTokens.add(value);
  }
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (typeof parsed.refreshToken === "string") issuedTokens.add(parsed.refreshToken);
  return { status: res.status, body: parsed, setCookie };
}

/** The cookie's value and attributes from a Set-Cookie header. */
function parseSetCookie(header: string): { name: string; value: string; attributes: string[] } {
  const [pair, ...attributes] = header.split(";").map((s) => s.trim());
  const eq = pair.indexOf("=");
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

const cookieHeader = (value: string) => ({ cookie: `theme=dark; ticketing_refresh=${value}; other=1` });

async function login(url = base, headers: Record<string, string> = OPT_IN) {
  const r = await rpc(url, "Login", { email: EMAIL, password: PASSWORD }, headers);
  expect(r.status).toBe(200);
  return r;
}

beforeAll(async () => {
  users = await startUsers();
  await users.client.register({ email: EMAIL, password: PASSWORD, displayName: "Cookie" });
  const capture = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  });
  base = await gateway(users.url, { logger: pino({ level: "trace" }, capture) });
  noBackend = await gateway("http://127.0.0.1:9");
  production = await gateway(users.url, { refreshCookie: { maxAgeSeconds: MAX_AGE, alwaysSecure: true } });
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await users?.close();
});

describe("cookie helpers", () => {
  it("reads the cookie among others, joined with ; or , (HTTP/2), quoted or not", () => {
    expect(readCookie("a=1; ticketing_refresh=rt_x; b=2", "ticketing_refresh")).toBe("rt_x");
    expect(readCookie("a=1, ticketing_refresh=rt_y", "ticketing_refresh")).toBe("rt_y");
    expect(readCookie('ticketing_refresh="rt_z"', "ticketing_refresh")).toBe("rt_z");
    expect(readCookie("my_ticketing_refresh=rt_w", "ticketing_refresh")).toBeUndefined();
    expect(readCookie(undefined, "ticketing_refresh")).toBeUndefined();
  });

  it("writes the cookie's attributes", () => {
    expect(refreshCookie("rt_x", 60, false)).toBe("ticketing_refresh=rt_x; Path=/ticketing.users.v1.UsersService/; HttpOnly; SameSite=Strict; Max-Age=60");
    expect(refreshCookie("", 0, true)).toBe("ticketing_refresh=; Path=/ticketing.users.v1.UsersService/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
  });
});

describe("with X-Refresh-Cookie: 1", () => {
  it("Login sets an httpOnly, SameSite=Strict cookie on the users service's path and leaves the token out of the body", async () => {
    const r = await login();
    expect(r.body.accessToken).toEqual(expect.any(String));
    expect(r.body.refreshToken).toBeUndefined();
    expect(r.setCookie).toHaveLength(1);
    const c = parseSetCookie(r.setCookie[0]);
    expect(c.name).toBe("ticketing_refresh");
    expect(c.value).toMatch(/^rt_[A-Za-z0-9_-]{20,}$/);
    expect(c.attributes).toEqual(["Path=/ticketing.users.v1.UsersService/", "HttpOnly", "SameSite=Strict", `Max-Age=${MAX_AGE}`]);
  });

  it("Refresh with the cookie only: a new access token and a rotated cookie; the old cookie is then refused and cleared", async () => {
    const first = parseSetCookie((await login()).setCookie[0]).value;

    const refreshed = await rpc(base, "Refresh", {}, { ...OPT_IN, ...cookieHeader(first) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toBeUndefined();
    const second = parseSetCookie(refreshed.setCookie[0]);
    expect(second.value).toMatch(/^rt_/);
    expect(second.value).not.toBe(first);
    expect(second.attributes).toContain(`Max-Age=${MAX_AGE}`);
    const me = await rpc(base, "GetMe", {}, { authorization: `Bearer ${refreshed.body.accessToken as string}` });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(EMAIL);

    // the first cookie has been used: refused (and, as a reuse, the session ends), and cleared
    const reused = await rpc(base, "Refresh", { refreshToken: "" }, { ...OPT_IN, ...cookieHeader(first) });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe("unauthenticated");
    expect(reused.setCookie).toHaveLength(1);
    expect(parseSetCookie(reused.setCookie[0])).toMatchObject({ value: "", attributes: expect.arrayContaining(["Max-Age=0", "HttpOnly"]) });
  });

  it("Refresh without a cookie is unauthenticated and never reaches the backend", async () => {
    for (const url of [base, noBackend]) {
      const r = await rpc(url, "Refresh", {}, { ...OPT_IN, cookie: "theme=dark" });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: "unauthenticated", message: expect.stringMatching(/no session/) });
    }
  });

  it("Refresh with a cookie that is no refresh token is unauthenticated, clears it, and never reaches the backend", async () => {
    const r = await rpc(noBackend, "Refresh", {}, { ...OPT_IN, cookie: "ticketing_refresh=<script>" });
    expect(r.status).toBe(401);
    expect(r.body.message).toMatch(/no session/);
    expect(r.setCookie[0]).toMatch(/^ticketing_refresh=; .*Max-Age=0/);
  });

  it("Logout clears the cookie; the access token and the refresh token are refused afterwards", async () => {
    const r = await login();
    const token = r.body.accessToken as string;
    const cookie = parseSetCookie(r.setCookie[0]).value;

    const out = await rpc(base, "Logout", {}, { ...OPT_IN, authorization: `Bearer ${token}`, ...cookieHeader(cookie) });
    expect(out.status).toBe(200);
    expect(out.setCookie).toHaveLength(1);
    expect(parseSetCookie(out.setCookie[0])).toMatchObject({ value: "", attributes: expect.arrayContaining(["Max-Age=0"]) });

    expect((await rpc(base, "GetMe", {}, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await rpc(base, "Refresh", {}, { ...OPT_IN, ...cookieHeader(cookie) })).status).toBe(401);
  });

  it("Logout clears the cookie whatever the backend answers", async () => {
    const refused = await rpc(base, "Logout", {}, OPT_IN); // no access token: 401 from the users service
    expect(refused.status).toBe(401);
    expect(refused.setCookie[0]).toMatch(/^ticketing_refresh=; .*Max-Age=0/);
    const down = await rpc(noBackend, "Logout", {}, OPT_IN);
    expect(down.body.code).toBe("unavailable");
    expect(down.setCookie[0]).toMatch(/^ticketing_refresh=; .*Max-Age=0/);
  });

  it("marks the cookie Secure behind an HTTPS proxy, and always in production", async () => {
    const proxied = await login(base, { ...OPT_IN, "x-forwarded-proto": "https" });
    expect(parseSetCookie(proxied.setCookie[0]).attributes).toContain("Secure");
    const plain = await login(base);
    expect(parseSetCookie(plain.setCookie[0]).attributes).not.toContain("Secure");
    const prod = await login(production);
    expect(parseSetCookie(prod.setCookie[0]).attributes).toContain("Secure");
  });
});

describe("without X-Refresh-Cookie nothing changes", () => {
  it("Login and Refresh answer the refresh token in the body and set no cookie", async () => {
    const r = await login(base, {});
    expect(r.body.refreshToken).toMatch(/^rt_/);
    expect(r.setCookie).toEqual([]);
    const refreshed = await rpc(base, "Refresh", { refreshToken: r.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toMatch(/^rt_/);
    expect(refreshed.setCookie).toEqual([]);
  });

  it("a cookie alone is not read", async () => {
    const cookie = parseSetCookie((await login()).setCookie[0]).value;
    const r = await rpc(base, "Refresh", {}, cookieHeader(cookie));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_argument");
    expect(r.setCookie).toEqual([]);
  });

  it("REST is untouched, even with the header", async () => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...OPT_IN },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { refreshToken: string }).refreshToken).toMatch(/^rt_/);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe("other origins", () => {
  it("may not send the opt-in header: a CORS preflight does not allow it, and credentials stay off", async () => {
    const res = await fetch(`${base}${USERS}/Refresh`, {
      method: "OPTIONS",
      headers: {
        origin: "https://elsewhere.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, connect-protocol-version, x-refresh-cookie",
      },
    });
    expect(res.status).toBe(204);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    expect(allowed).toContain("connect-protocol-version");
    expect(allowed).not.toContain("x-refresh-cookie");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("logs", () => {
  it("never hold a refresh token", () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(issuedTokens.size).toBeGreaterThan(5);
    const logs = logLines.join("");
    for (const token of issuedTokens) expect(logs).not.toContain(token);
  });
});
