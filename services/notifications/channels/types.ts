/**
 * Delivery channels. A transport either accepts a message (resolves with what it knows about
 * the delivery) or throws a DeliveryError; the delivery loop records the outcome and retries
 * what may succeed later.
 */

export interface OutgoingMessage {
  /** The notification id: also the email's Message-ID, so a receiving system can spot a repeat. */
  notificationId: string;
  /** Full address: an email address or an E.164 phone number. */
  to: string;
  subject: string;
  text: string;
  /** Email: an HTML part besides the text, whose `cid:` images are `images`. */
  html?: string;
  images?: InlineImage[];
}

/** An image shown inside an email's HTML (`<img src="cid:...">`). */
export interface InlineImage {
  /** The Content-ID, without angle brackets. */
  cid: string;
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface Delivered {
  /** How it went out: "smtp", or "log" for the development transports. */
  transport: string;
  /** The provider's id of the message, when it gives one (e.g. the SMTP Message-ID). */
  providerMessageId?: string;
}

export interface EmailTransport {
  readonly name: string;
  send(message: OutgoingMessage): Promise<Delivered>;
  close(): Promise<void>;
}

export interface SmsProvider {
  readonly name: string;
  send(message: OutgoingMessage): Promise<Delivered>;
  close(): Promise<void>;
}

/**
 * A failed delivery. `permanent` when sending the same message again cannot succeed (e.g. an
 * SMTP 5xx rejection): the loop then gives up at once instead of retrying.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}
