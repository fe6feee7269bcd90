import { parseCorsOrigins, readGatewayConfig } from "../config.js";

describe("gateway config", () => {
  it("has working development defaults", () => {
    const c = readGatewayConfig({});
    expect(c.port).toBe(8080);
    expect(c.urls.users).toBe("http://127.0.0.1:50051");
    expect(c.urls.reviews).toBe("http://127.0.0.1:50057");
    expect(c.corsOrigins).toBe("*");
    expect(c.maxBodyBytes).toBe(8 * 1024 * 1024);
  });

  it("reads every upstream URL, the port, the body limit and the CORS origins", () => {
    const c = readGatewayConfig({
      GATEWAY_PORT: "0",
      CATALOG_URL: "http://catalog:50052/",
      GATEWAY_MAX_BODY_BYTES: "1048576",
      CORS_ORIGINS: "https://tickets.example.com, http://localhost:5173",
    });
    expect(c.port).toBe(0);
    expect(c.urls.catalog).toBe("http://catalog:50052");
    expect(c.maxBodyBytes).toBe(1048576);
    expect(c.corsOrigins).toEqual(["https://tickets.example.com", "http://localhost:5173"]);
  });

  it("refuses bad values and development defaults in production", () => {
    expect(() => readGatewayConfig({ GATEWAY_MAX_BODY_BYTES: "lots" })).toThrow(/GATEWAY_MAX_BODY_BYTES must be an integer/);
    expect(() => parseCorsOrigins("tickets.example.com")).toThrow(/not an origin/);
    expect(() => parseCorsOrigins("https://tickets.example.com/app")).toThrow(/did you mean "https:\/\/tickets.example.com"/);
    expect(() => readGatewayConfig({ NODE_ENV: "production", SERVICE_AUTH_SECRET: "s".repeat(40) })).toThrow(/CORS_ORIGINS/);
    expect(readGatewayConfig({ NODE_ENV: "production", SERVICE_AUTH_SECRET: "s".repeat(40), CORS_ORIGINS: "https://a.example" }).corsOrigins).toEqual([
      "https://a.example",
    ]);
  });
});
