import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import http from "node:http";
import type net from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { ensureTool } from "../../../test/support/system-tools.js";

/**
 * stripe-mock (Stripe's own mock of its API, https://github.com/stripe/stripe-mock) for the
 * Stripe adapter's tests: found on PATH, in ~/go/bin or `$(go env GOPATH)/bin`, else installed
 * with `go install github.com/stripe/stripe-mock@latest` (Go itself from Debian's package when the
 * machine has none); started on 127.0.0.1 with a port the
 * system picks (read back from its output) and stopped after the suite.
 */

const INSTALL = "github.com/stripe/stripe-mock@latest";

function run(file: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr) }));
  });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function goBin(): Promise<string | undefined> {
  const r = await run("go", ["env", "GOPATH"], 15_000);
  const gopath = r.ok ? r.stdout.trim().split(":")[0] : "";
  return gopath ? join(gopath, "bin") : undefined;
}

/** The stripe-mock binary, installing it with Go when it is nowhere. */
export async function resolveStripeMock(): Promise<string> {
  const onPath = await run("/bin/sh", ["-c", "command -v stripe-mock"], 5_000);
  if (onPath.ok && onPath.stdout.trim().startsWith("/")) return onPath.stdout.trim();
  const candidates = [join(homedir(), "go", "bin", "stripe-mock")];
  const bin = await goBin();
  if (bin) candidates.push(join(bin, "stripe-mock"));
  for (const c of candidates) if (executable(c)) return c;
  ensureTool("go"); // Debian's Go when the machine has none
  const install = await run("go", ["install", INSTALL], 300_000);
  const after = (await goBin()) ?? join(homedir(), "go", "bin");
  const installed = join(after, "stripe-mock");
  if (install.ok && executable(installed)) return installed;
  throw new Error(`stripe-mock not found and \`go install ${INSTALL}\` failed: ${install.stderr.trim() || "is Go installed?"}`);
}

export interface RunningStripeMock {
  url: string;
  stop(): Promise<void>;
}

export async function startStripeMock(): Promise<RunningStripeMock> {
  const binary = await resolveStripeMock();
  // -http-addr binds loopback only; an explicit -https-addr keeps it off the fixed default 12112
  const child: ChildProcess = spawn(binary, ["-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`stripe-mock did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Listening for HTTP at address: (127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stripe-mock exited (${code}):\n${output}`));
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The form-encoded body, decoded (`metadata[bookingId]` → value). */
  form: Record<string, string>;
}

/**
 * A recording HTTP proxy in front of stripe-mock: every request the SDK sends is kept (method,
 * path, headers, form body) and passed through untouched, so tests see exactly what goes over
 * the wire (the Idempotency-Key header included).
 */
export async function startRecordingProxy(target: string): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://x");
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(body.toString("utf8"))),
      });
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      out.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      out.end(body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
