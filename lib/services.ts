/**
 * The services of the platform, their default ports and the env vars that locate them.
 * One table so that the start script, the gateway, clients and docker-compose agree.
 */
export const SERVICE_NAMES = [
  "users",
  "catalog",
  "booking",
  "payments",
  "search",
  "notifications",
  "reviews",
  "admission",
  "tickets",
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Services that may run as several replicas behind one `<NAME>_URL` list, which every caller
 * (the gateway, the other services) spreads its calls over. Their state is all in Postgres and
 * Temporal; `npm start` runs `REPLICAS_<NAME>` of each (scripts/start-config.ts).
 */
export const BALANCED_SERVICES = ["booking", "payments"] as const satisfies readonly ServiceName[];

/** Default port of each backend service (gRPC, gRPC-Web and Connect on one port). */
export const DEFAULT_PORTS: Record<ServiceName | "gateway", number> = {
  gateway: 8080,
  users: 50051,
  catalog: 50052,
  booking: 50053,
  payments: 50054,
  search: 50055,
  notifications: 50056,
  reviews: 50057,
  admission: 50058,
  tickets: 50059,
};

/** `USERS_PORT`, `CATALOG_PORT`, ...: the port a service listens on. */
export function portEnvVar(name: ServiceName | "gateway"): string {
  return `${name.toUpperCase()}_PORT`;
}

/** `USERS_URL`, `CATALOG_URL`, ...: where other services reach a service. */
export function urlEnvVar(name: ServiceName): string {
  return `${name.toUpperCase()}_URL`;
}

export function defaultUrl(name: ServiceName): string {
  return `http://127.0.0.1:${DEFAULT_PORTS[name]}`;
}
