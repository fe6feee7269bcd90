import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { TicketsService } from "../../../gen/ticketing/tickets/v1/tickets_pb.js";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { serviceCredential } from "../../../lib/auth.js";
import { createServiceClient } from "../../../lib/clients.js";
import type { Role } from "../../../lib/context.js";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { testAuth } from "../../../test/support/auth.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { startUsers, TEST_SERVICE_SECRET, type UsersHarness } from "../../users/test/harness.js";
import { UsersRepo } from "../../users/db/repo.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { build, type TicketsServer } from "../server.js";

export type CallOptions = { headers: Record<string, string> };
export type Auth = Awaited<ReturnType<typeof testAuth>>;

/** One running tickets server and clients of it. */
export interface TicketsInstance {
  server: TicketsServer;
  url: string;
  /** Connect over HTTP/1.1, as the gateway's browsers' calls arrive. */
  client: Client<typeof TicketsService>;
  /** gRPC over one HTTP/2 connection, as other services call. */
  grpc: Client<typeof TicketsService>;
  close(): Promise<void>;
}

export interface TicketsHarness extends TicketsInstance {
  db: Knex;
  /** The REAL users service (holders' names come from its GetUser). */
  users: UsersHarness;
  auth: Auth;
  /** An account in the users service (with that display name) and a token of theirs. */
  user(displayName?: string): Promise<CallOptions & { userId: string }>;
  /** A token of a new account with the role. */
  as(role: Role): Promise<CallOptions & { userId: string }>;
  /** An internal service credential (IssueTickets, VoidTickets). */
  service: CallOptions;
  /** Another tickets server on the same database: a second replica. */
  replica(): Promise<TicketsInstance>;
  close(): Promise<void>;
}

async function instance(db: Knex, auth: Auth, users: UsersHarness): Promise<TicketsInstance> {
  const server = await build({
    db,
    verifier: auth.verifier,
    users: createServiceClient(UsersService, users.url, serviceCredential(TEST_SERVICE_SECRET, "tickets")),
    logger: silentLogger(),
    host: "127.0.0.1",
    port: 0,
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    server,
    url,
    client: createClient(TicketsService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" })),
    grpc: createClient(TicketsService, createGrpcTransport({ baseUrl: url })),
    close: () => server.close(),
  };
}

/**
 * The tickets service in-process on port 0 with its own database, against the REAL users service
 * (its harness, in-process on port 0). Tokens come from a test issuer the service trusts
 * (test/support/auth.ts), for users registered in the users service so that their names resolve.
 */
export async function startTickets(): Promise<TicketsHarness> {
  const [users, database, auth] = await Promise.all([startUsers(), createTestDatabase("tickets"), testAuth()]);
  const db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 20 });
  const main = await instance(db, auth, users);
  const replicas: TicketsInstance[] = [];
  const accounts = new UsersRepo(users.db);
  const bearer = (t: string): CallOptions => ({ headers: { authorization: `Bearer ${t}` } });
  const token = async (role: Role, userId: string) => (await auth.issuer.issue({ userId, role, sessionId: randomUUID() })).token;
  return {
    ...main,
    db,
    users,
    auth,
    async user(displayName = "Ada Lovelace") {
      // made through the users service's own repository: Register allows 20 per address and hour
      const account = await accounts.createAccount({ email: `${randomUUID()}@test.local`, passwordHash: "not-used", displayName, phone: "", role: "user" });
      return { ...bearer(await token("user", account.id)), userId: account.id };
    },
    async as(role) {
      const userId = randomUUID();
      return { ...bearer(await token(role, userId)), userId };
    },
    service: bearer(await auth.serviceToken("booking")),
    async replica() {
      const r = await instance(db, auth, users);
      replicas.push(r);
      return r;
    },
    async close() {
      for (const r of replicas) await r.close();
      await main.close();
      await db.destroy();
      await database.drop();
      await users.close();
    },
  };
}

export { codeOf, errorOf, waitFor } from "../../../test/support/waiting.js";
