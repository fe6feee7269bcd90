import type { Notification } from "../../../gen/ticketing/notifications/v1/notifications_pb";
import { formatDateTime } from "../lib/format";

const KIND_NAMES: Record<string, string> = {
  booking_confirmed: "Booking confirmed",
  booking_cancelled: "Booking cancelled",
  booking_refunded: "Refund issued",
  payment_failed: "Payment failed",
  hold_expired: "Hold expired",
  showtime_reminder: "Reminder",
};

/** Messages sent to the user, newest first, with channel and delivery status. */
export function NotificationList({ notifications, empty }: { notifications: readonly Notification[]; empty: string }) {
  if (notifications.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="notifications">
      {notifications.map((n) => (
        <li key={n.notificationId} className="card">
          <p>
            <strong>{n.subject || KIND_NAMES[n.kind] || n.kind}</strong>
          </p>
          <p className="meta">
            {KIND_NAMES[n.kind] ?? n.kind} · {n.channel} to {n.recipient} · <span className={`badge ${n.status}`}>{n.status}</span> ·{" "}
            <time>{formatDateTime(n.createdAt)}</time>
          </p>
          {n.failureReason && <p className="muted">{n.failureReason}</p>}
        </li>
      ))}
    </ul>
  );
}
