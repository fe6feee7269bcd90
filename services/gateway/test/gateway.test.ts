import nodeHttp from "node:http";
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import {
  Http2SessionManager,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { PaymentsService } from "../../../gen/ticketing/payments/v1/payments_pb.js";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { callerOf } from "../../../lib/context.js";
import { alreadyExists, invalidArgument, unauthenticated } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { startServer, type RunningServer } from "../../../lib/server.js";
import { testAuth } from "../../../test/support/auth.js";
import { build, type RunningGateway } from "../server.js";

/*
 * The gateway under test is real (its HTTP server, transcoder, proxy and clients); the backends
 * are test doubles: real servers built with lib/server.ts (so the real auth, validation and
 * error interceptors and the gRPC health service run), whose handlers are stubs written here.
 */

const ORIGIN = "https://app.example";
const WEBHOOK_SECRET_SIGNATURE = "t=1,v1=good";

interface Seen {
  requestIds: string[];
  idempotencyKeys: string[];
  authorizations: string[];
  calls: number;
  webhook?: { payload: Uint8Array; signature: string; caller: string };
}

let auth: Awaited<ReturnType<typeof testAuth>>;
let users: RunningServer;
let payments: RunningServer;
let gateway: RunningGateway;
let base: string;
const seen: Seen = { requestIds: [], idempotencyKeys: [], authorizations: [], calls: 0 };
const USER_ID = "0d9c6a3e-8f0b-4a53-9a1e-3f7e2c1b5a10";
const BOOKING_ID = "6a3e0d9c-8f0b-4a53-9a1e-3f7e2c1b5a10";

function record(ctx: { requestHeader: Headers }) {
  seen.calls++;
  seen.requestIds.push(ctx.requestHeader.get("x-request-id") ?? "");
  seen.idempotencyKeys.push(ctx.requestHeader.get("idempotency-key") ?? "");
  seen.authorizations.push(ctx.requestHeader.get("authorization") ?? "");
}

const usersStub: Partial<ServiceImpl<typeof UsersService>> = {
  async register(req, ctx) {
    record(ctx);
    if (req.email === "taken@example.com") throw alreadyExists("email: an account with this email already exists");
    return { userId: USER_ID, email: req.email, displayName: req.displayName, role: "user" };
  },
  async login(_req, ctx) {
    record(ctx);
    throw unauthenticated("wrong email or password");
  },
  async getMe(_req, ctx) {
    record(ctx);
    const caller = callerOf(ctx);
    if (caller.kind !== "user") throw unauthenticated("a user token is required");
    return { userId: caller.userId, email: "ann@example.com", displayName: "Ann", phone: "", role: caller.role };
  },
};

const paymentsStub: Partial<ServiceImpl<typeof PaymentsService>> = {
  async handleWebhook(req, ctx) {
    record(ctx);
    const caller = callerOf(ctx);
    seen.webhook = { payload: req.payload, signature: req.signature, caller: caller.kind === "service" ? caller.service : caller.kind };
    if (req.signature !== WEBHOOK_SECRET_SIGNATURE) throw invalidArgument("signature", "does not match the payload");
    return { eventId: "evt_1", eventType: "payment_intent.succeeded", duplicate: false, ignored: false };
  },
};

const bookingStub: Partial<ServiceImpl<typeof BookingService>> = {
  async confirmBooking(req, ctx) {
    record(ctx);
    return { booking: { bookingId: req.bookingId } };
  },
  async *watchInventory(req, ctx) {
    record(ctx);
    yield { showtimeId: req.showtimeId, snapshot: true };
    yield { showtimeId: req.showtimeId, snapshot: false };
  },
};

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * One HTTP/1.1 request on its own connection (no keep-alive, so that closing the servers at the
 * end does not wait for idle connections).
 */
function http(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(base + path, { method, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
        resolve({ status: res.statusCode ?? 0, headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const jsonHeaders = (extra: Record<string, string> = {}) => ({ "content-type": "application/json", ...extra });

async function startUsers(port = 0) {
  return startServer({
    name: "users",
    host: "127.0.0.1",
    port,
    logger: silentLogger(),
    verifier: auth.verifier,
    routes: (router) => router.service(UsersService, usersStub),
    httpRoutes: (req, res) => {
      if (req.url !== "/.well-known/jwks.json") return false;
      res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" });
      res.end(JSON.stringify(auth.issuer.jwks()));
      return true;
    },
  });
}

beforeAll(async () => {
  auth = await testAuth();
  users = await startUsers();
  payments = await startServer({
    name: "payments",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    verifier: auth.verifier,
    routes: (router) => {
      router.service(PaymentsService, paymentsStub);
      router.service(BookingService, bookingStub);
    },
  });
  gateway = await build({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [
      { service: UsersService, backend: "users" },
      { service: PaymentsService, backend: "payments" },
      // one test double serves both; the gateway only knows it by this name
      { service: BookingService, backend: "booking" },
    ],
    urls: {
      users: `http://127.0.0.1:${users.port}`,
      payments: `http://127.0.0.1:${payments.port}`,
      booking: `http://127.0.0.1:${payments.port}`,
    },
    corsOrigins: [ORIGIN],
    maxBodyBytes: 64 * 1024,
    upstreamTimeoutMs: 5_000,
    serviceCredential: () => auth.serviceToken("gateway"),
    healthTimeoutMs: 1_000,
  });
  base = `http://127.0.0.1:${gateway.port}`;
});

afterAll(async () => {
  await gateway?.close();
  await users?.close();
  await payments?.close();
});

beforeEach(() => {
  seen.requestIds = [];
  seen.idempotencyKeys = [];
  seen.authorizations = [];
  seen.calls = 0;
  seen.webhook = undefined;
});

describe("REST", () => {
  it("POST /api/v1/auth/register → 201 with the response, request id and idempotency key passed through", async () => {
    const r = await http("POST", "/api/v1/auth/register", {
      headers: jsonHeaders({ "x-request-id": "req-abc-123", "idempotency-key": "key-1" }),
      body: JSON.stringify({ email: "ann@example.com", password: "correct horse", displayName: "Ann" }),
    });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ userId: USER_ID, email: "ann@example.com", displayName: "Ann", role: "user" });
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.headers.get("x-request-id")).toBe("req-abc-123");
    expect(seen.requestIds).toEqual(["req-abc-123"]);
    expect(seen.idempotencyKeys).toEqual(["key-1"]);
  });

  it("makes a request id when the caller sends none, and the backend gets the same one", async () => {
    const r = await http("POST", "/api/v1/auth/register", {
      headers: jsonHeaders(),
      body: JSON.stringify({ email: "bob@example.com", password: "correct horse", displayName: "Bob" }),
    });
    expect(r.status).toBe(201);
    const id = r.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.requestIds).toEqual([id]);
  });

  it("GET /api/v1/me without a token → 401 with the spec's error body (from the backend)", async () => {
    const r = await http("GET", "/api/v1/me");
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ code: "unauthenticated", message: "sign in required", details: [] });
    expect(r.headers.get("x-request-id")).toBeTruthy();
  });

  it("GET /api/v1/me with a user token → 200, the token verified by the backend", async () => {
    const r = await http("GET", "/api/v1/me", { headers: { authorization: `Bearer ${await auth.userToken(USER_ID)}` } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ userId: USER_ID, email: "ann@example.com", displayName: "Ann", phone: "", role: "user" });
  });

  it("backend errors keep their code: 409 already_exists, 401 unauthenticated", async () => {
    const taken = await http("POST", "/api/v1/auth/register", {
      headers: jsonHeaders(),
      body: JSON.stringify({ email: "taken@example.com", password: "correct horse", displayName: "T" }),
    });
    expect(taken.status).toBe(409);
    expect(taken.json).toEqual({ code: "already_exists", message: "email: an account with this email already exists", details: [] });
    const login = await http("POST", "/api/v1/auth/login", { headers: jsonHeaders(), body: JSON.stringify({ email: "a@b.c", password: "x" }) });
    expect(login.status).toBe(401);
    expect(login.json.code).toBe("unauthenticated");
  });

  it("a protovalidate violation → 400 with its structured detail (type, base64 value, debug JSON)", async () => {
    const r = await http("POST", "/api/v1/auth/register", {
      headers: jsonHeaders(),
      body: JSON.stringify({ email: "not-an-email", password: "correct horse", displayName: "Ann" }),
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("invalid_argument");
    expect(r.json.message).toMatch(/^email: /);
    expect(r.json.details).toHaveLength(1);
    expect(r.json.details[0].type).toBe("buf.validate.Violations");
    expect(Buffer.from(r.json.details[0].value, "base64").length).toBeGreaterThan(0);
    expect(JSON.stringify(r.json.details[0].debug)).toContain("email");
    expect(seen.calls).toBe(0); // refused by the backend's validation interceptor before the handler
  });

  it("malformed JSON → 400 naming the problem; nothing is forwarded", async () => {
    const r = await http("POST", "/api/v1/auth/register", { headers: jsonHeaders(), body: '{"email": "a@b.c",' });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("invalid_argument");
    expect(r.json.message).toMatch(/^malformed JSON in request body: /);
    expect(r.json.details).toEqual([]);
    expect(seen.calls).toBe(0);
  });

  it('a wrong type ({"email": 5}) → 400 naming email', async () => {
    const r = await http("POST", "/api/v1/auth/register", { headers: jsonHeaders(), body: '{"email": 5}' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ code: "invalid_argument", message: "email: expected string, got 5", details: [] });
  });

  it("an unknown field → 400 naming it", async () => {
    const r = await http("POST", "/api/v1/auth/register", { headers: jsonHeaders(), body: '{"email": "a@b.c", "role": "admin"}' });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe("role: unknown field");
  });

  it("a wrong content type → 415; a body past the limit → 413", async () => {
    const form = await http("POST", "/api/v1/auth/login", { headers: { "content-type": "text/plain" }, body: "hello" });
    expect(form.status).toBe(415);
    expect(form.json.code).toBe("invalid_argument");
    const big = await http("POST", "/api/v1/auth/login", { headers: jsonHeaders(), body: JSON.stringify({ email: "x".repeat(70 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe("resource_exhausted");
    expect(seen.calls).toBe(0);
  });

  it("an unknown path → 404; a known path with a wrong method → 405 with Allow", async () => {
    const missing = await http("GET", "/api/v1/nope");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: "not_found", message: "no route for GET /api/v1/nope", details: [] });
    const wrong = await http("DELETE", "/api/v1/me");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PATCH");
    expect(wrong.json.code).toBe("unimplemented");
  });

  it("an internal service credential from outside → 401 before anything is forwarded", async () => {
    const token = await auth.serviceToken("booking");
    const r = await http("GET", "/api/v1/me", { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("unauthenticated");
    expect(r.json.message).toMatch(/service credentials are not accepted/);
    const malformed = await http("GET", "/api/v1/me", { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);
    expect(seen.calls).toBe(0);
  });

  it("an internal-only RPC with a REST route is forwarded with the user's token, and the service answers 403", async () => {
    const r = await http("PUT", `/api/v1/bookings/${BOOKING_ID}/confirm`, {
      headers: jsonHeaders({ authorization: `Bearer ${await auth.userToken()}` }),
      body: JSON.stringify({ paymentStatus: "paid" }),
    });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ code: "permission_denied", message: "internal endpoint", details: [] });
    expect(seen.calls).toBe(0);
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin with 204 and the Connect/gRPC-Web headers", async () => {
    const r = await http("OPTIONS", "/api/v1/auth/register", {
      headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const allowHeaders = r.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "authorization", "connect-protocol-version", "x-grpc-web", "idempotency-key"]) expect(allowHeaders).toContain(h);
    expect(r.headers.get("access-control-allow-methods")).toContain("PATCH");
    expect(r.text).toBe("");
  });

  it("refuses a preflight from another origin, and marks real responses for allowed ones", async () => {
    const other = await http("OPTIONS", "/api/v1/me", { headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const real = await http("GET", "/api/v1/me", { headers: { origin: ORIGIN } });
    expect(real.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(real.headers.get("access-control-expose-headers")).toMatch(/X-Request-Id/i);
    expect(real.headers.get("access-control-expose-headers")).toMatch(/Grpc-Status/i);
  });
});

describe("Connect, gRPC-Web and gRPC through the gateway", () => {
  const sessions: Http2SessionManager[] = [];
  afterAll(() => sessions.forEach((s) => s.abort()));

  it("Connect protocol (HTTP/1.1): unary call with the caller's token and request id", async () => {
    const client = createClient(UsersService, createConnectTransport({ baseUrl: base, httpVersion: "1.1", nodeOptions: { agent: false } }));
    const headers = { authorization: `Bearer ${await auth.userToken(USER_ID)}`, "x-request-id": "connect-req-1" };
    let responseRequestId: string | null = null;
    const me = await client.getMe({}, { headers, onHeader: (h) => (responseRequestId = h.get("x-request-id")) });
    expect(me.userId).toBe(USER_ID);
    expect(seen.requestIds).toEqual(["connect-req-1"]);
    expect(responseRequestId).toBe("connect-req-1");
    await expect(client.getMe({})).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("a backend's error reaches a Connect caller as a Connect error (JSON), not with the backend's gRPC headers", async () => {
    const r = await http("POST", "/ticketing.users.v1.UsersService/Login", {
      headers: { ...jsonHeaders(), "connect-protocol-version": "1" },
      body: JSON.stringify({ email: "a@b.c", password: "x" }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("grpc-status")).toBeNull();
    expect(r.json).toEqual({ code: "unauthenticated", message: "wrong email or password" });
  });

  it("gRPC (HTTP/2 cleartext) and gRPC-Web", async () => {
    const h2 = new Http2SessionManager(base);
    sessions.push(h2);
    const grpc = createClient(UsersService, createGrpcTransport({ baseUrl: base, sessionManager: h2 }));
    const res = await grpc.register({ email: "g@example.com", password: "correct horse", displayName: "G" }, { headers: { "x-request-id": "grpc-req-1" } });
    expect(res.userId).toBe(USER_ID);
    expect(seen.requestIds).toEqual(["grpc-req-1"]);

    const web = createClient(UsersService, createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1", nodeOptions: { agent: false } }));
    const err = await web.login({ email: "a@b.c", password: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toBe("wrong email or password");
  });

  it("server streaming is proxied message by message", async () => {
    const client = createClient(BookingService, createConnectTransport({ baseUrl: base, httpVersion: "1.1", nodeOptions: { agent: false } }));
    const got: boolean[] = [];
    for await (const m of client.watchInventory({ showtimeId: BOOKING_ID })) got.push(m.snapshot);
    expect(got).toEqual([true, false]);
  });

  it("refuses a service credential from outside with 401 on every protocol", async () => {
    const headers = { authorization: `Bearer ${await auth.serviceToken("payments")}` };
    const connect = createClient(UsersService, createConnectTransport({ baseUrl: base, httpVersion: "1.1", nodeOptions: { agent: false } }));
    await expect(connect.getMe({}, { headers })).rejects.toMatchObject({ code: Code.Unauthenticated });
    const h2 = new Http2SessionManager(base);
    sessions.push(h2);
    const grpc = createClient(UsersService, createGrpcTransport({ baseUrl: base, sessionManager: h2 }));
    await expect(grpc.getMe({}, { headers })).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(seen.calls).toBe(0);
  });

  it("does not proxy the backends' gRPC health service", async () => {
    const r = await http("POST", "/grpc.health.v1.Health/Check", { headers: jsonHeaders(), body: "{}" });
    expect(r.status).toBe(404);
  });
});

describe("payment webhook", () => {
  const event = Buffer.from('{"id":"evt_1","type":"payment_intent.succeeded",  "data":{}}\n');

  it("passes the raw bytes and the Stripe-Signature to HandleWebhook in the gateway's name", async () => {
    const r = await http("POST", "/api/v1/payments/webhook", {
      headers: { "content-type": "application/json", "stripe-signature": WEBHOOK_SECRET_SIGNATURE },
      body: event,
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ eventId: "evt_1", eventType: "payment_intent.succeeded", duplicate: false, ignored: false });
    expect(Buffer.from(seen.webhook!.payload).equals(event)).toBe(true);
    expect(seen.webhook!.signature).toBe(WEBHOOK_SECRET_SIGNATURE);
    expect(seen.webhook!.caller).toBe("gateway");
  });

  it("passes the backend's status through (400 bad signature) and refuses a missing signature", async () => {
    const bad = await http("POST", "/api/v1/payments/webhook", { headers: { "stripe-signature": "t=1,v1=bad" }, body: event });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe("signature: does not match the payload");
    const missing = await http("POST", "/api/v1/payments/webhook", { body: event });
    expect(missing.status).toBe(400);
    expect((await http("GET", "/api/v1/payments/webhook")).status).toBe(405);
  });
});

describe("operations", () => {
  it("serves the users service's JWKS", async () => {
    const r = await http("GET", "/.well-known/jwks.json");
    expect(r.status).toBe(200);
    expect(r.json).toEqual(auth.issuer.jwks());
    expect(r.headers.get("cache-control")).toBe("public, max-age=300");
  });

  it("GET /healthz → 200 when every backend serves, 503 naming the one that does not", async () => {
    const ok = await http("GET", "/healthz");
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ status: "ok", services: { users: "serving", payments: "serving", booking: "serving" } });
    expect((await http("GET", "/readyz")).status).toBe(200);

    const port = users.port;
    await users.close();
    const down = await http("GET", "/healthz");
    expect(down.status).toBe(503);
    expect(down.json.status).toBe("unavailable");
    expect(down.json.services).toEqual({ users: "unreachable", payments: "serving", booking: "serving" });
    expect(down.json.errors.users).toMatch(/cannot connect/);

    const rest = await http("POST", "/api/v1/auth/login", { headers: jsonHeaders(), body: JSON.stringify({ email: "a@b.c", password: "x" }) });
    expect(rest.status).toBe(503);
    expect(rest.json).toEqual({ code: "unavailable", message: "the users service is unavailable; try again later", details: [] });
    const jwks = await http("GET", "/.well-known/jwks.json");
    expect(jwks.status).toBe(503);

    // back on the same port: the gateway reconnects by itself
    users = await startUsers(port);
    const again = await http("GET", "/healthz");
    expect(again.status).toBe(200);
  });
});
