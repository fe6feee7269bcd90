import type { Migration } from "../../../lib/db.js";
import { idempotencyMigration } from "../../../lib/idempotency.js";
import { CHANNELS, NOTIFICATION_KINDS, STATUSES } from "../domain/kinds.js";

export const SCHEMA = "notifications";

/** One message per (idempotency key, channel): a repeated request finds the first one's rows. */
export const KEY_CHANNEL_UNIQUE = "notifications_key_channel_unique";

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(", ");

export const migrations: Migration[] = [
  idempotencyMigration(SCHEMA),
  {
    name: "0001_notifications",
    async up(knex) {
      /*
       * The message log: one row per message per channel, written before delivery (status
       * pending) and updated by the delivery loop (sent / failed). It is also the delivery
       * queue: pending rows whose next_attempt_at has come are claimed, sent and recorded.
       */
      await knex.schema.withSchema(SCHEMA).createTable("notifications", (t) => {
        t.uuid("id").primary();
        // the caller's key (`<bookingId>:<kind>` from the booking workflow)
        t.text("idempotency_key").notNullable();
        t.text("channel").notNullable();
        t.uuid("user_id").notNullable();
        t.text("kind").notNullable();
        t.uuid("booking_id");
        // where it goes (full address, needed for retries) and what the log shows of it
        t.text("recipient").notNullable();
        t.text("recipient_masked").notNullable();
        t.text("subject").notNullable();
        t.text("body").notNullable();
        t.text("status").notNullable().defaultTo("pending");
        // delivery attempts so far, and when the next one may start (also the claim's lease)
        t.integer("attempts").notNullable().defaultTo(0);
        t.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        // the last attempt's error while pending; kept for operators
        t.text("last_error");
        // set once sent: "smtp" or "log" (the development transports)
        t.text("transport");
        t.text("provider_message_id");
        // why it failed for good (status failed)
        t.text("failure_reason");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("sent_at", { useTz: true });
        t.unique(["idempotency_key", "channel"], { indexName: KEY_CHANNEL_UNIQUE });
        t.check(`channel IN (${list(CHANNELS)})`, [], "notifications_channel");
        t.check(`kind IN (${list(NOTIFICATION_KINDS)})`, [], "notifications_kind");
        t.check(`status IN (${list(STATUSES)})`, [], "notifications_status");
        t.check("(status = 'sent') = (sent_at IS NOT NULL)", [], "notifications_sent_at");
      });
      // the user's message log, newest first
      await knex.raw(`CREATE INDEX notifications_user_created ON ??.notifications (user_id, created_at DESC, id DESC)`, [SCHEMA]);
      // the delivery queue
      await knex.raw(`CREATE INDEX notifications_due ON ??.notifications (next_attempt_at) WHERE status = 'pending'`, [SCHEMA]);
    },
    async down(knex) {
      await knex.schema.withSchema(SCHEMA).dropTable("notifications");
    },
  },
  {
    name: "0002_ticket_emails",
    async up(knex) {
      await knex.schema.withSchema(SCHEMA).alterTable("notifications", (t) => {
        // an email with tickets also has an HTML part, whose QR images (cid:) are drawn at
        // delivery from the tickets' payloads kept here: every retry sends the same message
        t.text("html");
        // [{ticketId, seatId, payload}] (workflows/ticket-types.ts IssuedTicket)
        t.jsonb("tickets");
      });
    },
    async down(knex) {
      await knex.schema.withSchema(SCHEMA).alterTable("notifications", (t) => {
        t.dropColumn("html");
        t.dropColumn("tickets");
      });
    },
  },
];
