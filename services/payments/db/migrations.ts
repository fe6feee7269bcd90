import type { Migration } from "../../../lib/db.js";
import { idempotencyMigration } from "../../../lib/idempotency.js";

export const SCHEMA = "payments";

/** One refund row per booking for "refund what was paid for this booking" (refundBooking). */
export const BOOKING_REFUND_INDEX = "refunds_one_booking_refund";

export const migrations: Migration[] = [
  idempotencyMigration(SCHEMA),
  {
    name: "0001_intents_history_refunds_webhook_events",
    async up(knex) {
      // The platform's view of each PaymentIntent, whichever payment provider issued it.
      await knex.schema.withSchema(SCHEMA).createTable("payment_intents", (t) => {
        t.text("id").primary(); // the provider's id, pi_...
        t.uuid("booking_id").notNullable();
        // the booking's owner: SimulatePayment's caller must be this user
        t.uuid("user_id").notNullable();
        // 0 for the booking's first intent; n+1 after attempt n failed
        t.integer("attempt").notNullable();
        t.text("gateway").notNullable(); // the payment provider (column named before the rename)
        t.bigInteger("amount_minor").notNullable();
        t.specificType("currency", "char(3)").notNullable();
        // the provider's PaymentIntent status as last learnt (API answer or webhook)
        t.text("status").notNullable();
        // for the client-side SDK; returned again by a repeated PreparePayment, never logged
        t.text("client_secret").notNullable();
        // set when a payment of this attempt failed (declined); a new attempt follows
        t.text("failure_code");
        t.text("failure_message");
        t.timestamp("failed_at", { useTz: true });
        t.timestamp("succeeded_at", { useTz: true });
        // what became of a succeeded payment: 'signalled' (the booking workflow has it) or
        // 'refunded' (no workflow any more: refunded at once); null until its webhook came
        t.text("fulfilment");
        // as reported by charge.refunded (refunds made elsewhere included)
        t.bigInteger("amount_refunded_minor").notNullable().defaultTo(0);
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.unique(["booking_id", "attempt"]);
        t.check("amount_minor > 0", [], "payment_intents_amount_positive");
        t.check("attempt >= 0", [], "payment_intents_attempt_nonnegative");
        t.check("gateway IN ('stripe', 'development')", [], "payment_intents_gateway_known");
      });

      // Every change of every intent, as it was learnt: for GetPaymentStatus and reconciliation.
      await knex.schema.withSchema(SCHEMA).createTable("payment_history", (t) => {
        t.bigIncrements("id");
        t.text("payment_intent_id").notNullable();
        t.uuid("booking_id").notNullable();
        // created, succeeded, payment_failed, requires_action, processing, canceled, charge_refunded
        t.text("event").notNullable();
        t.text("status").notNullable();
        // api (the provider's answer to our call) or webhook
        t.text("source").notNullable();
        t.text("event_id");
        t.text("failure_code");
        t.text("failure_message");
        t.timestamp("at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(["booking_id", "id"]);
      });

      await knex.schema.withSchema(SCHEMA).createTable("refunds", (t) => {
        t.bigIncrements("id");
        // the provider's idempotency key: the same key never refunds twice
        t.text("idempotency_key").notNullable().unique();
        t.uuid("booking_id").notNullable();
        t.text("payment_intent_id").notNullable();
        // true for "refund what was paid for the booking" (refundBooking, late payments)
        t.boolean("booking_refund").notNullable().defaultTo(false);
        t.text("refund_id").unique(); // re_..., null until the provider answered
        t.bigInteger("amount_minor").notNullable();
        t.specificType("currency", "char(3)").notNullable();
        // requested (sent, no answer yet), pending, requires_action, succeeded, failed, canceled
        t.text("status").notNullable();
        t.text("reason").notNullable().defaultTo("");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(["payment_intent_id"]);
        t.index(["booking_id"]);
        t.check("amount_minor > 0", [], "refunds_amount_positive");
      });
      await knex.raw(`CREATE UNIQUE INDEX ?? ON ??.refunds (booking_id) WHERE booking_refund`, [BOOKING_REFUND_INDEX, SCHEMA]);

      // Every webhook event processed, once: the primary key is the de-duplication. A row is
      // written in the same transaction as the event's effects, so an event whose processing
      // failed (Temporal down) leaves no row and its redelivery is processed.
      await knex.schema.withSchema(SCHEMA).createTable("webhook_events", (t) => {
        t.text("event_id").primary(); // evt_...
        t.text("type").notNullable();
        t.text("payment_intent_id");
        t.text("booking_id");
        // signalled, workflow_gone, refunded, recorded, ignored
        t.text("outcome").notNullable();
        t.timestamp("event_created_at", { useTz: true });
        t.timestamp("received_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
    async down(knex) {
      for (const table of ["webhook_events", "refunds", "payment_history", "payment_intents"]) {
        await knex.schema.withSchema(SCHEMA).dropTableIfExists(table);
      }
    },
  },
  {
    name: "0002_development_gateway",
    async up(knex) {
      // The development provider's own state: what Stripe keeps on its side. Only that provider
      // reads these tables; the service's code above never does.
      await knex.schema.withSchema(SCHEMA).createTable("devgw_payment_intents", (t) => {
        t.text("id").primary();
        t.bigInteger("amount").notNullable();
        t.text("currency").notNullable(); // lower case, as Stripe
        t.text("status").notNullable();
        t.text("client_secret").notNullable();
        t.text("description");
        t.jsonb("metadata").notNullable().defaultTo("{}");
        t.text("payment_method");
        t.text("latest_charge");
        t.jsonb("last_payment_error");
        t.bigInteger("amount_received").notNullable().defaultTo(0);
        t.bigInteger("amount_refunded").notNullable().defaultTo(0);
        t.text("cancellation_reason");
        t.timestamp("canceled_at", { useTz: true });
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema(SCHEMA).createTable("devgw_refunds", (t) => {
        t.text("id").primary();
        t.text("payment_intent_id").notNullable().index();
        t.text("charge_id").notNullable();
        t.bigInteger("amount").notNullable();
        t.text("currency").notNullable();
        t.text("status").notNullable();
        t.jsonb("metadata").notNullable().defaultTo("{}");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      // Stripe's idempotent requests: the first response per key, replayed for the same request
      await knex.schema.withSchema(SCHEMA).createTable("devgw_idempotency_keys", (t) => {
        t.text("key").primary();
        t.text("operation").notNullable();
        t.text("request_hash").notNullable();
        t.jsonb("response");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      // Outgoing webhook events, delivered (and retried with backoff) until the endpoint says 2xx
      await knex.schema.withSchema(SCHEMA).createTable("devgw_events", (t) => {
        t.bigIncrements("seq");
        t.text("id").notNullable().unique(); // evt_...
        t.text("type").notNullable();
        t.text("payload").notNullable(); // the exact JSON that is signed and sent
        t.integer("attempts").notNullable().defaultTo(0);
        t.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("delivered_at", { useTz: true });
        t.timestamp("abandoned_at", { useTz: true });
        t.text("last_error");
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.raw(`CREATE INDEX devgw_events_due ON ??.devgw_events (next_attempt_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL`, [SCHEMA]);
    },
    async down(knex) {
      for (const table of ["devgw_events", "devgw_idempotency_keys", "devgw_refunds", "devgw_payment_intents"]) {
        await knex.schema.withSchema(SCHEMA).dropTableIfExists(table);
      }
    },
  },
];
