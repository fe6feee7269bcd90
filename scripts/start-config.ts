/**
 * `npm start`'s configuration: the only code of it that reads process.env. Every port and URL a
 * service needs, where data lives, and whether to run the embedded engines or use external ones.
 */
import * as path from "node:path";
import { BALANCED_SERVICES, DEFAULT_PORTS, SERVICE_NAMES, portEnvVar, urlEnvVar, type ServiceName } from "../lib/services";

const REPO_ROOT = path.resolve(__dirname, "..");

/** Development defaults of the bootstrap admin (shared/spec/rest-api.md); printed at start. */
const DEV_ADMIN_EMAIL = "admin@ticketing.local";
const DEV_ADMIN_PASSWORD = "change-me-admin";
/** Development defaults of a door staff account, for trying the scanner page (/door); printed at start. */
const DEV_DOOR_EMAIL = "door@ticketing.local";
const DEV_DOOR_PASSWORD = "change-me-door";

/** What `npm start` can run several replicas of: the gateway, the balanced services, the workflow worker. */
export const SCALED_TIERS = ["gateway", ...BALANCED_SERVICES, "workflows"] as const;
export type ScaledTier = (typeof SCALED_TIERS)[number];
/** Replica k (0-based) of a tier with a port listens on its port + k × this (8080, 8180, …; 50053, 50153, …). */
export const REPLICA_PORT_STEP = 100;
const MAX_REPLICAS = 8;

/** `REPLICAS_GATEWAY`, `REPLICAS_BOOKING`, `REPLICAS_PAYMENTS`, `REPLICAS_WORKFLOWS`. */
export function replicasEnvVar(tier: ScaledTier): string {
  return `REPLICAS_${tier.toUpperCase()}`;
}

/** The ports of a tier's replicas. */
export function replicaPorts(port: number, replicas: number): number[] {
  return Array.from({ length: replicas }, (_, k) => port + k * REPLICA_PORT_STEP);
}

export interface StartConfig {
  dataDir: string;
  /** External Postgres, or undefined to run the embedded one on `embeddedPgPort`. */
  databaseUrl?: string;
  embeddedPgPort: number;
  /**
   * The embedded Postgres' max_connections: every process's pool (DATABASE_POOL_MAX, replicas
   * included), each booking replica's LISTEN connection, and room for tools; Postgres' default of
   * 100 is too few from three replicas on.
   */
  embeddedPgMaxConnections: number;
  /** External Temporal, or undefined to run the dev server on `temporalPort` / `temporalUiPort`. */
  temporalAddress?: string;
  temporalPort: number;
  temporalUiPort: number;
  temporalNamespace: string;
  /** The first gateway's port; replica k listens on gatewayPort + k × REPLICA_PORT_STEP. */
  gatewayPort: number;
  /** Each service's (first replica's) port, and where the others reach it: every replica's URL, comma-separated. */
  services: Record<ServiceName, { port: number; url: string }>;
  /** Processes per scaled tier: `REPLICAS` for all of them (default 1), `REPLICAS_<TIER>` for one. */
  replicas: Record<ScaledTier, number>;
  /** The user's own signing key; undefined means generate a development key under dataDir. */
  jwtPrivateKeyFile?: string;
  /** Where services fetch the users service's public keys; follows USERS_URL unless set. */
  jwksUrl: string;
  admin: { email: string; password: string; passwordFromEnv: boolean };
  /** The development door staff account (scanner page); BOOTSTRAP_DOOR_EMAIL/PASSWORD override it. */
  door: { email: string; password: string; passwordFromEnv: boolean };
  nodeEnv: string;
  /** How long the gateway may take to report healthy (first start compiles every service through tsx). */
  healthTimeoutMs: number;
  /** What the children inherit; the variables above are layered on top. */
  inheritedEnv: NodeJS.ProcessEnv;
}

export class ConfigError extends Error {}

/** The configuration from an environment (tests); `configFromEnvironment` reads the process's. */
export function startConfigFrom(env: NodeJS.ProcessEnv): StartConfig {
  const text = (name: string): string | undefined => (env[name] === "" ? undefined : env[name]);
  const port = (name: string, fallback: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      throw new ConfigError(`${name} must be a port number (1-65535), not "${raw}"`);
    }
    return value;
  };
  const count = (name: string, fallback: number, max = MAX_REPLICAS): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new ConfigError(`${name} must be ${max === MAX_REPLICAS ? "a number of replicas" : "a whole number"} (1-${max}), not "${raw}"`);
    }
    return value;
  };
  const allReplicas = count("REPLICAS", 1);
  const gatewayPort = port(portEnvVar("gateway"), DEFAULT_PORTS.gateway);
  const replicas = {} as StartConfig["replicas"];
  for (const tier of SCALED_TIERS) replicas[tier] = count(replicasEnvVar(tier), allReplicas);
  if (replicaPorts(gatewayPort, replicas.gateway).some((p) => p > 65535)) throw new ConfigError(`${portEnvVar("gateway")}: its replicas' ports would pass 65535`);
  const replicasOf = (name: ServiceName): number => ((BALANCED_SERVICES as readonly string[]).includes(name) ? replicas[name as ScaledTier] : 1);
  const services = {} as StartConfig["services"];
  for (const name of SERVICE_NAMES) {
    const servicePort = port(portEnvVar(name), DEFAULT_PORTS[name]);
    const ports = replicaPorts(servicePort, replicasOf(name));
    if (ports[ports.length - 1] > 65535) throw new ConfigError(`${portEnvVar(name)}: its replicas' ports would pass 65535`);
    services[name] = { port: servicePort, url: text(urlEnvVar(name)) ?? ports.map((p) => `http://127.0.0.1:${p}`).join(",") };
  }
  return {
    dataDir: path.resolve(text("DATA_DIR") ?? path.join(REPO_ROOT, ".data")),
    databaseUrl: text("DATABASE_URL"),
    embeddedPgPort: port("EMBEDDED_PG_PORT", 54320),
    embeddedPgMaxConnections: maxConnections(count("DATABASE_POOL_MAX", 10, 200), replicas),
    temporalAddress: text("TEMPORAL_ADDRESS"),
    temporalPort: port("TEMPORAL_PORT", 7233),
    temporalUiPort: port("TEMPORAL_UI_PORT", 8233),
    temporalNamespace: text("TEMPORAL_NAMESPACE") ?? "default",
    gatewayPort,
    services,
    replicas,
    jwtPrivateKeyFile: text("JWT_PRIVATE_KEY_FILE"),
    // lib/common-config.ts defaults it to the users service's *default* port, wrong once USERS_PORT moves
    jwksUrl: text("JWT_JWKS_URL") ?? `${services.users.url}/.well-known/jwks.json`,
    admin: {
      email: text("BOOTSTRAP_ADMIN_EMAIL") ?? DEV_ADMIN_EMAIL,
      password: text("BOOTSTRAP_ADMIN_PASSWORD") ?? DEV_ADMIN_PASSWORD,
      passwordFromEnv: text("BOOTSTRAP_ADMIN_PASSWORD") !== undefined,
    },
    door: {
      email: text("BOOTSTRAP_DOOR_EMAIL") ?? DEV_DOOR_EMAIL,
      password: text("BOOTSTRAP_DOOR_PASSWORD") ?? DEV_DOOR_PASSWORD,
      passwordFromEnv: text("BOOTSTRAP_DOOR_PASSWORD") !== undefined,
    },
    nodeEnv: text("NODE_ENV") ?? "development",
    healthTimeoutMs: 1000 * positiveNumber("START_HEALTH_TIMEOUT_SECONDS", text("START_HEALTH_TIMEOUT_SECONDS"), 180),
    inheritedEnv: { ...env },
  };
}

/**
 * Services with a database pool (every service; the gateway and the worker have none), their
 * LISTENs (each booking replica's seat maps, the admission service's queue positions), and 30 to spare.
 */
function maxConnections(poolMax: number, replicas: Record<ScaledTier, number>): number {
  const processes = SERVICE_NAMES.length - BALANCED_SERVICES.length + BALANCED_SERVICES.reduce((n, name) => n + replicas[name], 0);
  return Math.max(100, processes * poolMax + replicas.booking + 1 + 30);
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new ConfigError(`${name} must be a positive number, not "${raw}"`);
  return value;
}

/** The one read of the process environment. */
export function configFromEnvironment(): StartConfig {
  return startConfigFrom(process.env);
}
