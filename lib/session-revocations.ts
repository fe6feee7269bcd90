import { EventEmitter } from "node:events";
import pg from "pg";
import type { Knex } from "./db.js";
import type { Logger } from "./logger.js";

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
 * One LISTEN connection per process, reconnecting with backoff. `live` is true only while a
 * revocation cannot go unheard; a cache must not trust its positive answers otherwise.
 */
export class RevocationFeed extends EventEmitter<RevocationFeedEvents> {
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs = 250;

  constructor(private readonly opts: { databaseUrl: string; logger: Logger }) {
    super();
  }

  get live(): boolean {
    return this.client !== undefined;
  }

  /** Starts listening; resolves once live or after the first failure (it keeps retrying). */
  start(): Promise<void> {
    return this.connect().catch((err: unknown) => this.retry(err));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.databaseUrl, keepAlive: true });
    client.on("notification", (msg) => {
      if (msg.channel === SESSION_REVOKED_CHANNEL && msg.payload) this.emit("revoked", msg.payload);
    });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    try {
      await client.connect();
      await client.query(`LISTEN ${SESSION_REVOKED_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.delayMs = 250;
    this.emit("live");
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.emit("lost");
    this.retry(err);
  }

  private retry(err: unknown): void {
    if (this.closed) return;
    this.opts.logger.warn({ err }, "session revocation LISTEN connection down; checking every session with users until it is back");
    this.retryTimer = setTimeout(() => {
      this.connect().catch((e: unknown) => {
        this.delayMs = Math.min(this.delayMs * 2, 10_000);
        this.retry(e);
      });
    }, this.delayMs);
    this.retryTimer.unref();
  }
}
