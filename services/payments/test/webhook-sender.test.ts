import http from "node:http";
import type net from "node:net";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { waitFor } from "../../../test/support/waiting.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { WebhookSender } from "../providers/webhook-sender.js";
import { startWebhookEndpoint, type ReceivedWebhook } from "./harness.js";

/**
 * The development provider's webhook sender on its own database, against an endpoint that answers
 * one event only when the test says so: a slow delivery must not hold up the events behind it.
 */

let db: Knex;
let drop: () => Promise<void>;
beforeAll(async () => {
  const database = await createTestDatabase("payments");
  db = await openDatabase({ url: database.url, schema: SCHEMA, migrations, poolMax: 10 });
  drop = database.drop;
});
afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

/** The harness's webhook endpoint, answering the event `stallId` only once released. */
async function stallingEndpoint(stallId: string) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  const idOf = (hook: ReceivedWebhook) => (JSON.parse(hook.body.toString()) as { id: string }).id;
  const endpoint = await startWebhookEndpoint({ answerAfter: (hook) => (idOf(hook) === stallId ? released : undefined) });
  return {
    url: endpoint.url,
    received: () => endpoint.received.map(idOf),
    release,
    close: endpoint.close,
  };
}

const event = (id: string) => ({ id, type: "payment_intent.succeeded", payload: JSON.stringify({ id, object: "event", type: "payment_intent.succeeded", data: { object: {} } }) });

it("an event enqueued while another's delivery hangs is delivered at once, not after it", async () => {
  const endpoint = await stallingEndpoint("evt_slow");
  const sender = new WebhookSender({ db, logger: silentLogger(), url: endpoint.url, secret: "whsec_test_only", pollMs: 60_000, batchSize: 4 });
  try {
    sender.start();
    await db("devgw_events").insert(event("evt_slow"));
    sender.kick();
    await waitFor("the slow delivery to arrive", () => endpoint.received().includes("evt_slow"));

    await db("devgw_events").insert(event("evt_next"));
    sender.kick();
    await waitFor("the next event, while the slow one still hangs", () => endpoint.received().includes("evt_next"), 5_000);
    const rows = await db("devgw_events").select("id", "delivered_at");
    expect(rows.find((r) => r.id === "evt_slow")!.delivered_at).toBeNull();
    await waitFor("evt_next recorded as delivered", async () => (await db("devgw_events").where({ id: "evt_next" }).first()).delivered_at);

    endpoint.release();
    await waitFor("the slow one recorded as delivered", async () => (await db("devgw_events").where({ id: "evt_slow" }).first()).delivered_at);
  } finally {
    endpoint.release();
    await sender.stop();
    await endpoint.close();
  }
});

it("never has more than batchSize deliveries in flight; the rest follow as room frees up", async () => {
  let inFlight = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    req.resume();
    req.on("end", () =>
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end("{}");
      }, 50),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  const sender = new WebhookSender({ db, logger: silentLogger(), url: `http://127.0.0.1:${port}/hook`, secret: "whsec_test_only", pollMs: 60_000, batchSize: 3 });
  try {
    await db("devgw_events").insert(Array.from({ length: 12 }, (_, i) => event(`evt_many_${i}`)));
    sender.start();
    await waitFor("all 12 delivered", async () => Number((await db("devgw_events").whereLike("id", "evt_many_%").whereNotNull("delivered_at").count("* as n"))[0].n) === 12);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThanOrEqual(2);
  } finally {
    await sender.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
