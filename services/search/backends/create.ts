import { openDatabase, type Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import type { BackendName, SearchBackend } from "../backend.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { PostgresBackend } from "./postgres.js";

export interface BackendConfig {
  searchBackend: BackendName;
  databaseUrl: string;
  databasePoolMax: number;
  elasticsearchUrl?: string;
  index: string;
  queryTimeoutMs: number;
}

/**
 * Opens the configured backend and initialises it (Postgres: schema `search` and its
 * migrations; engines: the index behind the alias). `close()` releases what was opened here.
 */
export async function openBackend(config: BackendConfig, logger: Logger): Promise<SearchBackend> {
  if (config.searchBackend === "postgres") {
    const db: Knex = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
    const backend = new PostgresBackend({ db, logger, queryTimeoutMs: config.queryTimeoutMs });
    try {
      await backend.init();
    } catch (err) {
      await db.destroy();
      throw err;
    }
    const close = backend.close.bind(backend);
    backend.close = async () => {
      await close();
      await db.destroy();
    };
    return backend;
  }
  if (!config.elasticsearchUrl) throw new Error(`${config.searchBackend} needs ELASTICSEARCH_URL`);
  // loaded only for an engine: the default (Postgres) needs neither engine client installed
  const { createEngineClient } = await import("./engine-clients.js");
  const { EngineBackend } = await import("./engine.js");
  const client = createEngineClient({ engine: config.searchBackend, url: config.elasticsearchUrl });
  const backend = new EngineBackend({ client, alias: config.index, logger, queryTimeoutMs: config.queryTimeoutMs });
  // the service starts while the engine is down (searches answer 503) and sets the index up
  // once the engine answers
  const initialise = async (attempt: number): Promise<void> => {
    try {
      await backend.init();
      if (attempt > 0) logger.info({ engine: config.searchBackend }, "search index ready");
    } catch (err) {
      logger.warn({ err: (err as Error).message, engine: config.searchBackend }, "search engine not ready; retrying in 5 s");
      setTimeout(() => void initialise(attempt + 1), 5_000).unref();
    }
  };
  await initialise(0);
  return backend;
}
