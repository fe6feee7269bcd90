import { Component, type ReactNode } from "react";
import { errorMessage } from "../api/errors";

interface State {
  error?: unknown;
}

/** Shows what failed, with a way back, instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = {};

  static getDerivedStateFromError(error: unknown): State {
    return { error };
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <div role="alert" className="error">
        <h1>Something went wrong</h1>
        <p>{errorMessage(this.state.error)}</p>
        <p>
          <a href="/">Back to search</a>
        </p>
      </div>
    );
  }
}
