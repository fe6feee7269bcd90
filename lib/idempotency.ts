import { createHash } from "node:crypto";
import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { fromBinary, toBinary, toJson, type DescMessage } from "@bufbuild/protobuf";
import type { Knex } from "knex";
import { callerKey, type Caller } from "./context.js";
import type { Migration } from "./db.js";

/** The header clients send (REST, Connect and gRPC alike; gRPC metadata keys are lower case). */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Set on a response replayed from the store. */
export const IDEMPOTENT_REPLAY_HEADER = "idempotent-replayed";

const TABLE = "idempotency_keys";
const MAX_KEY_LENGTH = 255;

/** Add to a service's migrations to give it durable idempotency keys. */
export function idempotencyMigration(schema: string): Migration {
  return {
    name: "0000_idempotency_keys",
    async up(knex) {
      await knex.schema.withSchema(schema).createTable(TABLE, (t) => {
        t.text("principal").notNullable(); // who sent it: keys of different callers never collide
        t.text("procedure").notNullable();
        t.text("key").notNullable();
        t.text("request_hash").notNullable();
        t.binary("response").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(["principal", "procedure", "key"]);
        t.index(["created_at"]);
      });
    },
    async down(knex) {
      await knex.schema.withSchema(schema).dropTable(TABLE);
    },
  };
}

const txKey = createContextKey<Knex.Transaction | undefined>(undefined, { description: "idempotent request transaction" });

/**
 * Runs `fn` in the request's idempotency transaction when there is one (so the handler's writes,
 * its outbox rows and the stored response commit or vanish together), else in a new transaction.
 */
export async function transactionFor<T>(ctx: HandlerContext, db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const outer = ctx.values.get(txKey);
  return outer ? fn(outer) : db.transaction(fn);
}

function principalOf(caller: Caller): string {
  switch (caller.kind) {
    case "user":
      return `user:${caller.userId}`;
    case "service":
      return `service:${caller.service}`;
    default:
      return "anonymous";
  }
}

/** Stable JSON (sorted object keys), so the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function requestHash(desc: DescMessage, message: Parameters<typeof toJson>[1]): string {
  return createHash("sha256").update(canonical(toJson(desc, message))).digest("hex");
}

/**
 * `Idempotency-Key` for unary RPCs: the first request with a key runs inside one transaction
 * that also stores its response; the same key with the same body (from the same caller, to the
 * same RPC) returns that response again and runs nothing; the same key with another body is 409.
 * A concurrent duplicate waits on the key's row lock and then replays. A request that fails
 * stores nothing, so it can be retried with the same key. Keys are kept for `retentionHours`.
 *
 * Must run after the auth interceptor (it scopes keys by caller).
 */
export function idempotencyInterceptor(db: Knex, opts: { retentionHours?: number } = {}): Interceptor {
  const retention = opts.retentionHours ?? 24;
  let lastSweep = 0;
  return (next) => async (req) => {
    const key = req.header.get(IDEMPOTENCY_KEY_HEADER);
    if (req.stream || !key) return next(req);
    if (key.length > MAX_KEY_LENGTH) {
      throw new ConnectError(`Idempotency-Key: at most ${MAX_KEY_LENGTH} characters`, Code.InvalidArgument);
    }
    const principal = principalOf(req.contextValues.get(callerKey));
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    const hash = requestHash(req.method.input, req.message);

    if (Date.now() - lastSweep > 60_000) {
      lastSweep = Date.now();
      await db(TABLE).where("created_at", "<", db.raw(`now() - make_interval(hours => ?)`, [retention])).del();
    }

    return db.transaction(async (trx) => {
      // Claim the key. A concurrent request with the same key blocks here until we commit or
      // roll back, then either sees our row (replay) or claims the key itself.
      const claimed = await trx(TABLE)
        .insert({ principal, procedure, key, request_hash: hash, response: Buffer.alloc(0) })
        .onConflict(["principal", "procedure", "key"])
        .ignore()
        .returning("key");
      if (claimed.length === 0) {
        const row = await trx(TABLE).where({ principal, procedure, key }).first("request_hash", "response");
        if (row.request_hash !== hash) {
          throw new ConnectError(
            "Idempotency-Key was already used with a different request body",
            Code.AlreadyExists,
          );
        }
        // The returned headers replace the protocol's own, so they must carry what the protocol
        // would have set: every unary protocol answers in the request's content type, and gRPC
        // ends with a grpc-status trailer.
        const contentType = req.header.get("content-type") ?? "application/proto";
        const header = new Headers({ "content-type": contentType, [IDEMPOTENT_REPLAY_HEADER]: "true" });
        const trailer = new Headers();
        if (contentType.startsWith("application/grpc")) trailer.set("grpc-status", "0");
        return {
          stream: false as const,
          service: req.service,
          method: req.method,
          header,
          trailer,
          message: fromBinary(req.method.output, row.response as Uint8Array),
        };
      }
      req.contextValues.set(txKey, trx);
      const res = await next(req);
      if (!res.stream) {
        await trx(TABLE)
          .where({ principal, procedure, key })
          .update({ response: Buffer.from(toBinary(req.method.output, res.message)) });
      }
      return res;
    });
  };
}
