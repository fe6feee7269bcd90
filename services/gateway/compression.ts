import { promisify } from "node:util";
import zlib from "node:zlib";

/** The content codings the gateway sends static files in, besides identity. */
export type Encoding = "br" | "gzip";

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * The coding to answer with, from an Accept-Encoding header (RFC 9110 §12.5.3): the acceptable
 * one with the highest weight, brotli on a tie (smaller), none when neither is acceptable
 * (`q=0`, or not listed and no `*`). Identity is always acceptable for static files.
 */
export function negotiateEncoding(header: string | string[] | undefined): Encoding | undefined {
  const weights = new Map<string, number>();
  for (const item of (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",")) {
    const [name, ...params] = item.split(";");
    const coding = name.trim().toLowerCase();
    if (!coding) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    weights.set(coding, Number.isFinite(q) ? q : 0);
  }
  const weight = (coding: string) => weights.get(coding) ?? weights.get("*") ?? 0;
  const br = weight("br");
  const gz = weight("gzip");
  if (br > 0 && br >= gz) return "br";
  if (gz > 0) return "gzip";
  return undefined;
}

/**
 * The bytes in a coding. Static files are compressed once per process and kept, but the first
 * request for a file waits for it: brotli quality 9 compresses 1.5 MB of JavaScript in about
 * 0.25 s (quality 11 takes 3.4 s for a 12 % smaller result), gzip level 9 in about 0.06 s.
 */
export function compress(body: Buffer, encoding: Encoding): Promise<Buffer> {
  if (encoding === "br") {
    return brotli(body, {
      params: {
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    });
  }
  return gzip(body, { level: zlib.constants.Z_BEST_COMPRESSION });
}
