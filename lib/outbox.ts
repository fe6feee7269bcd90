import { randomUUID } from "node:crypto";
import type { Client } from "@temporalio/client";
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from "@temporalio/common";
import type { Knex } from "knex";
import type { Migration } from "./db.js";
import type { Logger } from "./logger.js";

/**
 * Transactional outbox drained into Temporal. A service writes its domain row and an outbox row
 * in one transaction (`enqueueEvent`); the relay starts one workflow per event whose id derives
 * from the event id, so a start that is retried (after a crash between starting and marking)
 * changes nothing. Events are relayed in commit order; one that cannot be relayed (Temporal
 * down) stops the batch, so no later event overtakes it, and is retried with backoff.
 */

const TABLE = "outbox";

export function outboxMigration(schema: string): Migration {
  return {
    name: "0000_outbox",
    async up(knex) {
      await knex.schema.withSchema(schema).createTable(TABLE, (t) => {
        t.bigIncrements("seq").primary();
        t.uuid("event_id").notNullable().unique();
        t.text("event_type").notNullable();
        t.text("aggregate_type").notNullable();
        t.text("aggregate_id").notNullable();
        t.jsonb("payload").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("published_at", { useTz: true });
        t.integer("attempts").notNullable().defaultTo(0);
        t.text("last_error");
      });
      await knex.raw(`CREATE INDEX outbox_pending ON ??.?? (seq) WHERE published_at IS NULL`, [schema, TABLE]);
    },
    async down(knex) {
      await knex.schema.withSchema(schema).dropTable(TABLE);
    },
  };
}

export interface OutboxEvent {
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
}

/** Writes an event in the caller's transaction; returns its id (which is also in the payload). */
export async function enqueueEvent(trx: Knex.Transaction, event: OutboxEvent): Promise<string> {
  const eventId = randomUUID();
  await trx(TABLE).insert({
    event_id: eventId,
    event_type: event.eventType,
    aggregate_type: event.aggregateType,
    aggregate_id: event.aggregateId,
    payload: { ...event.payload, eventId },
  });
  return eventId;
}

/** Where each event type goes: the workflow it starts. */
export interface OutboxRoute {
  workflowType: string;
  taskQueue: string;
}

/** `ShowtimeCreated-<eventId>`: the workflow id is a pure function of the event. */
export function workflowIdFor(eventType: string, eventId: string): string {
  return `${eventType}-${eventId}`;
}

export interface RelayOptions {
  db: Knex;
  temporal: Client;
  routes: Record<string, OutboxRoute>;
  logger: Logger;
  /** An advisory-lock key unique to the service, so one relay drains at a time across replicas. */
  lockKey: number;
  pollMs?: number;
  batchSize?: number;
}

interface OutboxRow {
  seq: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;

  constructor(private readonly opts: RelayOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Relays what is pending now; returns how many events were published, or -1 when blocked. */
  async drainOnce(): Promise<number> {
    const { db, temporal, routes, logger } = this.opts;
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw(`SELECT pg_try_advisory_xact_lock(?) AS locked`, [this.opts.lockKey]);
      if (!rows[0].locked) return 0; // another replica is draining
      const pending: OutboxRow[] = await trx(TABLE)
        .whereNull("published_at")
        .orderBy("seq")
        .limit(this.opts.batchSize ?? 100)
        .select("seq", "event_id", "event_type", "payload");
      let published = 0;
      let blocked = false;
      for (const row of pending) {
        const route = routes[row.event_type];
        try {
          if (route) {
            await temporal.workflow.start(route.workflowType, {
              taskQueue: route.taskQueue,
              workflowId: workflowIdFor(row.event_type, row.event_id),
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              args: [row.payload],
            });
          } else {
            logger.warn({ eventType: row.event_type }, "outbox event with no route; marked published");
          }
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
            await trx(TABLE)
              .where({ seq: row.seq })
              .update({ attempts: trx.raw("attempts + 1"), last_error: String((err as Error).message).slice(0, 1000) });
            logger.warn({ err, eventId: row.event_id }, "outbox relay could not start workflow; will retry");
            blocked = true; // later events wait, so none overtakes this one
            break;
          }
        }
        await trx(TABLE).where({ seq: row.seq }).update({ published_at: trx.fn.now() });
        published++;
      }
      return blocked ? -1 : published;
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    let next = this.opts.pollMs ?? 200;
    try {
      const n = await this.drainOnce();
      if (n < 0) {
        this.failures++;
        next = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
      } else {
        this.failures = 0;
        if (n === (this.opts.batchSize ?? 100)) next = 0; // more waiting
      }
    } catch (err) {
      this.failures++;
      next = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
      this.opts.logger.warn({ err }, "outbox relay failed; will retry");
    }
    this.schedule(next);
  }
}
