import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { TokenIssuer } from "../../../lib/auth.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { UsersRepo } from "../db/repo.js";
import { hashPassword } from "../domain/passwords.js";
import { build } from "../server.js";

export const TEST_SERVICE_SECRET = "test-only-service-secret";
export const ISSUER = "ticketing-users";
export const AUDIENCE = "ticketing-api";

export interface UsersHarness {
  url: string;
  port: number;
  privateKey: KeyObject;
  db: Knex;
  /** The service's database (where it notifies session revocations). */
  databaseUrl: string;
  client: Client<typeof UsersService>;
  close(): Promise<void>;
}

/** The users service on port 0 with its own database; admin@test.local / admin-pass-1 exists. */
export async function startUsers(): Promise<UsersHarness> {
  const database = await createTestDatabase("users");
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations });
  await new UsersRepo(db).ensureAccount("admin@test.local", "admin", () => hashPassword("admin-pass-1"), "Admin");
  const privateKey = generateKeyPairSync("ed25519").privateKey;
  const issuer = await TokenIssuer.create({ privateKey, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 900 });
  const server = await build({
    db,
    issuer,
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
    serviceAuthSecret: TEST_SERVICE_SECRET,
    refreshTokenTtlSeconds: 3600,
  });
  const url = `http://127.0.0.1:${server.port}`;
  const client = createClient(UsersService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
  return {
    url,
    port: server.port,
    privateKey,
    db,
    databaseUrl: database.url,
    client,
    async close() {
      await server.close();
      await db.destroy();
      await database.drop();
    },
  };
}
