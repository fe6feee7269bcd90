import { ConfigError, startConfigFrom } from "../scripts/start-config";

describe("npm start's replicas", () => {
  it("one process per tier by default: every URL names one address", () => {
    const config = startConfigFrom({});
    expect(config.replicas).toEqual({ gateway: 1, booking: 1, payments: 1, workflows: 1 });
    expect(config.services.booking.url).toBe("http://127.0.0.1:50053");
  });

  it("REPLICAS=2: two of gateway, booking, payments and the worker, replica k on port + k × 100, listed in BOOKING_URL and PAYMENTS_URL", () => {
    const config = startConfigFrom({ REPLICAS: "2", BOOKING_PORT: "20000" });
    expect(config.replicas).toEqual({ gateway: 2, booking: 2, payments: 2, workflows: 2 });
    expect(config.services.booking).toEqual({ port: 20000, url: "http://127.0.0.1:20000,http://127.0.0.1:20100" });
    expect(config.services.payments.url).toBe("http://127.0.0.1:50054,http://127.0.0.1:50154");
    // the single services stay single
    expect(config.services.users.url).toBe("http://127.0.0.1:50051");
  });

  it("REPLICAS_<TIER> sets one tier; a URL the user set wins; nonsense is refused", () => {
    const config = startConfigFrom({ REPLICAS: "2", REPLICAS_BOOKING: "3", PAYMENTS_URL: "http://payments.internal:9000" });
    expect(config.replicas).toEqual({ gateway: 2, booking: 3, payments: 2, workflows: 2 });
    expect(config.services.booking.url.split(",")).toHaveLength(3);
    expect(config.services.payments.url).toBe("http://payments.internal:9000");
    expect(() => startConfigFrom({ REPLICAS: "0" })).toThrow(ConfigError);
    expect(() => startConfigFrom({ REPLICAS_GATEWAY: "two" })).toThrow(/REPLICAS_GATEWAY must be a number of replicas/);
    expect(() => startConfigFrom({ REPLICAS: "2", GATEWAY_PORT: "65500" })).toThrow(/pass 65535/);
  });

  it("gives the embedded Postgres a connection for every replica's pool (Postgres' default 100 run out from three replicas on)", () => {
    expect(startConfigFrom({}).embeddedPgMaxConnections).toBe(9 * 10 + 2 + 30);
    // 7 single services + 4 booking + 4 payments, 10 connections each, 5 LISTENs (booking's, admission's), 30 to spare
    expect(startConfigFrom({ REPLICAS: "4" }).embeddedPgMaxConnections).toBe(15 * 10 + 5 + 30);
    expect(startConfigFrom({ REPLICAS: "4", DATABASE_POOL_MAX: "20" }).embeddedPgMaxConnections).toBe(15 * 20 + 5 + 30);
  });
});
