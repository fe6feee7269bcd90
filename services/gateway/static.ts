import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream";
import type { Logger } from "../../lib/logger.js";
import { compress, negotiateEncoding, type Encoding } from "./compression.js";
import type { NodeRequest, NodeResponse } from "./http-io.js";

/** Hashed build output (Vite's `assetsDir`): a name never changes content. */
const ASSETS_PREFIX = "assets/";
export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";
/** Files past this size are streamed from disk on each request, uncompressed, never kept. */
const MAX_CACHED_BYTES = 32 * 1024 * 1024;

export const NOT_BUILT_MESSAGE = "The web app is not built: run `npm run build:web`, then reload this page.\n";

const TYPES: Record<string, { type: string; text?: boolean }> = {
  ".html": { type: "text/html; charset=utf-8", text: true },
  ".js": { type: "text/javascript; charset=utf-8", text: true },
  ".mjs": { type: "text/javascript; charset=utf-8", text: true },
  ".css": { type: "text/css; charset=utf-8", text: true },
  ".json": { type: "application/json; charset=utf-8", text: true },
  ".map": { type: "application/json; charset=utf-8", text: true },
  ".webmanifest": { type: "application/manifest+json; charset=utf-8", text: true },
  ".svg": { type: "image/svg+xml; charset=utf-8", text: true },
  ".txt": { type: "text/plain; charset=utf-8", text: true },
  ".xml": { type: "application/xml; charset=utf-8", text: true },
  ".png": { type: "image/png" },
  ".jpg": { type: "image/jpeg" },
  ".jpeg": { type: "image/jpeg" },
  ".gif": { type: "image/gif" },
  ".webp": { type: "image/webp" },
  ".avif": { type: "image/avif" },
  ".ico": { type: "image/x-icon" },
  ".woff": { type: "font/woff" },
  ".woff2": { type: "font/woff2" },
  ".ttf": { type: "font/ttf" },
  ".otf": { type: "font/otf" },
  ".wasm": { type: "application/wasm" },
};

/** A file as served: its headers' values and, unless too large, its bytes and compressed forms. */
interface Entry {
  full: string;
  size: number;
  type: string;
  html: boolean;
  cacheControl: string;
  /** Strong ETag of the identity bytes; a compressed form's is this with `-br`/`-gzip`. */
  etag: string;
  /** Undefined: larger than MAX_CACHED_BYTES, streamed from disk. */
  body?: Buffer;
  compressible: boolean;
  encoded: Map<Encoding, Promise<Buffer | undefined>>;
}

interface Cached {
  /** mtime, size and inode at the last stat: a change means the file was rebuilt. */
  stamp: string;
  entry: Promise<Entry | undefined>;
}

/**
 * The path's segments, percent-decoded, or undefined when the path is refused: a segment that
 * is empty (`//`), `.`/`..` or any dotfile, or that holds a slash, a backslash, NUL or another
 * control character once decoded (`%2e%2e`, `%2f`, `%5c`, `%00`), or bad percent-encoding. A
 * trailing slash is ignored. The result can only name something inside the directory.
 */
export function safeSegments(pathname: string): string[] | undefined {
  if (!pathname.startsWith("/")) return undefined;
  const raw = pathname.slice(1).split("/");
  if (raw[raw.length - 1] === "") raw.pop();
  const out: string[] = [];
  for (const s of raw) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return undefined;
    }
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    if (d === "" || d.startsWith(".") || /[/\\\x00-\x1f\x7f]/.test(d)) return undefined;
    out.push(d);
  }
  return out;
}

/** Whether an If-None-Match header names this ETag (weak comparison, `*` matches any). */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, "");
  const want = strip(etag);
  return (Array.isArray(header) ? header.join(",") : header).split(",").some((t) => t.trim() === "*" || strip(t) === want);
}

function addVary(res: NodeResponse, field: string): void {
  const current = res.getHeader("vary");
  const list = current === undefined ? "" : String(current);
  if (list.split(",").some((f) => f.trim().toLowerCase() === field.toLowerCase())) return;
  res.setHeader("vary", list ? `${list}, ${field}` : field);
}

function sendPlain(req: NodeRequest, res: NodeResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("cache-control", REVALIDATE);
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("content-length", Buffer.byteLength(text));
  if (req.method === "HEAD") res.end();
  else res.end(text);
}

export interface StaticFilesOptions {
  /** Absolute path of the built app (index.html, assets/...). */
  dir: string;
  /** Added to every HTML response (the Content-Security-Policy...), built once at start-up. */
  htmlHeaders: Readonly<Record<string, string>>;
  logger: Logger;
}

/**
 * The built browser app, for GET and HEAD (server.ts decides which requests reach it):
 *   - a file under the directory is served with its content type, a strong ETag (304 on
 *     If-None-Match), `nosniff`, brotli or gzip for text by Accept-Encoding, and
 *     `immutable` caching under /assets/ (hashed names), `no-cache` elsewhere;
 *   - a path whose last segment has no dot and names no file is an app route: index.html;
 *   - anything else is a plain 404; without index.html, the app is reported as not built.
 *
 * Cost per request: files are read, hashed and compressed once and kept in memory. A hit on
 * /assets/ is answered from memory with no system call (those names are content hashes); any
 * other path costs one stat, and its file is read again only when its mtime, size or inode
 * changed, so a rebuild of the app (`npm run build:web`) is picked up without a restart.
 */
export class StaticFiles {
  private readonly root: string;
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly opts: StaticFilesOptions) {
    this.root = path.resolve(opts.dir);
  }

  /** Whether the directory holds a built app (an index.html), for a warning at start-up. */
  async built(): Promise<boolean> {
    return (await this.lookup("index.html")) !== undefined;
  }

  async handle(req: NodeRequest, res: NodeResponse, pathname: string): Promise<void> {
    res.setHeader("x-content-type-options", "nosniff");
    const segments = safeSegments(pathname);
    if (!segments) {
      sendPlain(req, res, 404, "not found\n");
      return;
    }
    const rel = segments.join("/");
    let entry = rel === "" ? undefined : await this.lookup(rel);
    if (!entry) {
      const last = segments[segments.length - 1] ?? "";
      if (rel !== "" && (last.includes(".") || rel.startsWith(ASSETS_PREFIX))) {
        sendPlain(req, res, 404, "not found\n");
        return;
      }
      entry = await this.lookup("index.html");
      if (!entry) {
        sendPlain(req, res, 404, NOT_BUILT_MESSAGE);
        return;
      }
    }
    await this.send(req, res, entry);
  }

  /** The cached entry of a file, (re)loaded when the file changed; undefined when no such file. */
  private async lookup(rel: string): Promise<Entry | undefined> {
    const cached = this.cache.get(rel);
    const immutable = rel.startsWith(ASSETS_PREFIX);
    if (cached && immutable) return cached.entry;
    const full = path.join(this.root, ...rel.split("/"));
    if (!full.startsWith(this.root + path.sep)) return undefined;
    let stamp: string;
    let size: number;
    let mtimeMs: number;
    try {
      const st = await stat(full);
      if (!st.isFile()) return undefined;
      ({ size, mtimeMs } = st);
      stamp = `${mtimeMs}:${size}:${st.ino}`;
    } catch {
      this.cache.delete(rel);
      return undefined;
    }
    if (cached?.stamp === stamp) return cached.entry;
    const entry = this.load(rel, full, { size, mtimeMs }, immutable).catch((err: unknown) => {
      this.opts.logger.warn({ err, file: rel }, "cannot read a file of the web app");
      if (this.cache.get(rel)?.entry === entry) this.cache.delete(rel);
      return undefined;
    });
    this.cache.set(rel, { stamp, entry });
    return entry;
  }

  private async load(rel: string, full: string, { size, mtimeMs }: { size: number; mtimeMs: number }, immutable: boolean): Promise<Entry> {
    const ext = path.extname(rel).toLowerCase();
    const known = TYPES[ext];
    const base = {
      full,
      type: known?.type ?? "application/octet-stream",
      html: ext === ".html",
      cacheControl: immutable ? IMMUTABLE : REVALIDATE,
      encoded: new Map<Encoding, Promise<Buffer | undefined>>(),
    };
    if (size > MAX_CACHED_BYTES) {
      return { ...base, size, etag: `W/"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"`, compressible: false };
    }
    const body = await readFile(full);
    // a file being rewritten (a build under way) is not cached, least of all as immutable
    if (body.length !== size) throw new Error(`${rel} changed while it was read (${size} → ${body.length} bytes)`);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    return { ...base, size: body.length, etag, body, compressible: known?.text === true };
  }

  /** A compressed form, when it is smaller than the file (computed once, shared by concurrent requests). */
  private encoded(entry: Entry, body: Buffer, encoding: Encoding): Promise<Buffer | undefined> {
    let form = entry.encoded.get(encoding);
    if (!form) {
      form = compress(body, encoding).then(
        (bytes) => (bytes.length < body.length ? bytes : undefined),
        (err: unknown) => {
          this.opts.logger.warn({ err, file: entry.full, encoding }, "cannot compress a file of the web app");
          return undefined;
        },
      );
      entry.encoded.set(encoding, form);
    }
    return form;
  }

  private async send(req: NodeRequest, res: NodeResponse, entry: Entry): Promise<void> {
    let body = entry.body;
    let etag = entry.etag;
    let coding: Encoding | undefined;
    if (entry.body && entry.compressible) {
      addVary(res, "Accept-Encoding");
      const wanted = negotiateEncoding(req.headers["accept-encoding"]);
      const bytes = wanted && (await this.encoded(entry, entry.body, wanted));
      if (wanted && bytes) {
        body = bytes;
        coding = wanted;
        etag = `${entry.etag.slice(0, -1)}-${wanted}"`;
      }
    }
    res.setHeader("etag", etag);
    res.setHeader("cache-control", entry.cacheControl);
    if (etagMatches(req.headers["if-none-match"], etag)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader("content-type", entry.type);
    if (entry.html) for (const [k, v] of Object.entries(this.opts.htmlHeaders)) res.setHeader(k, v);
    if (coding) res.setHeader("content-encoding", coding);
    res.setHeader("content-length", body ? body.length : entry.size);
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    if (body) {
      res.end(body);
      return;
    }
    // pipeline closes the file when the client goes away mid-way
    pipeline(createReadStream(entry.full), res as NodeJS.WritableStream, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") {
        this.opts.logger.warn({ err, file: entry.full }, "cannot stream a file of the web app");
      }
    });
  }
}
