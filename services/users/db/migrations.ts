import type { Migration } from "../../../lib/db.js";
import { lockoutMigration } from "../../../lib/lockout.js";
import { rateLimitMigration } from "../../../lib/rate-limit.js";

export const SCHEMA = "users";

export const migrations: Migration[] = [
  {
    name: "0001_accounts_and_sessions",
    async up(knex) {
      await knex.schema.withSchema(SCHEMA).createTable("accounts", (t) => {
        t.uuid("id").primary();
        t.text("email").notNullable().unique(); // stored normalised (trimmed, lower case)
        t.text("password_hash").notNullable();
        t.text("display_name").notNullable();
        t.text("phone").notNullable().defaultTo("");
        t.text("role").notNullable().checkIn(["user", "admin"]);
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      // one row per login; logout or a reused refresh token revokes it
      await knex.schema.withSchema(SCHEMA).createTable("sessions", (t) => {
        t.uuid("id").primary();
        t.uuid("account_id").notNullable().references("id").inTable(`${SCHEMA}.accounts`).onDelete("CASCADE");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("expires_at", { useTz: true }).notNullable();
        t.timestamp("revoked_at", { useTz: true });
        t.index(["account_id"]);
      });
      // every refresh token ever issued, by hash; `used_at` set when rotated
      await knex.schema.withSchema(SCHEMA).createTable("refresh_tokens", (t) => {
        t.text("token_hash").primary();
        t.uuid("session_id").notNullable().references("id").inTable(`${SCHEMA}.sessions`).onDelete("CASCADE");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("used_at", { useTz: true });
        t.index(["session_id"]);
      });
    },
    async down(knex) {
      await knex.schema.withSchema(SCHEMA).dropTable("refresh_tokens");
      await knex.schema.withSchema(SCHEMA).dropTable("sessions");
      await knex.schema.withSchema(SCHEMA).dropTable("accounts");
    },
  },
  // sign-in lock-outs per account and per client address, registrations per client address
  lockoutMigration(SCHEMA, "0002_lockouts"),
  rateLimitMigration(SCHEMA, "0003_rate_limit_counters"),
  {
    // door staff check tickets in (SetUserRole); the first migration's check allowed two roles
    name: "0004_door_role",
    async up(knex) {
      await replaceRoleCheck(knex, ["user", "door", "admin"]);
    },
    async down(knex) {
      await knex.withSchema(SCHEMA).table("accounts").where({ role: "door" }).update({ role: "user" });
      await replaceRoleCheck(knex, ["user", "admin"]);
    },
  },
];

/** Drops whatever check constraint guards accounts.role (knex named the first) and adds `roles`. */
async function replaceRoleCheck(knex: Parameters<Migration["up"]>[0], roles: string[]): Promise<void> {
  const { rows } = await knex.raw<{ rows: { conname: string }[] }>(
    `SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = ? AND t.relname = 'accounts' AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%role%'`,
    [SCHEMA],
  );
  for (const { conname } of rows) await knex.raw(`ALTER TABLE ??.accounts DROP CONSTRAINT ??`, [SCHEMA, conname]);
  // DDL takes no bind parameters: the roles are written in as literals (our own constants, checked)
  if (!roles.every((r) => /^[a-z]+$/.test(r))) throw new Error(`role names are lower-case letters: ${roles.join(", ")}`);
  await knex.raw(`ALTER TABLE ??.accounts ADD CONSTRAINT accounts_role_check CHECK (role IN (${roles.map((r) => `'${r}'`).join(", ")}))`, [SCHEMA]);
}
