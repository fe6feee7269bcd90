import { EventEmitter } from "node:events";
import type { Knex } from "./db.js";
import type { Logger } from "./logger.js";
import { PgListenConnection } from "./pg-listen.js";

/**
 * Session revocations as events (docs/adr/0006): the users service sends `NOTIFY
 * session_revoked, '<sessionId>'` in the transaction that ends a session (logout, a reused
 * refresh token), so it is heard exactly when the revocation commits; every other service's
 * process LISTENs on one connection and drops that session from its cache at once. NOTIFY
 * reaches every listener of the database, so every replica of every service hears it.
 */
export const SESSION_REVOKED_CHANNEL = "session_revoked";

/** Queues the notification in `trx`: sent when (and only if) it commits. */
export function notifySessionRevoked(trx: Knex | Knex.Transaction, sessionId: string): Promise<unknown> {
  return trx.raw("SELECT pg_notify(?, ?)", [SESSION_REVOKED_CHANNEL, sessionId]);
}

export interface RevocationFeedEvents {
  /** A session was revoked (its id). */
  revoked: [sessionId: string];
  /** Listening: from now on every revocation is heard. Also after a reconnect. */
  live: [];
  /** The connection was lost: revocations may be missed until the next `live`. */
  lost: [];
}

/**
 * One LISTEN connection per process (lib/pg-listen.ts), reconnecting with backoff. `live` is true
 * only while a revocation cannot go unheard; a cache must not trust its positive answers otherwise.
 */
export class RevocationFeed extends EventEmitter<RevocationFeedEvents> {
  private readonly connection: PgListenConnection;

  constructor(private readonly opts: { databaseUrl: string; logger: Logger }) {
    super();
    this.connection = new PgListenConnection({ ...opts, channel: SESSION_REVOKED_CHANNEL });
    this.connection.on("notification", (sessionId) => this.emit("revoked", sessionId));
    this.connection.on("live", () => this.emit("live"));
    this.connection.on("lost", () => this.emit("lost"));
  }

  get live(): boolean {
    return this.connection.live;
  }

  /** Starts listening; resolves once live or after the first failure (it keeps retrying). */
  start(): Promise<void> {
    return this.connection.listen().catch((err: unknown) => {
      this.opts.logger.warn({ err }, "session revocation LISTEN connection down; checking every session with users until it is back");
      this.connection.retryLater();
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
