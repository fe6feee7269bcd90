/**
 * The app's shell: header with navigation and the account controls, the routes, and an error
 * boundary so that a failure shows its message instead of a blank page. The search page is in
 * the initial bundle; every other page loads on demand.
 */
import { lazy, Suspense, useEffect, useRef } from "react";
import { Link, Route, Switch, useLocation } from "wouter";
import { useSession, useSessionObject } from "./auth/use-session";
import { ErrorBoundary } from "./components/error-boundary";
import { SearchPage } from "./pages/search";

const EventPage = lazy(() => import("./pages/event"));
const ShowtimePage = lazy(() => import("./pages/showtime"));
const QueuePage = lazy(() => import("./pages/queue"));
const CheckoutPage = lazy(() => import("./pages/checkout"));
const BookingPage = lazy(() => import("./pages/booking"));
const MyBookingsPage = lazy(() => import("./pages/my-bookings"));
const LoginPage = lazy(() => import("./pages/login"));
const RegisterPage = lazy(() => import("./pages/register"));
const DoorPage = lazy(() => import("./pages/door"));
const AdminApp = lazy(() => import("./pages/admin/admin-app"));

export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Routes />
      </main>
    </>
  );
}

function Routes() {
  const [location] = useLocation();
  useFocusOnNavigation(location);
  return (
    // a failed page does not stay on screen after the user navigates away from it
    <ErrorBoundary key={location}>
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <Pages />
      </Suspense>
    </ErrorBoundary>
  );
}

function Pages() {
  return (
    <Switch>
      <Route path="/" component={SearchPage} />
      <Route path="/events/:eventId">{(p) => <EventPage eventId={p.eventId} />}</Route>
      <Route path="/showtimes/:showtimeId/queue">{(p) => <QueuePage key={p.showtimeId} showtimeId={p.showtimeId} />}</Route>
      <Route path="/showtimes/:showtimeId">{(p) => <ShowtimePage key={p.showtimeId} showtimeId={p.showtimeId} />}</Route>
      <Route path="/checkout/:bookingId">{(p) => <CheckoutPage bookingId={p.bookingId} />}</Route>
      <Route path="/bookings">{() => <MyBookingsPage />}</Route>
      <Route path="/bookings/:bookingId">{(p) => <BookingPage bookingId={p.bookingId} />}</Route>
      <Route path="/login">{() => <LoginPage />}</Route>
      <Route path="/register">{() => <RegisterPage />}</Route>
      <Route path="/door">{() => <DoorPage />}</Route>
      <Route path="/admin" nest>
        {() => <AdminApp />}
      </Route>
      <Route>
        <h1>Page not found</h1>
        <p>
          <Link href="/">Search for shows</Link>
        </p>
      </Route>
    </Switch>
  );
}

/** After a navigation, focus moves to the page's main region so that screen readers announce it. */
function useFocusOnNavigation(location: string) {
  const previous = useRef(location);
  useEffect(() => {
    if (previous.current === location) return;
    previous.current = location;
    document.getElementById("main")?.focus({ preventScroll: false });
  }, [location]);
}

function Header() {
  const state = useSession();
  const session = useSessionObject();
  const [location, navigate] = useLocation();
  const user = state.status === "signed-in" ? state.user : undefined;
  const loginHref = `/login?next=${encodeURIComponent(location === "/login" ? "/" : location + window.location.search)}`;
  return (
    <header className="site-header">
      <nav aria-label="Main">
        <Link href="/" className="brand">
          Ticketing
        </Link>
        <Link href="/">Search</Link>
        {user && <Link href="/bookings">My bookings</Link>}
        {(user?.role === "door" || user?.role === "admin") && <Link href="/door">Door</Link>}
        {user?.role === "admin" && <Link href="/admin">Admin</Link>}
      </nav>
      <div className="account">
        {state.status === "loading" && <span className="muted">…</span>}
        {state.status === "anonymous" && (
          <>
            <Link href={loginHref}>Log in</Link>
            <Link href="/register">Register</Link>
          </>
        )}
        {user && (
          <>
            <span className="muted">
              <span className="visually-hidden">Signed in as </span>
              {user.displayName}
            </span>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                navigate("/");
                void session.logout();
              }}
            >
              Log out
            </button>
          </>
        )}
      </div>
    </header>
  );
}
