import type { DescService } from "@bufbuild/protobuf";
import { AdmissionService } from "../../gen/ticketing/admission/v1/admission_pb.js";
import { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import { NotificationsService } from "../../gen/ticketing/notifications/v1/notifications_pb.js";
import { PaymentsService } from "../../gen/ticketing/payments/v1/payments_pb.js";
import { ReviewsService } from "../../gen/ticketing/reviews/v1/reviews_pb.js";
import { SearchService } from "../../gen/ticketing/search/v1/search_pb.js";
import { TicketsService } from "../../gen/ticketing/tickets/v1/tickets_pb.js";
import { UsersService } from "../../gen/ticketing/users/v1/users_pb.js";
import type { ServiceName } from "../../lib/services.js";

/** A public contract the gateway serves, and the backend (lib/services.ts) that implements it. */
export interface Upstream {
  service: DescService;
  backend: ServiceName;
}

/**
 * Every service the gateway exposes: its REST routes (from the google.api.http annotations)
 * and its Connect / gRPC-Web / gRPC procedures are derived from these descriptors at start-up.
 * Adding a service is one import and one line here; nothing else in the gateway changes.
 */
export const UPSTREAMS: readonly Upstream[] = [
  { service: UsersService, backend: "users" },
  { service: CatalogService, backend: "catalog" },
  { service: BookingService, backend: "booking" },
  { service: PaymentsService, backend: "payments" },
  { service: SearchService, backend: "search" },
  { service: NotificationsService, backend: "notifications" },
  { service: ReviewsService, backend: "reviews" },
  { service: AdmissionService, backend: "admission" },
  { service: TicketsService, backend: "tickets" },
];

/**
 * The payments RPC the Stripe webhook is passed to (see webhook.ts): it takes the raw body in
 * `bytes payload` and the Stripe-Signature header in `string signature`.
 */
export const WEBHOOK_RPC = { service: "ticketing.payments.v1.PaymentsService", method: "HandleWebhook" } as const;
