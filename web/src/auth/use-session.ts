import { createContext, useContext, useSyncExternalStore } from "react";
import type { Session, SessionState, SignedInUser } from "./session";

export const SessionContext = createContext<Session | null>(null);

export function useSessionObject(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside <SessionContext>");
  return session;
}

export function useSession(): SessionState {
  const session = useSessionObject();
  return useSyncExternalStore(session.subscribe, session.snapshot);
}

/** The signed-in user, or undefined. */
export function useUser(): SignedInUser | undefined {
  const state = useSession();
  return state.status === "signed-in" ? state.user : undefined;
}
