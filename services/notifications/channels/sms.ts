import type { Logger } from "../../../lib/logger.js";
import { maskPhone } from "../domain/format.js";
import type { Delivered, OutgoingMessage, SmsProvider } from "./types.js";

/**
 * The development SMS provider: logs the text and keeps the last messages in memory (the message
 * log table holds every one). A real provider (Twilio, SNS, ...) implements SmsProvider and is
 * chosen in main.ts.
 */
export class LogSmsProvider implements SmsProvider {
  readonly name = "log";
  /** The most recent messages, newest last (at most `keep`). */
  readonly sent: OutgoingMessage[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly keep = 1000,
  ) {}

  async send(message: OutgoingMessage): Promise<Delivered> {
    this.sent.push(message);
    if (this.sent.length > this.keep) this.sent.shift();
    this.logger.info(
      { notificationId: message.notificationId, to: maskPhone(message.to), text: message.text },
      "sms not sent: development provider (logged only)",
    );
    return { transport: this.name };
  }

  async close(): Promise<void> {}
}
