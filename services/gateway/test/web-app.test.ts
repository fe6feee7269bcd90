import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { silentLogger } from "../../../lib/logger.js";
import { SERVICE_NAMES } from "../../../lib/services.js";
import { build, type GatewayDeps, type RunningGateway } from "../server.js";
import { UPSTREAMS } from "../upstreams.js";

/*
 * The browser app through the real gateway: its files from a temporary directory holding a fake
 * build, the history fallback, caching and compression, the security headers of its HTML and
 * /app-config.json. No backend runs: every backend URL is a closed port, and nothing here may
 * reach one (the API paths asked for answer before any call).
 */

const ORIGIN = "https://app.example";
const SECRET = "TOP-SECRET-OUTSIDE-THE-WEB-DIR";
const INDEX = `<!doctype html><html><head><script type="module" src="/assets/x-abc123.js"></script></head><body><div id="root"></div></body></html>\n`;
const SCRIPT = Array.from({ length: 300 }, (_, i) => `export const line${i} = "the seat map of hall ${i % 7}";\n`).join("");
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
const CSP_WITH_STRIPE =
  "default-src 'self'; script-src 'self' https://js.stripe.com https://*.js.stripe.com; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self' https://api.stripe.com; font-src 'self'; frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com; " +
  "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

let tmp: string;
let webDir: string;
const gateways: RunningGateway[] = [];
let base: string;

async function gateway(extra: Partial<GatewayDeps> = {}): Promise<string> {
  const g = await build({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    upstreams: UPSTREAMS,
    urls: Object.fromEntries(SERVICE_NAMES.map((n) => [n, "http://127.0.0.1:9"])),
    corsOrigins: [ORIGIN],
    maxBodyBytes: 1024 * 1024,
    upstreamTimeoutMs: 5_000,
    serviceCredential: async () => "unused",
    healthServices: [],
    web: { dir: webDir },
    ...extra,
  });
  gateways.push(g);
  return `http://127.0.0.1:${g.port}`;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request with the path sent exactly as given (fetch would normalise `..` and decode `%2e`). */
function raw(url: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const get = (path: string, headers: Record<string, string> = {}) => raw(base, path, { headers });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "gateway-web-"));
  webDir = join(tmp, "dist");
  mkdirSync(join(webDir, "assets"), { recursive: true });
  writeFileSync(join(webDir, "index.html"), INDEX);
  writeFileSync(join(webDir, "assets", "x-abc123.js"), SCRIPT);
  writeFileSync(join(webDir, "favicon.svg"), `<svg xmlns="http://www.w3.org/2000/svg"/>`);
  writeFileSync(join(webDir, ".env"), SECRET);
  // outside the web dir: what a traversal would be after
  writeFileSync(join(tmp, "secret.txt"), SECRET);
  writeFileSync(join(tmp, "web-secret"), SECRET);
  base = await gateway();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe("static files", () => {
  it("serves index.html at / with no-cache, an ETag, nosniff and the security headers", async () => {
    const r = await get("/");
    expect(r.status).toBe(200);
    expect(r.text).toBe(INDEX);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-cache");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["etag"]).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(r.headers["content-security-policy"]).toBe(CSP);
    expect(r.headers["referrer-policy"]).toBe("same-origin");
  });

  it.each(["/events/123", "/admin/venues", "/events/123/"])("answers the app's route %s with index.html (history fallback)", async (path) => {
    const r = await get(path);
    expect(r.status).toBe(200);
    expect(r.text).toBe(INDEX);
    expect(r.headers["cache-control"]).toBe("no-cache");
    expect(r.headers["content-security-policy"]).toBe(CSP);
  });

  it("serves hashed assets as immutable, with their content type and no CSP", async () => {
    const r = await get("/assets/x-abc123.js");
    expect(r.status).toBe(200);
    expect(r.text).toBe(SCRIPT);
    expect(r.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["content-security-policy"]).toBeUndefined();
    const svg = await get("/favicon.svg");
    expect(svg.headers["content-type"]).toBe("image/svg+xml; charset=utf-8");
    expect(svg.headers["cache-control"]).toBe("no-cache");
  });

  it("answers 304 to If-None-Match with the current ETag, 200 with another", async () => {
    for (const path of ["/assets/x-abc123.js", "/", "/events/9"]) {
      const first = await get(path);
      const etag = first.headers["etag"]!;
      const again = await get(path, { "if-none-match": etag });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers["etag"]).toBe(etag);
      expect(again.headers["cache-control"]).toBe(first.headers["cache-control"]);
      expect((await get(path, { "if-none-match": `W/${etag}, "other"` })).status).toBe(304);
      expect((await get(path, { "if-none-match": '"something-else"' })).status).toBe(200);
    }
  });

  it("answers HEAD with the headers and no body", async () => {
    const r = await raw(base, "/assets/x-abc123.js", { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(SCRIPT));
  });

  it.each(["/assets/missing.js", "/missing.png", "/assets/no-extension", "/events/poster.jpg"])("answers 404 for the missing file %s", async (path) => {
    const r = await get(path);
    expect(r.status).toBe(404);
    expect(r.text).not.toBe(INDEX);
    expect(r.headers["content-type"]).toBe("text/plain; charset=utf-8");
  });

  it("picks up a rebuilt file without a restart", async () => {
    const before = await get("/");
    const rebuilt = INDEX.replace("<body>", "<body><noscript>rebuilt</noscript>");
    writeFileSync(join(webDir, "index.html"), rebuilt);
    try {
      const after = await get("/admin");
      expect(after.text).toBe(rebuilt);
      expect(after.headers["etag"]).not.toBe(before.headers["etag"]);
    } finally {
      writeFileSync(join(webDir, "index.html"), INDEX);
    }
    expect((await get("/")).text).toBe(INDEX);
  });
});

describe("path traversal is impossible", () => {
  it.each([
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2e%2e/secret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/..%2fsecret.txt",
    "/..%5csecret.txt",
    "/assets/%5c..%5c..%5csecret.txt",
    "/..\\secret.txt",
    "/secret.txt%00.js",
    "/index.html%00",
    "/%00",
    "//secret.txt",
    "/.env",
    "/%2eenv",
    "/%2e%2e/web-secret",
    "/..",
    "/%2e%2e",
    "/%E0%A4%A",
  ])("%s is refused", async (path) => {
    const r = await get(path);
    expect([400, 404]).toContain(r.status);
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toBe(INDEX);
  });
});

describe("the gateway's own paths keep their behaviour", () => {
  it("an unknown /api/ path is still the API's JSON 404", async () => {
    for (const path of ["/api/v1/nope", "/api/v1/nope.js", "/api"]) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.headers["content-type"]).toMatch(/^application\/json/);
      expect(JSON.parse(r.text)).toMatchObject({ code: "not_found" });
    }
  });

  it("/healthz and /readyz answer JSON, without the app's headers", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toMatchObject({ status: "ok" });
      expect(r.headers["content-security-policy"]).toBeUndefined();
    }
  });

  it("procedures and procedure-shaped paths never fall back to index.html", async () => {
    // a known procedure is Connect's: Login is not a side-effect-free read, so GET is 405
    const login = await get("/ticketing.users.v1.UsersService/Login");
    expect(login.status).toBe(405);
    expect(login.text).not.toBe(INDEX);
    const unknown = await get("/ticketing.users.v1.UsersService/NoSuchMethod");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: "not_found" });
  });

  it("other methods on the app's paths keep the JSON 404/405", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await raw(base, "/events/123", { method });
      expect(r.status).toBe(404);
      expect(JSON.parse(r.text)).toMatchObject({ code: "not_found" });
    }
    const post = await raw(base, "/app-config.json", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers["allow"]).toBe("GET, HEAD");
  });

  it("keeps CORS's Vary: Origin next to Vary: Accept-Encoding", async () => {
    const r = await get("/assets/x-abc123.js", { origin: ORIGIN });
    expect(r.headers["access-control-allow-origin"]).toBe(ORIGIN);
    const vary = String(r.headers["vary"]).split(",").map((s) => s.trim().toLowerCase());
    expect(vary).toEqual(expect.arrayContaining(["origin", "accept-encoding"]));
  });
});

describe("compression", () => {
  it.each([
    ["br", "br", zlib.brotliDecompressSync],
    ["gzip, deflate, br", "br", zlib.brotliDecompressSync],
    ["gzip", "gzip", zlib.gunzipSync],
    ["br;q=0, gzip;q=0.5", "gzip", zlib.gunzipSync],
    ["gzip;q=1, br;q=0.4", "gzip", zlib.gunzipSync],
  ] as const)("Accept-Encoding: %s → %s, decoding to the original bytes", async (accept, coding, decode) => {
    for (const path of ["/assets/x-abc123.js", "/events/1"]) {
      const r = await get(path, { "accept-encoding": accept });
      expect(r.status).toBe(200);
      expect(r.headers["content-encoding"]).toBe(coding);
      expect(r.headers["vary"]).toMatch(/Accept-Encoding/);
      expect(Number(r.headers["content-length"])).toBe(r.body.length);
      expect(decode(r.body).toString("utf8")).toBe(path === "/events/1" ? INDEX : SCRIPT);
    }
  });

  it.each(["identity", "br;q=0, gzip;q=0", ""])("Accept-Encoding: %j → the identity bytes", async (accept) => {
    const r = await get("/assets/x-abc123.js", accept ? { "accept-encoding": accept } : {});
    expect(r.headers["content-encoding"]).toBeUndefined();
    expect(r.text).toBe(SCRIPT);
  });

  it("gives each coding its own ETag", async () => {
    const plain = await get("/assets/x-abc123.js");
    const br = await get("/assets/x-abc123.js", { "accept-encoding": "br" });
    expect(br.headers["etag"]).not.toBe(plain.headers["etag"]);
    expect((await get("/assets/x-abc123.js", { "accept-encoding": "br", "if-none-match": br.headers["etag"]! })).status).toBe(304);
    expect((await get("/assets/x-abc123.js", { "accept-encoding": "br", "if-none-match": plain.headers["etag"]! })).status).toBe(200);
  });
});

describe("/app-config.json and the Content-Security-Policy", () => {
  it("answers nulls and the default namespace when nothing is configured", async () => {
    const r = await get("/app-config.json");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(r.headers["cache-control"]).toBe("no-cache");
    expect(JSON.parse(r.text)).toEqual({ stripePublishableKey: null, temporalUiUrl: null, temporalNamespace: "default" });
  });

  it("with a Stripe key: the key and the Temporal UI in /app-config.json, Stripe.js allowed by the CSP", async () => {
    const url = await gateway({
      web: { dir: webDir, stripePublishableKey: "pk_test_123abc", temporalUiUrl: "https://temporal.example", temporalNamespace: "ticketing" },
    });
    const config = await raw(url, "/app-config.json");
    expect(JSON.parse(config.text)).toEqual({
      stripePublishableKey: "pk_test_123abc",
      temporalUiUrl: "https://temporal.example",
      temporalNamespace: "ticketing",
    });
    const html = await raw(url, "/events/1");
    expect(html.headers["content-security-policy"]).toBe(CSP_WITH_STRIPE);
    expect(html.headers["referrer-policy"]).toBe("same-origin");
  });
});

describe("without a built app", () => {
  let url: string;
  beforeAll(async () => {
    url = await gateway({ web: { dir: join(tmp, "not-built") } });
  });

  it("starts, and / says the app is not built", async () => {
    for (const path of ["/", "/events/1"]) {
      const r = await raw(url, path);
      expect(r.status).toBe(404);
      expect(r.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(r.text).toMatch(/not built.*npm run build:web/);
    }
  });

  it("still answers the API and /app-config.json", async () => {
    const api = await raw(url, "/api/v1/nope");
    expect(JSON.parse(api.text)).toMatchObject({ code: "not_found" });
    expect((await raw(url, "/app-config.json")).status).toBe(200);
    expect((await raw(url, "/healthz")).status).toBe(200);
  });
});
