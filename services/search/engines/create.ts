import { openDatabase, type Knex } from "../../../lib/db.js";
import type { Logger } from "../../../lib/logger.js";
import type { EngineName, SearchEngine } from "../engine.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { PostgresEngine } from "./postgres.js";

export interface EngineConfig {
  searchEngine: EngineName;
  databaseUrl: string;
  databasePoolMax: number;
  elasticsearchUrl?: string;
  index: string;
  queryTimeoutMs: number;
}

/**
 * Opens the configured engine and initialises it (Postgres: schema `search` and its
 * migrations; Elasticsearch/OpenSearch: the index behind the alias). `close()` releases what was opened here.
 */
export async function openEngine(config: EngineConfig, logger: Logger): Promise<SearchEngine> {
  if (config.searchEngine === "postgres") {
    const db: Knex = await openDatabase({ url: config.databaseUrl, schema: SCHEMA, migrations, poolMax: config.databasePoolMax });
    const engine = new PostgresEngine({ db, logger, queryTimeoutMs: config.queryTimeoutMs });
    try {
      await engine.init();
    } catch (err) {
      await db.destroy();
      throw err;
    }
    const close = engine.close.bind(engine);
    engine.close = async () => {
      await close();
      await db.destroy();
    };
    return engine;
  }
  if (!config.elasticsearchUrl) throw new Error(`${config.searchEngine} needs ELASTICSEARCH_URL`);
  // loaded only for Elasticsearch/OpenSearch: the default (Postgres) needs neither client installed
  const { createElasticsearchClient } = await import("./elasticsearch-clients.js");
  const { ElasticsearchEngine } = await import("./elasticsearch.js");
  const client = createElasticsearchClient({ engine: config.searchEngine, url: config.elasticsearchUrl });
  const engine = new ElasticsearchEngine({ client, alias: config.index, logger, queryTimeoutMs: config.queryTimeoutMs });
  // the service starts while the engine is down (searches answer 503) and sets the index up
  // once the engine answers
  const initialise = async (attempt: number): Promise<void> => {
    try {
      await engine.init();
      if (attempt > 0) logger.info({ engine: config.searchEngine }, "search index ready");
    } catch (err) {
      logger.warn({ err: (err as Error).message, engine: config.searchEngine }, "search engine not ready; retrying in 5 s");
      setTimeout(() => void initialise(attempt + 1), 5_000).unref();
    }
  };
  await initialise(0);
  return engine;
}
