import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Client as TemporalClient, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from "@temporalio/client";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { testAuth } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { build, type CatalogServer, type CatalogServerDeps } from "../server.js";

export type Auth = Awaited<ReturnType<typeof testAuth>>;

export interface CatalogHarness {
  url: string;
  db: Knex;
  databaseUrl: string;
  server: CatalogServer;
  client: Client<typeof CatalogService>;
  auth: Auth;
  /** Call options with one admin's token (the same admin every time: idempotency keys are per caller). */
  admin: { headers: Record<string, string> };
  user: { headers: Record<string, string> };
  service: { headers: Record<string, string> };
  /** Admin options plus an Idempotency-Key. */
  adminWithKey(key: string): { headers: Record<string, string> };
  /** Stops the server (and its relay); the database stays until `close`. */
  stop(): Promise<void>;
  /** Starts another server on the same database (e.g. after `stop`). */
  restart(deps?: Partial<CatalogServerDeps>): Promise<void>;
  close(): Promise<void>;
}

/** The catalog in-process on port 0 with its own database; Connect over HTTP/1.1 by default. */
export async function startCatalog(deps: Partial<CatalogServerDeps> = {}): Promise<CatalogHarness> {
  const database = await createTestDatabase("catalog");
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 20 });
  const auth = await testAuth();
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const adminHeaders = bearer(await auth.adminToken());
  const start = (more: Partial<CatalogServerDeps>) =>
    build({ db, verifier: auth.verifier, logger: silentLogger(), host: "127.0.0.1", port: 0, ...more });
  let server = await start(deps);
  const h: CatalogHarness = {
    url: "",
    db,
    databaseUrl: database.url,
    server,
    client: undefined as unknown as Client<typeof CatalogService>,
    auth,
    admin: { headers: adminHeaders },
    user: { headers: bearer(await auth.userToken()) },
    service: { headers: bearer(await auth.serviceToken("search")) },
    adminWithKey: (key) => ({ headers: { ...adminHeaders, "idempotency-key": key } }),
    stop: () => server.close(),
    async restart(more = {}) {
      server = await start({ ...deps, ...more });
      setServer(server);
    },
    async close() {
      await server.close().catch(() => undefined);
      await db.destroy();
      await database.drop();
    },
  };
  const setServer = (s: CatalogServer) => {
    h.server = s;
    h.url = `http://127.0.0.1:${s.port}`;
    h.client = createClient(CatalogService, createConnectTransport({ baseUrl: h.url, httpVersion: "1.1" }));
  };
  setServer(server);
  return h;
}

/** A Temporal client of the test run's dev server. */
export async function testTemporal(): Promise<{ client: TemporalClient; close(): Promise<void> }> {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error("TEST_TEMPORAL_ADDRESS is not set: run the tests with jest (global setup)");
  const connection = await Connection.connect({ address });
  return { client: new TemporalClient({ connection, namespace: "default" }), close: () => connection.close() };
}

/** A Temporal client of an address where nothing listens (an outage), failing fast. */
export function deadTemporal(port: number): { client: TemporalClient; close(): Promise<void> } {
  const connection = Connection.lazy({
    address: `127.0.0.1:${port}`,
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    connectTimeout: 1_000,
  });
  return { client: new TemporalClient({ connection, namespace: "default" }), close: () => connection.close() };
}

/** The seeds' example seatLayout, verbatim. */
export const SEEDS_LAYOUT = {
  sections: [
    {
      id: "premium-section-1",
      name: "Premium",
      rows: [
        {
          label: "A",
          seats: [
            { id: "A1", label: "A1", coordinates: { x: 10, y: 20 }, seatType: "premium" },
            { id: "A2", label: "A2", coordinates: { x: 30, y: 20 }, seatType: "premium" },
          ],
        },
        {
          label: "B",
          seats: [
            { id: "B1", label: "B1", coordinates: { x: 10, y: 40 }, seatType: "premium" },
            { id: "B2", label: "B2", coordinates: { x: 30, y: 40 }, seatType: "premium" },
          ],
        },
      ],
    },
    {
      id: "regular-section-1",
      name: "Regular",
      rows: [
        {
          label: "C",
          seats: [
            { id: "C1", label: "C1", coordinates: { x: 10, y: 60 }, seatType: "standard" },
            { id: "C2", label: "C2", coordinates: { x: 30, y: 60 }, seatType: "standard" },
          ],
        },
      ],
    },
  ],
};

/** A layout of `rows` × `perRow` seats in one section (ids `R<row>S<seat>`). */
export function gridLayout(rows: number, perRow: number, seatType = "") {
  return {
    sections: [
      {
        id: "main",
        name: "Main",
        rows: Array.from({ length: rows }, (_, r) => ({
          label: `R${r + 1}`,
          seats: Array.from({ length: perRow }, (_, s) => ({
            id: `R${r + 1}S${s + 1}`,
            label: `${s + 1}`,
            coordinates: { x: s * 10, y: r * 10 },
            seatType,
          })),
        })),
      },
    ],
  };
}

export const hoursFromNow = (h: number) => new Date(Date.now() + h * 3_600_000);

export { errorOf, codeOf, waitFor } from "../../../test/support/waiting.js";
