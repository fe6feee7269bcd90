/**
 * Many signed-in buyers, fast: an on-sale benchmark needs tens of thousands of accounts, and
 * registering each through the API costs a full-strength scrypt hash (~50 ms of the users
 * service's CPU, 20,000 of them over 15 minutes on two cores). So the accounts are written
 * straight into the users schema with one password hash of cheap scrypt parameters (the stored
 * hash names its parameters, and the users service verifies with those), and each buyer then
 * signs in through the public API like anybody else: real sessions, real access tokens. This is
 * bench set-up only; nothing measured goes around the API.
 */
import { randomBytes, randomUUID, scryptSync } from "node:crypto";
import type { Knex } from "knex";
import type { Rest } from "./context";
import { pool, type Session } from "./platform";

const PASSWORD = "bench-password-1";

/** `scrypt$N$r$p$salt$hash` of the bench password with N = 2: valid, and verified in microseconds. */
function cheapHash(): string {
  const salt = randomBytes(16);
  const key = scryptSync(PASSWORD, salt, 64, { N: 2, r: 1, p: 1 });
  return ["scrypt", 2, 1, 1, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/**
 * Creates `n` user accounts in the users schema and signs each in through `POST /api/v1/auth/login`
 * (`concurrency` at a time). The login route's rate limits see every login come from the bench's
 * one address: the stack must run with limits raised for that (see the caller's env).
 */
export async function syntheticBuyers(db: Knex, rest: Rest, n: number, prefix: string, concurrency = 16): Promise<Session[]> {
  const run = `${prefix}-${Date.now().toString(36)}`;
  const hash = cheapHash();
  const rows = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    email: `${run}-${i}@bench.example.com`,
    password_hash: hash,
    display_name: `Buyer ${i}`,
    role: "user",
  }));
  for (let i = 0; i < rows.length; i += 1000) await db.withSchema("users").table("accounts").insert(rows.slice(i, i + 1000));
  return pool(rows, concurrency, async (row) => {
    const login = await rest("POST", "/api/v1/auth/login", { email: row.email, password: PASSWORD });
    if (login.status !== 200) throw new Error(`login ${row.email}: ${login.status} ${JSON.stringify(login.body)}`);
    return { userId: login.body.userId as string, token: login.body.accessToken as string };
  });
}
