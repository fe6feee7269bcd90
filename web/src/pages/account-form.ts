/** What the log-in and registration forms share: where to go afterwards, and running the action. */
import { useState } from "react";
import { useLocation } from "wouter";

/** Where to go after logging in: a path of this app only (never another site, however spelled). */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next") ?? "/";
  try {
    const url = new URL(next, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}

/** Runs a session action (log in, register) for a form: busy meanwhile, then `next`, or its error. */
export function useSessionAction(next: string) {
  const [, navigate] = useLocation();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return { error, busy, run };
}
