/**
 * The admin console for venue managers, under /admin (routes here are relative to it): venues and
 * their halls (with the layout editor), events and their showtimes, a showtime's live occupancy,
 * and booking lookup. Every write is an admin-only RPC; the services check the role again.
 */
import { lazy } from "react";
import { Link, Route, Switch } from "wouter";
import { RequireUser } from "../../components/require-user";
import { BookingLookup } from "./booking-lookup";
import { EventAdmin, EventList, NewEvent } from "./events";
import { NewVenue, VenueAdmin, VenueList } from "./venues";

const HallEditor = lazy(() => import("./hall-editor"));
const Occupancy = lazy(() => import("./occupancy"));

export default function AdminApp() {
  return (
    <RequireUser admin>
      {() => (
        <div className="admin">
          <nav aria-label="Admin" className="admin-nav">
            <Link href="/">Overview</Link>
            <Link href="/venues">Venues</Link>
            <Link href="/events">Events</Link>
            <Link href="/bookings">Look up a booking</Link>
          </nav>
          <Switch>
            <Route path="/">{() => <Overview />}</Route>
            <Route path="/venues">{() => <VenueList />}</Route>
            <Route path="/venues/new">{() => <NewVenue />}</Route>
            <Route path="/venues/:venueId">{(p) => <VenueAdmin venueId={p.venueId} />}</Route>
            <Route path="/venues/:venueId/halls/new">{(p) => <HallEditor venueId={p.venueId} />}</Route>
            <Route path="/events">{() => <EventList />}</Route>
            <Route path="/events/new">{() => <NewEvent />}</Route>
            <Route path="/events/:eventId">{(p) => <EventAdmin eventId={p.eventId} />}</Route>
            <Route path="/showtimes/:showtimeId">{(p) => <Occupancy showtimeId={p.showtimeId} />}</Route>
            <Route path="/bookings">{() => <BookingLookup />}</Route>
            <Route>
              <h1>Not found</h1>
            </Route>
          </Switch>
        </div>
      )}
    </RequireUser>
  );
}

function Overview() {
  return (
    <>
      <h1>Admin</h1>
      <ul className="overview">
        <li className="card">
          <h2>
            <Link href="/venues">Venues and halls</Link>
          </h2>
          <p>Create and edit venues; design a hall's seat layout in the editor.</p>
        </li>
        <li className="card">
          <h2>
            <Link href="/events">Events and showtimes</Link>
          </h2>
          <p>Create events, schedule showtimes with a price per seat type, and watch their occupancy live.</p>
        </li>
        <li className="card">
          <h2>
            <Link href="/bookings">Look up a booking</Link>
          </h2>
          <p>Find a booking by its reference, cancel or refund it, and open its workflow in the Temporal UI.</p>
        </li>
      </ul>
    </>
  );
}
