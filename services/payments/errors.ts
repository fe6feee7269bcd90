import { Code } from "@connectrpc/connect";
import { AppError, type DomainErrorMapper } from "../../lib/errors.js";
import { ProviderError } from "./providers/provider.js";
import { TemporalUnavailableError } from "../../workflows/booking-client.js";

/**
 * The payments service's one error mapper (given to startServer as `mapError`): what its core
 * throws besides AppError, as API errors, for every RPC. Temporal activities map on their own
 * (activities.ts: retryable or not, rather than a Connect code). The messages still say
 * "payment gateway": they are the API's, unchanged since before the provider rename.
 */
export const mapPaymentsError: DomainErrorMapper = (err) => {
  if (err instanceof TemporalUnavailableError) {
    return new AppError(Code.Unavailable, "booking workflows cannot be reached right now; retry later");
  }
  if (err instanceof ProviderError) {
    switch (err.kind) {
      case "invalid_request":
        return new AppError(Code.InvalidArgument, `payment gateway: ${err.message}`);
      case "not_found":
        return new AppError(Code.NotFound, `payment gateway: ${err.message}`);
      case "idempotency_conflict":
        return new AppError(Code.AlreadyExists, `payment gateway: ${err.message}`);
      case "unexpected_state":
        return new AppError(Code.FailedPrecondition, `payment gateway: ${err.message}`);
      case "unavailable":
        return new AppError(Code.Unavailable, "the payment gateway cannot be reached right now; retry later");
    }
  }
  return undefined;
};
