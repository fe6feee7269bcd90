import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Session } from "./auth/session";
import { SessionContext } from "./auth/use-session";
import { appTransport, baseTransport } from "./api/transport";
import { App } from "./app";
import "./styles.css";

const session = new Session(baseTransport());
const transport = appTransport(session);
const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 10_000, retry: 1, refetchOnWindowFocus: false },
  },
});

// Answers cached for one user must not be shown to the next one. (Until the session is known,
// pages that need a user wait, so the first resolution changes nothing cached.)
let known: { userId?: string } | undefined;
session.subscribe(() => {
  const state = session.snapshot();
  if (state.status === "loading") return;
  const userId = state.status === "signed-in" ? state.user.userId : undefined;
  if (known && known.userId !== userId) void queryClient.resetQueries();
  known = { userId };
});
void session.resume();

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <SessionContext.Provider value={session}>
      <TransportProvider transport={transport}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </TransportProvider>
    </SessionContext.Provider>
  </StrictMode>,
);
