import type { ReactNode } from "react";
import { Link } from "wouter";
import type { SignedInUser } from "../auth/session";
import { useSession } from "../auth/use-session";
import { Loading } from "./status";

/** Renders `children` for a signed-in user (an admin with `admin`); otherwise says how to get in. */
export function RequireUser({ children, admin = false }: { children: (user: SignedInUser) => ReactNode; admin?: boolean }) {
  const state = useSession();
  if (state.status === "loading") return <Loading />;
  if (state.status === "anonymous") {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    return (
      <>
        <h1>Please log in</h1>
        <p>
          <Link href={`/login?next=${next}`}>Log in</Link> or <Link href="/register">create an account</Link> to continue.
        </p>
      </>
    );
  }
  if (admin && state.user.role !== "admin") {
    return (
      <>
        <h1>Admins only</h1>
        <p>This part of the app is for venue managers. You are signed in as {state.user.email}.</p>
      </>
    );
  }
  return <>{children(state.user)}</>;
}
