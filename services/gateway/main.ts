import { serviceCredential } from "../../lib/auth.js";
import { createLogger } from "../../lib/logger.js";
import { runMain } from "../../lib/server.js";
import { readGatewayConfig } from "./config.js";
import { build } from "./server.js";
import { UPSTREAMS } from "./upstreams.js";

const config = readGatewayConfig();
const logger = createLogger("gateway", config.logLevel);

runMain(logger, async () => {
  if (config.corsOrigins === "*" && config.nodeEnv !== "development") {
    logger.warn("CORS_ORIGINS is *: any web site may call this API from a browser");
  }
  return build({
    host: config.host,
    port: config.port,
    logger,
    upstreams: UPSTREAMS,
    urls: config.urls,
    corsOrigins: config.corsOrigins,
    maxBodyBytes: config.maxBodyBytes,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    trustedProxies: config.trustedProxies,
    serviceCredential: serviceCredential(config.serviceAuthSecret, "gateway"),
    healthServices: config.services,
    web: {
      dir: config.webDir,
      stripePublishableKey: config.stripePublishableKey,
      temporalUiUrl: config.temporalUiUrl,
      temporalNamespace: config.temporalNamespace,
    },
    refreshCookie: { maxAgeSeconds: config.refreshTokenTtlSeconds, alwaysSecure: config.nodeEnv === "production" },
  });
});
