import http2 from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { createServiceClient } from "../lib/clients.js";
import { readConfig } from "../lib/config.js";
import { urlVar } from "../lib/common-config.js";

/** A replica of a service: answers the health check and counts the calls and the HTTP/2 connections it got. */
async function replica() {
  const seen = { calls: 0, connections: 0 };
  const server = http2.createServer(
    connectNodeAdapter({
      routes: (router) =>
        router.service(Health, {
          check() {
            seen.calls++;
            return { status: ServingStatus.SERVING };
          },
        }),
    }),
  );
  server.on("session", (session) => {
    seen.connections++;
    sessions.add(session);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    seen,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      }),
  };
}
const sessions = new Set<http2.ServerHttp2Session>();

describe("a client of a service with several replicas", () => {
  const replicas: Array<Awaited<ReturnType<typeof replica>>> = [];
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
  });

  it("sends each call to the next replica in turn, over one connection per replica opened once", async () => {
    replicas.push(await replica(), await replica());
    const client = createServiceClient(Health, replicas.map((r) => r.url).join(","), async () => "credential");
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = replicas.map((r) => r.seen.calls);
      await client.check({ service: "" });
      order.push(replicas.findIndex((r, k) => r.seen.calls > before[k]));
    }
    expect(order).toEqual([0, 1, 0, 1, 0, 1]);
    // concurrent calls too: still one connection each
    await Promise.all(Array.from({ length: 20 }, () => client.check({ service: "" })));
    expect(replicas.map((r) => r.seen.calls)).toEqual([13, 13]);
    expect(replicas.map((r) => r.seen.connections)).toEqual([1, 1]);
  });
});

describe("<NAME>_URL", () => {
  it("lists the replicas of booking and payments, comma-separated; every entry must be a URL", () => {
    const specs = { booking: urlVar("booking"), payments: urlVar("payments") };
    const config = readConfig(specs, { BOOKING_URL: "http://127.0.0.1:50053/, http://127.0.0.1:50153", PAYMENTS_URL: "http://127.0.0.1:50054" });
    expect(config).toEqual({ booking: "http://127.0.0.1:50053,http://127.0.0.1:50153", payments: "http://127.0.0.1:50054" });
    expect(() => readConfig(specs, { BOOKING_URL: "http://127.0.0.1:50053,nonsense" })).toThrow(/BOOKING_URL .*"nonsense"/);
  });

  it("stays one URL for the services that do not run as replicas", () => {
    expect(() => readConfig({ users: urlVar("users") }, { USERS_URL: "http://127.0.0.1:1,http://127.0.0.1:2" })).toThrow(/USERS_URL must be a URL/);
  });
});
