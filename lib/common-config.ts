import { int, oneOf, readConfig, str, url, urlList, type VarSpec } from "./config.js";
import { BALANCED_SERVICES, DEFAULT_PORTS, defaultUrl, portEnvVar, urlEnvVar, type ServiceName } from "./services.js";

/**
 * Variables every backend service reads. Development defaults are marked `devDefault` and are
 * refused when NODE_ENV=production (see assertNoDevDefaultsInProduction).
 */
export const DEV_SERVICE_AUTH_SECRET = "dev-only-service-secret-do-not-use-in-production";

export const commonVars = {
  nodeEnv: oneOf("NODE_ENV", ["development", "test", "production"] as const, {
    default: "development",
    doc: "development, test or production; production refuses development defaults",
  }),
  host: str("HOST", { default: "127.0.0.1", doc: "interface every service binds to (0.0.0.0 in containers)" }),
  logLevel: oneOf("LOG_LEVEL", ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const, {
    default: "info",
    doc: "pino log level",
  }),
  jwtIssuer: str("JWT_ISSUER", { default: "ticketing-users", doc: "`iss` of access tokens, checked by every service" }),
  jwtAudience: str("JWT_AUDIENCE", { default: "ticketing-api", doc: "`aud` of access tokens, checked by every service" }),
  jwksUrl: url("JWT_JWKS_URL", {
    default: `${defaultUrl("users")}/.well-known/jwks.json`,
    doc: "where services fetch the users service's public signing keys",
  }),
  serviceAuthSecret: str("SERVICE_AUTH_SECRET", {
    default: DEV_SERVICE_AUTH_SECRET,
    devDefault: true,
    doc: "shared secret for internal service-to-service credentials (HS256); set a long random value in production",
  }),
};

export const databaseVars = {
  databaseUrl: url("DATABASE_URL", {
    default: "postgres://postgres:postgres@127.0.0.1:54320/ticketing",
    devDefault: true,
    doc: "Postgres connection string; `npm start` starts embedded Postgres when unset",
  }),
  databasePoolMax: int("DATABASE_POOL_MAX", { default: "10", min: 1, max: 200, doc: "connections per service process" }),
};

export const temporalVars = {
  temporalAddress: str("TEMPORAL_ADDRESS", {
    default: "127.0.0.1:7233",
    doc: "Temporal frontend host:port; `npm start` starts the Temporal dev server when unset",
  }),
  temporalNamespace: str("TEMPORAL_NAMESPACE", {
    default: "default",
    doc: "Temporal namespace; the gateway gives it to the web app for its links to the Temporal UI",
  }),
};

/**
 * Sessions: read by the users service (it issues the refresh tokens) and by the gateway (the web
 * app's refresh cookie lives as long as the token in it).
 */
export const sessionVars = {
  refreshTokenTtlSeconds: int("REFRESH_TOKEN_TTL_SECONDS", {
    default: String(30 * 86_400),
    min: 300,
    doc: "users: lifetime of refresh tokens (rotated on every use); gateway: Max-Age of the web app's refresh cookie",
  }),
};

/** The port a service listens on: `<NAME>_PORT`. */
export function portVar(name: ServiceName | "gateway"): VarSpec<number> {
  return int(portEnvVar(name), {
    default: String(DEFAULT_PORTS[name]),
    min: 0,
    max: 65535,
    doc: `port of the ${name} ${name === "gateway" ? "(public REST, Connect, gRPC-Web)" : "service (gRPC, Connect)"}`,
  });
}

/**
 * Where another service is reached: `<NAME>_URL`. For the services that run as several replicas
 * (BALANCED_SERVICES), a comma-separated list: callers spread their calls over it in turn
 * (lib/clients.ts).
 */
export function urlVar(name: ServiceName): VarSpec<string> {
  if ((BALANCED_SERVICES as readonly string[]).includes(name)) {
    return urlList(urlEnvVar(name), {
      default: defaultUrl(name),
      doc: `base URL of the ${name} service for internal calls; several replicas: their URLs, comma-separated (calls go to each in turn)`,
    });
  }
  return url(urlEnvVar(name), { default: defaultUrl(name), doc: `base URL of the ${name} service for internal calls` });
}

/** Refuses to run in production with any variable left at its development default. */
export function assertNoDevDefaultsInProduction(
  nodeEnv: string,
  specs: Record<string, VarSpec<unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (nodeEnv !== "production") return;
  const left = Object.values(specs).filter((s) => s.devDefault && (env[s.name] ?? s.default) === s.default);
  if (left.length) {
    throw new Error(`production refuses development defaults; set ${left.map((s) => s.name).join(", ")}`);
  }
}

/**
 * Reads a service's variables (lib/config.ts) and refuses development defaults in production:
 * how every service's config.ts starts.
 */
export function readServiceConfig<S extends Record<string, VarSpec<unknown>> & { nodeEnv: VarSpec<string> }>(
  specs: S,
  env: NodeJS.ProcessEnv = process.env,
) {
  const config = readConfig(specs, env);
  assertNoDevDefaultsInProduction(String(config.nodeEnv), specs, env);
  return config;
}
