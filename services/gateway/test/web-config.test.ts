import { resolve } from "node:path";
import { sessionVars, temporalVars } from "../../../lib/common-config.js";
import { usersVars } from "../../users/config.js";
import { gatewayVars, readGatewayConfig } from "../config.js";

describe("gateway config for the web app", () => {
  it("defaults: web/dist under the working directory, no Stripe key, no Temporal UI, namespace default, 30-day cookie", () => {
    const c = readGatewayConfig({});
    expect(c.webDir).toBe(resolve(process.cwd(), "web/dist"));
    expect(c.stripePublishableKey).toBeUndefined();
    expect(c.temporalUiUrl).toBeUndefined();
    expect(c.temporalNamespace).toBe("default");
    expect(c.refreshTokenTtlSeconds).toBe(30 * 86_400);
  });

  it("reads every variable", () => {
    const c = readGatewayConfig({
      GATEWAY_WEB_DIR: "/srv/app",
      STRIPE_PUBLISHABLE_KEY: "pk_live_51Habc",
      TEMPORAL_UI_URL: "https://temporal.example/ui/",
      TEMPORAL_NAMESPACE: "ticketing",
      REFRESH_TOKEN_TTL_SECONDS: "86400",
    });
    expect(c.webDir).toBe("/srv/app");
    expect(c.stripePublishableKey).toBe("pk_live_51Habc");
    expect(c.temporalUiUrl).toBe("https://temporal.example/ui");
    expect(c.temporalNamespace).toBe("ticketing");
    expect(c.refreshTokenTtlSeconds).toBe(86_400);
    expect(readGatewayConfig({ GATEWAY_WEB_DIR: "build/web" }).webDir).toBe(resolve(process.cwd(), "build/web"));
    expect(readGatewayConfig({ STRIPE_PUBLISHABLE_KEY: "pk_test_abc" }).stripePublishableKey).toBe("pk_test_abc");
  });

  it.each(["sk_test_abc", "rk_live_abc", "pk_abc", "pk_test_", "publishable"])("refuses STRIPE_PUBLISHABLE_KEY=%s, naming it", (key) => {
    expect(() => readGatewayConfig({ STRIPE_PUBLISHABLE_KEY: key })).toThrow(/STRIPE_PUBLISHABLE_KEY must start with pk_test_ or pk_live_/);
  });

  it("says so when the key is a secret key", () => {
    expect(() => readGatewayConfig({ STRIPE_PUBLISHABLE_KEY: "sk_live_abc" })).toThrow(/secret key/);
  });

  it.each(["localhost:8233", "not a url", "ftp://temporal.example"])("refuses TEMPORAL_UI_URL=%s, naming it", (url) => {
    expect(() => readGatewayConfig({ TEMPORAL_UI_URL: url })).toThrow(/TEMPORAL_UI_URL/);
  });

  it("shares TEMPORAL_NAMESPACE and REFRESH_TOKEN_TTL_SECONDS with the services: one declaration each", () => {
    expect(gatewayVars.temporalNamespace).toBe(temporalVars.temporalNamespace);
    expect(gatewayVars.refreshTokenTtlSeconds).toBe(sessionVars.refreshTokenTtlSeconds);
    expect(usersVars.refreshTokenTtlSeconds).toBe(sessionVars.refreshTokenTtlSeconds);
  });
});
