import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface Listener {
  port: number;
  close(graceMs?: number): Promise<void>;
}

const H2_PREFACE_START = "PRI"; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

/**
 * One TCP port that speaks both HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge).
 * gRPC needs HTTP/2; browsers and plain curl speak HTTP/1.1 to a cleartext port. The first
 * bytes of each connection tell them apart: HTTP/2 always opens with the "PRI * HTTP/2.0"
 * preface, which no HTTP/1 request starts with.
 */
export async function listenHttp1And2(handler: RequestHandler, port: number, host: string): Promise<Listener> {
  const h1 = http.createServer(handler as http.RequestListener);
  h1.keepAliveTimeout = 65_000;
  const h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  // HTTP/1.1 keep-alive sockets with a request in flight. The h1 server never listens itself, so
  // its own connection tracking (closeIdleConnections) is off: we track idleness here.
  const busy = new Set<net.Socket>();
  let closing = false;
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    busy.add(socket);
    if (closing) res.shouldKeepAlive = false;
    res.once("close", () => {
      busy.delete(socket);
      if (closing) socket.end();
    });
  });
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });

  const h2Sockets = new WeakSet<net.Socket>();
  const isHttp2 = (s: net.Socket) => h2Sockets.has(s);
  const tcp = net.createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const onReadable = () => {
      const head: Buffer | null = socket.read();
      if (head === null) return;
      socket.removeListener("readable", onReadable);
      socket.unshift(head);
      if (head.subarray(0, 3).toString("latin1") === H2_PREFACE_START) {
        h2Sockets.add(socket);
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
      }
    };
    socket.on("readable", onReadable);
    socket.on("error", () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });

  return {
    port: (tcp.address() as net.AddressInfo).port,
    async close(graceMs = 5_000) {
      closing = true;
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      // stop accepting, let in-flight requests finish, then cut what is left
      for (const s of sessions) s.close();
      for (const s of sockets) if (!busy.has(s) && !isHttp2(s)) s.end();
      const timer = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}
