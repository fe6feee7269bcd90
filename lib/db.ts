import knexFactory, { type Knex } from "knex";
import pg from "pg";

export type { Knex };

/** A knex migration, listed in code (no file scanning, so it works the same from ts and dist). */
export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  /** The service's own schema; no service reads another's tables. */
  schema: string;
  migrations: Migration[];
  poolMax?: number;
}

/**
 * Connects to Postgres with the service's schema first on the search path, creates the schema
 * when missing and runs the service's pending migrations (idempotent, safe on every start).
 * Replicas starting together take turns (runExclusively): knex's own lock does not cover creating
 * its tables on a fresh database, and a replica that finds its lock taken fails instead of waiting.
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Knex> {
  const knex = knexFactory({
    ...poolConfig(opts),
    migrations: {
      schemaName: opts.schema,
      tableName: "knex_migrations",
      migrationSource: {
        getMigrations: async () => opts.migrations,
        getMigrationName: (m: Migration) => m.name,
        getMigration: async (m: Migration) => ({ up: m.up, down: m.down ?? (async () => undefined) }),
      },
    },
  });
  try {
    await runExclusively(opts.url, `ticketing.migrate:${opts.schema}`, async () => {
      await knex.raw("CREATE SCHEMA IF NOT EXISTS ??", [opts.schema]);
      await knex.migrate.latest();
    });
  } catch (err) {
    await knex.destroy();
    throw err;
  }
  return knex;
}

function poolConfig(opts: Omit<DatabaseOptions, "migrations">): Knex.Config {
  return {
    client: "pg",
    connection: opts.url,
    searchPath: [opts.schema, "public"],
    pool: { min: 0, max: opts.poolMax ?? 10 },
  };
}

/**
 * A second, separate pool on the service's schema (already migrated by openDatabase): for short
 * statements that run while a request holds a connection of the main pool in a transaction
 * (e.g. a rate-limit check under an Idempotency-Key), which would otherwise wait on that same
 * pool and, with every connection so held, never get one.
 */
export function openSidePool(opts: Omit<DatabaseOptions, "migrations">): Knex {
  return knexFactory(poolConfig(opts));
}

/**
 * Runs `fn` while holding a Postgres advisory lock named `name`, on a connection of its own
 * (`fn` may use any pool), so one process at a time across every process on the database runs it.
 */
async function runExclusively<T>(url: string, name: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [name]);
    return await fn();
  } finally {
    await client.end(); // ending the session releases the lock
  }
}

/** Health probe. */
export async function pingDatabase(knex: Knex): Promise<void> {
  await knex.raw("select 1");
}

/** Postgres unique_violation, e.g. a duplicate email. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === "23505" && (constraint === undefined || e.constraint === constraint);
}
