import type { ReactNode } from "react";
import { errorMessage } from "../api/errors";

/** An API error, in the API's own words. Announced to screen readers as it appears. */
export function ErrorNote({ error, children }: { error: unknown; children?: ReactNode }) {
  if (error === null || error === undefined) return null;
  return (
    <div role="alert" className="error">
      {children}
      {errorMessage(error)}
    </div>
  );
}

export function Loading({ what = "" }: { what?: string }) {
  return (
    <p className="loading" role="status">
      Loading{what ? ` ${what}` : ""}…
    </p>
  );
}
