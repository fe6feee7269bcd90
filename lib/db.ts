import knexFactory, { type Knex } from "knex";

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
 * when missing and runs the service's pending migrations (idempotent, safe on every start; knex
 * takes a lock so concurrent starters do not race).
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Knex> {
  const knex = knexFactory({
    client: "pg",
    connection: opts.url,
    searchPath: [opts.schema, "public"],
    pool: { min: 0, max: opts.poolMax ?? 10 },
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
    await knex.raw("CREATE SCHEMA IF NOT EXISTS ??", [opts.schema]);
    await knex.migrate.latest();
  } catch (err) {
    await knex.destroy();
    throw err;
  }
  return knex;
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
