import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from "smtp-server";
import { freePort } from "../../../test/support/ports.js";

/**
 * A real SMTP server for the tests (the `smtp-server` package) on 127.0.0.1 and a free port:
 * nodemailer talks real SMTP to it (EHLO, AUTH, MAIL FROM, RCPT TO, DATA). It records every
 * attempt and every accepted message, and can refuse messages the way mail servers do.
 */

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The authenticated user name, when the client logged in. */
  user?: string;
  headers: Map<string, string>;
  /** The decoded text body (the text/plain part of a multipart message). */
  text: string;
  /** The decoded text/html part, if any. */
  html?: string;
  /** Every leaf part of the message (one for a single-part message), decoded. */
  parts: MimePart[];
  raw: string;
  at: number;
}

export interface MimePart {
  headers: Map<string, string>;
  /** e.g. "image/png", lower case, without parameters. */
  contentType: string;
  /** The Content-ID without its angle brackets, if any. */
  contentId?: string;
  content: Buffer;
}

export interface Attempt {
  to: string[];
  at: number;
  /** The reply the server gave at the end of DATA: 250, or the rejection's code. */
  code: number;
}

/** A refusal: `{ code: 451, message: "try later" }` (transient) or 5xx (permanent). */
export type Rejection = { code: number; message: string } | undefined;

export interface TestSmtpServer {
  /** smtp://user:pass@127.0.0.1:<port> */
  url: string;
  port: number;
  mails: ReceivedMail[];
  attempts: Attempt[];
  /** Decides per message (by recipient) whether to refuse it at the end of DATA. */
  reject: (to: string[]) => Rejection;
  /** Mails whose header X-Ticketing-Notification-Id is `id`. */
  mailsFor(id: string): ReceivedMail[];
  close(): Promise<void>;
}

export const SMTP_USER = "ticketing";
export const SMTP_PASS = "smtp-test-password";

export async function startSmtpServer(opts: { reject?: (to: string[]) => Rejection; port?: number } = {}): Promise<TestSmtpServer> {
  const port = opts.port ?? (await freePort());
  const mails: ReceivedMail[] = [];
  const attempts: Attempt[] = [];
  const state = { reject: opts.reject ?? (() => undefined) };
  const server = new SMTPServer({
    // plain SMTP on loopback: no STARTTLS offered, and AUTH allowed without TLS
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) callback(null, { user: auth.username });
      else callback(Object.assign(new Error("invalid credentials"), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const rejection = state.reject(to);
        attempts.push({ to, at: Date.now(), code: rejection?.code ?? 250 });
        if (rejection) {
          callback(Object.assign(new Error(rejection.message), { responseCode: rejection.code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const { headers, text, html, parts } = parseMessage(raw);
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to,
          user: typeof session.user === "string" ? session.user : undefined,
          headers,
          text,
          html,
          parts,
          raw,
          at: Date.now(),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    url: `smtp://${SMTP_USER}:${SMTP_PASS}@127.0.0.1:${port}`,
    port,
    mails,
    attempts,
    get reject() {
      return state.reject;
    },
    set reject(fn) {
      state.reject = fn;
    },
    mailsFor: (id) => mails.filter((m) => m.headers.get("x-ticketing-notification-id") === id),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ─── just enough MIME to read what nodemailer sends (text, or text + HTML + inline images) ───

function decodeQuotedPrintable(s: string): string {
  return decodeQuotedPrintableBytes(s).toString("utf8");
}

function decodeQuotedPrintableBytes(s: string): Buffer {
  const bytes: number[] = [];
  const soft = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], "utf8"));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words in headers (=?UTF-8?Q?...?= and =?UTF-8?B?...?=). */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_m, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(data, "base64").toString("utf8")
        : decodeQuotedPrintable(data.replace(/_/g, " ")),
    );
}

/** Splits an entity (a message or a part) into its headers and its still encoded body. */
function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : "";
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case "quoted-printable":
      return decodeQuotedPrintableBytes(body);
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64");
    default:
      return Buffer.from(body, "utf8");
  }
}

/** The leaf parts of an entity, depth first (multipart/* is split at its boundary). */
function leafParts(raw: string): MimePart[] {
  const { headers, body } = splitEntity(raw);
  const type = headers.get("content-type") ?? "text/plain";
  const contentType = type.split(";")[0].trim().toLowerCase();
  if (contentType.startsWith("multipart/")) {
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (!boundary) throw new Error(`multipart without a boundary: ${type}`);
    const end = body.indexOf(`\r\n--${boundary}--`);
    const sections = (end >= 0 ? body.slice(0, end) : body).split(`--${boundary}\r\n`).slice(1);
    return sections.flatMap((section) => leafParts(section.replace(/\r\n$/, "")));
  }
  const contentId = headers.get("content-id")?.replace(/^<|>$/g, "");
  return [{ headers, contentType, contentId, content: decodeBody(body, headers.get("content-transfer-encoding") ?? "7bit") }];
}

export function parseMessage(raw: string): { headers: Map<string, string>; text: string; html?: string; parts: MimePart[] } {
  const { headers } = splitEntity(raw);
  const parts = leafParts(raw);
  const textOf = (type: string) => parts.find((p) => p.contentType === type)?.content.toString("utf8").replace(/\r\n/g, "\n");
  return { headers, text: textOf("text/plain") ?? "", html: textOf("text/html"), parts };
}
