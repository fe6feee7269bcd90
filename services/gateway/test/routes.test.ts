import { UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { RestRouter } from "../transcoder.js";
import { UPSTREAMS } from "../upstreams.js";
import { EchoService } from "./echo-contract.js";

/*
 * The REST surface of shared/spec/rest-api.md, as the real contracts declare it. This guards the
 * contracts as much as the gateway: a rule that cannot be served, two rules for one route, or a
 * spec path without a rule fails here (and would fail the gateway's start).
 */
const router = new RestRouter(UPSTREAMS);

const rpc = (method: string, path: string) => {
  const r = router.route(method, path);
  return r.kind === "match" ? `${r.binding.service.name}.${r.binding.method.name} ${r.binding.successStatus}` : r.kind;
};

const id = "0d9c6a3e-8f0b-4a53-9a1e-3f7e2c1b5a10";

describe("REST routes of the real contracts", () => {
  it.each([
    ["POST", "/api/v1/auth/register", "UsersService.Register 201"],
    ["POST", "/api/v1/auth/login", "UsersService.Login 200"],
    ["POST", "/api/v1/auth/refresh", "UsersService.Refresh 200"],
    ["POST", "/api/v1/auth/logout", "UsersService.Logout 200"],
    ["GET", "/api/v1/me", "UsersService.GetMe 200"],
    ["PATCH", "/api/v1/me", "UsersService.UpdateMe 200"],
    ["POST", "/api/v1/venue", "CatalogService.CreateVenue 201"],
    ["GET", `/api/v1/venue/${id}`, "CatalogService.GetVenue 200"],
    ["PATCH", `/api/v1/venue/${id}`, "CatalogService.UpdateVenue 200"],
    ["POST", `/api/v1/venue/${id}/hall`, "CatalogService.CreateHall 201"],
    ["GET", `/api/v1/venue/${id}/hall/${id}`, "CatalogService.GetHall 200"],
    ["GET", `/api/v1/venue/${id}/halls`, "CatalogService.ListHalls 200"],
    ["POST", "/api/v1/events", "CatalogService.CreateEvent 201"],
    ["GET", `/api/v1/events/${id}`, "CatalogService.GetEvent 200"],
    ["PATCH", `/api/v1/events/${id}`, "CatalogService.UpdateEvent 200"],
    ["POST", `/api/v1/events/${id}/showtimes`, "CatalogService.CreateShowtime 201"],
    ["GET", `/api/v1/showtimes/${id}`, "CatalogService.GetShowtime 200"],
    ["GET", `/api/v1/events/${id}/showtimes`, "CatalogService.ListShowtimes 200"],
    // beyond the shared contract (README, "REST routes beyond the shared contract")
    ["GET", "/api/v1/venues", "CatalogService.ListVenues 200"],
    ["GET", "/api/v1/events", "CatalogService.ListEvents 200"],
    ["GET", `/api/v1/showtimes/${id}/inventory`, "BookingService.GetInventory 200"],
    ["POST", `/api/v1/showtimes/${id}/seats/reserve`, "BookingService.ReserveSeats 201"],
    ["POST", `/api/v1/showtimes/${id}/seats/best`, "BookingService.ReserveBestSeats 201"],
    ["PUT", `/api/v1/showtimes/${id}/seating-policy`, "BookingService.UpdateSeatingPolicy 200"],
    ["POST", `/api/v1/bookings/${id}/preparePayment`, "BookingService.PreparePayment 200"],
    ["POST", "/api/v1/payments/simulate", "PaymentsService.SimulatePayment 202"],
    ["PUT", `/api/v1/bookings/${id}/confirm`, "BookingService.ConfirmBooking 200"],
    ["POST", "/api/v1/bookings", "BookingService.CreateBooking 200"],
    ["GET", `/api/v1/bookings/${id}`, "BookingService.GetBooking 200"],
    ["PUT", `/api/v1/bookings/${id}/cancel`, "BookingService.CancelBooking 200"],
    ["GET", "/api/v1/me/bookings", "BookingService.ListMyBookings 200"],
    ["GET", "/api/v1/search/shows", "SearchService.SearchShows 200"],
    ["POST", `/api/v1/events/${id}/reviews`, "ReviewsService.CreateReview 201"],
    ["GET", `/api/v1/events/${id}/reviews`, "ReviewsService.ListReviews 200"],
    ["GET", "/api/v1/me/notifications", "NotificationsService.ListMyNotifications 200"],
    ["PUT", `/api/v1/showtimes/${id}/waiting-room`, "AdmissionService.ConfigureWaitingRoom 200"],
    ["GET", `/api/v1/showtimes/${id}/waiting-room`, "AdmissionService.GetWaitingRoom 200"],
    ["POST", `/api/v1/showtimes/${id}/waiting-room/entries`, "AdmissionService.JoinWaitingRoom 200"],
    ["GET", `/api/v1/showtimes/${id}/waiting-room/entries/me`, "AdmissionService.GetMyQueueEntry 200"],
    ["GET", `/api/v1/bookings/${id}/tickets`, "TicketsService.ListBookingTickets 200"],
    ["POST", "/api/v1/checkins", "TicketsService.CheckIn 200"],
    ["POST", "/api/v1/checkins/batch", "TicketsService.UploadScans 200"],
    ["GET", `/api/v1/showtimes/${id}/checkins`, "TicketsService.GetCheckInStats 200"],
    ["GET", "/api/v1/tickets/signing-keys", "TicketsService.ListSigningKeys 200"],
    ["POST", "/api/v1/tickets/signing-keys", "TicketsService.RotateSigningKey 201"],
    ["PUT", `/api/v1/users/${id}/role`, "UsersService.SetUserRole 200"],
  ])("%s %s → %s", (method, path, expected) => {
    expect(rpc(method, path)).toBe(expected);
  });

  it("answers 404 for unknown paths and 405 with the allowed methods for known ones", () => {
    expect(router.route("GET", "/api/v1/nope")).toEqual({ kind: "not_found" });
    expect(router.route("GET", "/api/v1/me/")).toEqual({ kind: "not_found" });
    expect(router.route("DELETE", "/api/v1/me")).toEqual({ kind: "method_not_allowed", allow: ["GET", "PATCH"] });
    expect(router.route("GET", "/api/v1/auth/register")).toEqual({ kind: "method_not_allowed", allow: ["POST"] });
  });

  it("the webhook has no REST rule (the gateway passes it through raw)", () => {
    expect(router.route("POST", "/api/v1/payments/webhook")).toEqual({ kind: "not_found" });
  });

  it("refuses two rules for the same route at start-up", () => {
    expect(() => new RestRouter([{ service: UsersService, backend: "users" }, { service: UsersService, backend: "catalog" }])).toThrow(
      /REST route conflict: POST \/api\/v1\/auth\/register/,
    );
  });

  it("skips (and reports) a REST rule on a streaming method", () => {
    const warnings: string[] = [];
    const r = new RestRouter([{ service: EchoService, backend: "users" }], (w) => warnings.push(w));
    expect(r.route("GET", "/v1/watch")).toEqual({ kind: "not_found" });
    expect(warnings).toEqual([expect.stringContaining("test.gw.v1.EchoService.Watch")]);
  });
});
