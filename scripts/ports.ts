/**
 * Free ports for servers a test, the benchmark's stack or the dev tools start on 127.0.0.1. Only
 * node: modules here, so that jest test files can import it (scripts/dev-infra.ts cannot be).
 */
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";

const LOOPBACK = "127.0.0.1";
/** Lowest port handed out: below are the registered services people run on their machines. */
const LOWEST = 10_000;

export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The local ports the kernel gives outgoing connections (Linux's ip_local_port_range, or its default). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux: its default range below
  }
  return [32768, 60999];
}

/** A port the kernel picks (from its ephemeral range). */
function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host }, () => {
      const { port } = (server.address() as net.AddressInfo);
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port that was free a moment ago, outside the range the kernel takes outgoing connections'
 * local ports from. Between this check and the moment a server binds the port, any outgoing
 * connection could otherwise be given that very port (a stack of ten services opening
 * connections while it starts made the benchmark's stack fail with EADDRINUSE now and then).
 * The race with another process choosing ports the same way remains, at about one chance in
 * 20,000 a pair.
 */
export async function freePort(host = LOOPBACK): Promise<number> {
  const [lo, hi] = ephemeralRange();
  const below = lo - LOWEST;
  const above = 65_536 - (hi + 1);
  const [from, span] = below >= above ? [LOWEST, below] : [hi + 1, above];
  if (span >= 1_000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = from + randomInt(span);
      if (await isPortFree(port, host)) return port;
    }
  }
  return kernelPort(host);
}
