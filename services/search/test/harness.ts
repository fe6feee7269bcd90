import { randomUUID } from "node:crypto";
import { createClient, type Client, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { BookingService } from "../../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../../gen/ticketing/catalog/v1/catalog_pb.js";
import { SearchService } from "../../../gen/ticketing/search/v1/search_pb.js";
import { serviceCredential } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { startServer, type RunningServer } from "../../../lib/server.js";
import { testAuth, TEST_SERVICE_SECRET } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { startCatalog, type CatalogHarness } from "../../catalog/test/harness.js";
import type { CatalogServerDeps } from "../../catalog/server.js";
import type { EngineName, SearchEngine } from "../engine.js";
import { createElasticsearchClient } from "../engines/elasticsearch-clients.js";
import { ElasticsearchEngine, MAPPINGS, SETTINGS } from "../engines/elasticsearch.js";
import { PostgresEngine } from "../engines/postgres.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { build, type SearchServer, type SearchServerDeps } from "../server.js";

/** An engine of a fresh namespace: its own database (Postgres) or its own alias (Elasticsearch/OpenSearch). */
/**
 * The suites test what search answers, on a machine other suites load too: a slow answer is not
 * a failure here (the 503 on a dead or slow engine has its own tests with their own timeouts).
 */
const TEST_QUERY_TIMEOUT_MS = 20_000;

export async function openTestEngine(
  name: EngineName,
  engineUrl?: string,
): Promise<{ engine: SearchEngine; close(): Promise<void> }> {
  if (name === "postgres") {
    const database = await createTestDatabase("search");
    const db: Knex = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 20 });
    const engine = new PostgresEngine({ db, logger: silentLogger(), queryTimeoutMs: TEST_QUERY_TIMEOUT_MS });
    await engine.init();
    return {
      engine,
      async close() {
        await db.destroy();
        await database.drop();
      },
    };
  }
  if (!engineUrl) throw new Error(`${name} needs an engine URL`);
  const client = createElasticsearchClient({ engine: name, url: engineUrl });
  const alias = `showtimes-${randomUUID().slice(0, 8)}`;
  const engine = new ElasticsearchEngine({ client, alias, logger: silentLogger(), swapGraceMs: 200, queryTimeoutMs: TEST_QUERY_TIMEOUT_MS });
  await engine.init();
  return {
    engine,
    async close() {
      for (const index of await client.aliasTargets(alias)) await client.deleteIndex(index);
      await client.close();
    },
  };
}

/** Migrations up to 0005: the Postgres layout before search carried prices. */
const MIGRATIONS_BEFORE_PRICES = migrations.filter((m) => m.name < "0006");

/** The engine mapping before search carried prices. */
function mappingsBeforePrices() {
  const { priceFrom: _priceFrom, currency: _currency, ...properties } = MAPPINGS.properties;
  return { ...MAPPINGS, properties };
}

export interface PrePricesIndex {
  /**
   * This version's engine on the index as the version before prices left it, neither migrated
   * nor initialised: what this version meets when an older one rebuilt the index after it
   * started (a rollback, or an old replica's re-index during a rolling deploy).
   */
  previous: SearchEngine;
  /** This version starting on that index: Postgres migrations (0006), engine init (mapping). */
  upgrade(): Promise<SearchEngine>;
  /** Ids of the showtimes whose stored price (columns / indexed fields) is in [min, max] in `currency`. */
  pricedIds(min: number, max: number, currency: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A fresh index of the version before prices: a Postgres database migrated up to 0005, or an
 * engine alias over `<alias>-v1` created with the mapping of then.
 */
export async function openPrePricesIndex(name: EngineName, engineUrl?: string): Promise<PrePricesIndex> {
  if (name === "postgres") {
    const database = await createTestDatabase("search_old");
    const open = (list = migrations) => openDatabase({ url: database.url, schema: SCHEMA, migrations: list, poolMax: 4 });
    const dbs: Knex[] = [await open(MIGRATIONS_BEFORE_PRICES)];
    const engineOn = async (db: Knex) => {
      const b = new PostgresEngine({ db, logger: silentLogger(), queryTimeoutMs: TEST_QUERY_TIMEOUT_MS });
      await b.init();
      return b;
    };
    return {
      previous: await engineOn(dbs[0]),
      async upgrade() {
        dbs.push(await open());
        return engineOn(dbs[1]);
      },
      async pricedIds(min, max, currency) {
        const rows: Array<{ showtime_id: string }> = await dbs[dbs.length - 1]
          .withSchema(SCHEMA)
          .table("showtimes")
          .whereBetween("price_from", [min, max])
          .andWhere({ currency })
          .orderBy("showtime_id")
          .select("showtime_id");
        return rows.map((r) => r.showtime_id);
      },
      async close() {
        for (const db of dbs) await db.destroy();
        await database.drop();
      },
    };
  }
  if (!engineUrl) throw new Error(`${name} needs an engine URL`);
  const client = createElasticsearchClient({ engine: name, url: engineUrl });
  const alias = `showtimes-${randomUUID().slice(0, 8)}`;
  await client.createIndex(`${alias}-v1`, { settings: SETTINGS, mappings: mappingsBeforePrices(), aliases: { [alias]: {} } });
  const engineOf = () => new ElasticsearchEngine({ client, alias, logger: silentLogger(), swapGraceMs: 200, queryTimeoutMs: TEST_QUERY_TIMEOUT_MS });
  return {
    previous: engineOf(),
    async upgrade() {
      const b = engineOf();
      await b.init();
      return b;
    },
    async pricedIds(min, max, currency) {
      await client.refresh(alias);
      const res = await client.search(alias, {
        query: { bool: { filter: [{ range: { priceFrom: { gte: min, lte: max } } }, { term: { currency } }] } },
        sort: [{ showtimeId: { order: "asc" } }],
        size: 100,
        _source: false,
      });
      return res.hits.hits.map((h) => h._id);
    },
    async close() {
      for (const index of await client.aliasTargets(alias)) await client.deleteIndex(index);
      await client.close();
    },
  };
}

/**
 * Booking's GetSeatAvailability, in memory: the real booking service belongs to another team's
 * work in progress; search needs only this one read, so the tests serve it over a real Connect
 * transport with the same auth as every service.
 */
export async function startBookingStub(verifier: SearchServerDeps["verifier"]) {
  const seats = new Map<string, number>();
  let down = false;
  const impl: Partial<ServiceImpl<typeof BookingService>> = {
    async getSeatAvailability(req) {
      if (down) throw new Error("booking is down (test)");
      return {
        showtimes: req.showtimeIds
          .filter((id) => seats.has(id))
          .map((id) => ({ showtimeId: id, availableSeats: seats.get(id)!, totalSeats: seats.get(id)! })),
      };
    },
  };
  const server: RunningServer = await startServer({
    name: "booking-stub",
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    verifier,
    routes: (router) => router.service(BookingService, impl),
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    seats,
    setDown: (d: boolean) => (down = d),
    close: () => server.close(),
  };
}

export interface SearchHarness {
  name: EngineName;
  engine: SearchEngine;
  server: SearchServer;
  client: Client<typeof SearchService>;
  /** The real catalog service, in process (null when `catalog: false`). */
  catalog: CatalogHarness;
  booking: Awaited<ReturnType<typeof startBookingStub>>;
  /** Call options carrying an internal service credential (IndexShowtime, ReindexAll). */
  service: { headers: Record<string, string> };
  close(): Promise<void>;
}

export interface HarnessOptions {
  engineUrl?: string;
  now?: () => Date;
  /** The search process's activity worker (Temporal). */
  worker?: SearchServerDeps["worker"];
  refresher?: SearchServerDeps["refresher"];
  liveAvailabilityMs?: number;
  /** The catalog's dependencies, e.g. a Temporal client and relay queue to run its outbox relay. */
  catalog?: Partial<CatalogServerDeps>;
}

/** The search service in process on port 0, with a real catalog and the booking stub. */
export async function startSearch(name: EngineName, opts: HarnessOptions = {}): Promise<SearchHarness> {
  const { engine, close: closeEngine } = await openTestEngine(name, opts.engineUrl);
  const catalog = await startCatalog(opts.catalog);
  const auth = catalog.auth;
  const booking = await startBookingStub(auth.verifier);
  const credential = serviceCredential(TEST_SERVICE_SECRET, "search");
  const server = await build({
    engine,
    catalog: createServiceClient(CatalogService, catalog.url, credential),
    booking: createServiceClient(BookingService, booking.url, credential),
    verifier: auth.verifier,
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    now: opts.now,
    liveAvailabilityMs: opts.liveAvailabilityMs ?? 0,
    refresher: opts.refresher,
    worker: opts.worker,
  });
  const client = createClient(SearchService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.port}`, httpVersion: "1.1" }));
  return {
    name,
    engine,
    server,
    client,
    catalog,
    booking,
    service: { headers: { authorization: `Bearer ${await auth.serviceToken("search-test")}` } },
    async close() {
      await server.close().catch(() => undefined);
      await booking.close().catch(() => undefined);
      await catalog.close().catch(() => undefined);
      await closeEngine();
    },
  };
}

export { testAuth };
