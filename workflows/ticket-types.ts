/**
 * The tickets service's activities, called by the booking workflow (task queue
 * TASK_QUEUES.tickets). Types and names only.
 */

/** One issued ticket as the workflow passes it on (to the confirmation email). */
export interface IssuedTicket {
  ticketId: string;
  seatId: string;
  /** The signed QR payload (lib/ticket-payload.ts). */
  payload: string;
}

export interface IssueTicketsInput {
  bookingId: string;
  showtimeId: string;
  userId: string;
  seatIds: string[];
}

export interface TicketActivities {
  /**
   * Issues a confirmed booking's tickets, one per seat, signed with the active key; the holder's
   * initials come from the users service. Idempotent per booking: a retry (or a replay) returns
   * the tickets already issued.
   */
  issueTickets(input: IssueTicketsInput): Promise<{ tickets: IssuedTicket[] }>;
  /** Voids a booking's tickets (cancelled or refunded); idempotent. */
  voidTickets(input: { bookingId: string }): Promise<{ voided: number }>;
}
