import { createTestDatabase } from "./support/db.js";
import { openDatabase, type Knex, type Migration } from "../lib/db.js";

/*
 * Replicas of a service start together on one database (`REPLICAS=2 npm start`): each runs the
 * service's migrations at start-up. On a fresh database they all found no knex_migrations table
 * and created it at once, and all but one died ("relation knex_migrations already exists").
 */
describe("openDatabase from several replicas at once", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase("migrate");
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("on a fresh database, every replica starts and each migration runs once", async () => {
    let runs = 0;
    const migrations: Migration[] = [
      {
        name: "0001_things",
        async up(knex) {
          runs++;
          await knex.schema.withSchema("replicas").createTable("things", (t) => t.text("id").primary());
        },
      },
    ];
    const opened: Knex[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, async () => {
        const knex = await openDatabase({ url: db.url, schema: "replicas", migrations, poolMax: 2 });
        opened.push(knex);
      }),
    );
    await Promise.all(opened.map((k) => k.destroy()));
    expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(runs).toBe(1);
  });
});
