/**
 * The gateway's runtime settings for the app (GET /app-config.json): the Stripe publishable key
 * and where the Temporal UI is. Not an RPC: a static document of the deployment.
 */
import { useQuery } from "@tanstack/react-query";

export interface AppConfig {
  stripePublishableKey: string | null;
  temporalUiUrl: string | null;
  temporalNamespace: string;
}

export function useAppConfig() {
  return useQuery({
    queryKey: ["app-config"],
    staleTime: Infinity,
    queryFn: async (): Promise<AppConfig> => {
      const res = await fetch("/app-config.json", { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`the app's settings could not be loaded (HTTP ${res.status})`);
      return (await res.json()) as AppConfig;
    },
  });
}

/** The booking's workflow in the Temporal UI, when the deployment says where that is. */
export function workflowUrl(config: AppConfig | undefined, bookingId: string): string | undefined {
  if (!config?.temporalUiUrl) return undefined;
  const base = config.temporalUiUrl.replace(/\/+$/, "");
  return `${base}/namespaces/${encodeURIComponent(config.temporalNamespace || "default")}/workflows/booking-${encodeURIComponent(bookingId)}`;
}
