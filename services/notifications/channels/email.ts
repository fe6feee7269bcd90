import { createTransport } from "nodemailer";
import type { Logger } from "../../../lib/logger.js";
import { maskEmail } from "../domain/format.js";
import { DeliveryError, type Delivered, type EmailTransport, type OutgoingMessage } from "./types.js";

export interface SmtpOptions {
  /** e.g. smtp://user:pass@mail.example.com:587 or smtps://user:pass@mail.example.com:465 */
  url: string;
  /** The From header, e.g. `Ticketing <no-reply@ticketing.example>`. */
  from: string;
  /** Connect, greeting and idle-socket timeouts (ms). */
  timeoutMs?: number;
}

/** The domain of the From address, for Message-IDs (`<notificationId@domain>`). */
function fromDomain(from: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(from);
  return m ? m[1] : "ticketing.local";
}

function smtpTransport(url: string, timeoutMs: number) {
  return createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
  });
}

/** SMTP URL without its password, for logs. */
export function redactSmtpUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid SMTP URL)";
  }
}

/**
 * Email over SMTP with nodemailer: one connection per message (STARTTLS when the server offers
 * it, or TLS from the start with smtps://). Errors become DeliveryErrors: a 5xx reply (except
 * 503) is permanent, anything else (4xx, connection refused, timeouts) may succeed later.
 */
export class SmtpEmailTransport implements EmailTransport {
  readonly name = "smtp";
  private readonly transporter: ReturnType<typeof smtpTransport>;
  private readonly domain: string;

  constructor(private readonly opts: SmtpOptions) {
    this.transporter = smtpTransport(opts.url, opts.timeoutMs ?? 15_000);
    this.domain = fromDomain(opts.from);
  }

  async send(message: OutgoingMessage): Promise<Delivered> {
    try {
      const info = await this.transporter.sendMail({
        from: this.opts.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        // text and HTML as alternatives; the images inline (multipart/related) for the HTML's cid: references
        ...(message.html ? { html: message.html } : {}),
        ...(message.images?.length
          ? {
              attachments: message.images.map((i) => ({
                cid: i.cid,
                filename: i.filename,
                contentType: i.contentType,
                content: i.content,
                contentDisposition: "inline" as const,
              })),
            }
          : {}),
        messageId: `<${message.notificationId}@${this.domain}>`,
        headers: { "X-Ticketing-Notification-Id": message.notificationId },
      });
      if (info.rejected.length > 0) throw new DeliveryError(`recipient rejected: ${info.response}`, true);
      return { transport: this.name, providerMessageId: info.messageId };
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      const e = err as { message?: string; code?: string; response?: string; responseCode?: number; permanent?: boolean };
      const reason = e.response ? `SMTP ${e.response}` : `${e.code ?? "error"}: ${e.message ?? String(err)}`;
      throw new DeliveryError(reason.slice(0, 500), e.permanent === true);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

/**
 * The development default when SMTP_URL is unset: the message is only logged (its row in the
 * message log is the copy). It counts as sent, with transport "log".
 */
export class LogEmailTransport implements EmailTransport {
  readonly name = "log";
  constructor(private readonly logger: Logger) {}

  async send(message: OutgoingMessage): Promise<Delivered> {
    this.logger.info(
      { notificationId: message.notificationId, to: maskEmail(message.to), subject: message.subject, text: message.text, images: message.images?.length },
      "email not sent: no SMTP_URL (development log transport)",
    );
    return { transport: this.name };
  }

  async close(): Promise<void> {}
}
