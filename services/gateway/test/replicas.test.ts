import nodeHttp from "node:http";
import type { ServiceImpl } from "@connectrpc/connect";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { unauthenticated } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { startServer, type RunningServer } from "../../../lib/server.js";
import { testAuth } from "../../../test/support/auth.js";
import { build, type RunningGateway } from "../server.js";

/*
 * A backend that runs as several replicas (BOOKING_URL, PAYMENTS_URL as comma-separated lists):
 * the gateway spreads calls over them and /healthz asks each. The users contract stands in for
 * any backend here.
 */

let auth: Awaited<ReturnType<typeof testAuth>>;
const replicas: RunningServer[] = [];
const calls = [0, 0];
let gateway: RunningGateway;

function replicaStub(k: number): Partial<ServiceImpl<typeof UsersService>> {
  return {
    async login() {
      calls[k]++;
      throw unauthenticated("wrong email or password");
    },
  };
}

function request(method: string, path: string, body?: string): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of any endpoint
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(`http://127.0.0.1:${gateway.port}${path}`, { method, headers: { "content-type": "application/json" }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  auth = await testAuth();
  for (const k of [0, 1]) {
    replicas.push(
      await startServer({ name: "users", host: "127.0.0.1", port: 0, logger: silentLogger(), verifier: auth.verifier, routes: (r) => r.service(UsersService, replicaStub(k)) }),
    );
  }
  gateway = await build({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: [{ service: UsersService, backend: "users" }],
    urls: { users: replicas.map((r) => `http://127.0.0.1:${r.port}`).join(",") },
    corsOrigins: "*",
    maxBodyBytes: 64 * 1024,
    upstreamTimeoutMs: 5_000,
    serviceCredential: () => auth.serviceToken("gateway"),
    healthTimeoutMs: 1_000,
  });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(replicas.map((r) => r.close()));
});

describe("a backend with two replicas", () => {
  it("gets the REST calls in turn, half each", async () => {
    for (let i = 0; i < 6; i++) {
      const r = await request("POST", "/api/v1/auth/login", JSON.stringify({ email: "a@b.c", password: "x" }));
      expect(r.status).toBe(401);
    }
    expect(calls).toEqual([3, 3]);
  });

  it("is healthy in /healthz only while every replica serves, and says which one does not", async () => {
    expect((await request("GET", "/healthz")).json).toEqual({ status: "ok", services: { users: "serving" } });
    await replicas[1].close();
    const down = await request("GET", "/healthz");
    expect(down.status).toBe(503);
    expect(down.json.services).toEqual({ users: "unreachable" });
    expect(down.json.errors.users).toMatch(/^replica 2 of 2: cannot connect/);
  });
});
