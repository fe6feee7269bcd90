import { defineSearchAttributeKey, SearchAttributeType } from "@temporalio/common";

/**
 * Custom search attributes of booking workflows, so operators find any booking in the Temporal
 * UI (`ShowtimeId = "…"`, `UserId = "…"`, `BookingStatus = "held"`). Registered on the dev server
 * by `npm start` and the tests, and by the compose stack's admin-tools job.
 */
export const SA_SHOWTIME_ID = defineSearchAttributeKey("ShowtimeId", SearchAttributeType.KEYWORD);
export const SA_USER_ID = defineSearchAttributeKey("UserId", SearchAttributeType.KEYWORD);
export const SA_BOOKING_STATUS = defineSearchAttributeKey("BookingStatus", SearchAttributeType.KEYWORD);
