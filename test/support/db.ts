import { randomBytes } from "node:crypto";
import knexFactory from "knex";

/**
 * Each suite gets its own database on the one embedded Postgres that the jest global setup
 * started, so suites never see each other's rows and can run in parallel.
 */
export function adminDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("TEST_DATABASE_URL is not set: run the tests with `npm test` (jest global setup)");
  return url;
}

export async function createTestDatabase(prefix = "t"): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = knexFactory({ client: "pg", connection: adminDatabaseUrl(), pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  await admin.destroy();
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const k = knexFactory({ client: "pg", connection: adminDatabaseUrl(), pool: { min: 0, max: 1 } });
      await k.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await k.destroy();
    },
  };
}
