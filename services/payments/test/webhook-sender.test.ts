import http from "node:http";
import type net from "node:net";
import { openDatabase, type Knex } from "../../../lib/db.js";
import { silentLogger } from "../../../lib/logger.js";
import { createTestDatabase } from "../../../test/support/db.js";
import { waitFor } from "../../../test/support/waiting.js";
import { migrations, SCHEMA } from "../db/migrations.js";
import { WebhookSender } from "../gateways/webhook-sender.js";

/**
 * The development gateway's webhook sender on its own database, against an endpoint that answers
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

async function stallingEndpoint(stallId: string) {
  const received: Array<{ id: string; at: number }> = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString()) as { id: string };
      received.push({ id, at: Date.now() });
      const answer = () => res.writeHead(200).end("{}");
      if (id === stallId) void released.then(answer);
      else answer();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/payments/webhook`,
    received,
    release,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
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
    await waitFor("the slow delivery to arrive", () => endpoint.received.some((r) => r.id === "evt_slow"));

    await db("devgw_events").insert(event("evt_next"));
    sender.kick();
    await waitFor("the next event, while the slow one still hangs", () => endpoint.received.some((r) => r.id === "evt_next"), 5_000);
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
