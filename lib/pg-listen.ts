import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "./logger.js";

export interface PgListenEvents {
  /** A notification's payload on the channel. */
  notification: [payload: string];
  /** Listening (again): from now on every notification is heard. */
  live: [];
  /** The connection was lost: notifications may be missed until the next `live`. */
  lost: [];
}

/** listen() after close(): the process is shutting down. */
export class PgListenClosedError extends Error {}

/**
 * One Postgres connection LISTENing on one channel (the seat maps' changes, session
 * revocations): connected by `listen()`, and once lost reconnected in the background with
 * backoff (250 ms, doubling to 10 s), emitting `lost` and then `live` again.
 */
export class PgListenConnection extends EventEmitter<PgListenEvents> {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs = 250;

  constructor(private readonly opts: { databaseUrl: string; channel: string; logger: Logger }) {
    super();
  }

  /** True while no notification can go unheard. */
  get live(): boolean {
    return this.client !== undefined;
  }

  /** Listens if it does not yet; resolves once live, rejects when this attempt failed. */
  listen(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) throw new PgListenClosedError("closed");
    const { channel } = this.opts;
    const client = new pg.Client({ connectionString: this.opts.databaseUrl, keepAlive: true });
    client.on("notification", (msg) => {
      if (msg.channel === channel && msg.payload) this.emit("notification", msg.payload);
    });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new PgListenClosedError("closed");
    }
    this.client = client;
    this.delayMs = 250;
    this.emit("live");
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.opts.logger.warn({ err, channel: this.opts.channel }, "LISTEN connection lost; reconnecting");
    client.end().catch(() => undefined);
    this.emit("lost");
    this.retryLater();
  }

  /** Reconnects in the background until it is live again (or closed). */
  retryLater(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.listen().catch((err: unknown) => {
        if (this.closed) return;
        this.opts.logger.warn({ err, channel: this.opts.channel, retryInMs: this.delayMs * 2 }, "LISTEN reconnect failed");
        this.delayMs = Math.min(this.delayMs * 2, 10_000);
        this.retryLater();
      });
    }, this.delayMs);
    this.retryTimer.unref();
  }
}
