import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The message to show for a failed call: the API's own message (it names the field or the
 * seats), never a stack or a blank page. Network failures and outages get a plain sentence.
 */
export function errorMessage(err: unknown): string {
  if (err === null || err === undefined) return "";
  const ce = ConnectError.from(err);
  if (ce.code === Code.Unavailable && /fetch|network|Failed to fetch/i.test(ce.rawMessage)) {
    return "The service cannot be reached right now. Check your connection and try again.";
  }
  if (ce.code === Code.Unknown && ce.rawMessage === "") return "Something went wrong. Please try again.";
  return ce.rawMessage || codeSentence(ce.code);
}

function codeSentence(code: Code): string {
  switch (code) {
    case Code.Unauthenticated:
      return "Please log in again.";
    case Code.PermissionDenied:
      return "You are not allowed to do that.";
    case Code.NotFound:
      return "Not found.";
    case Code.Unavailable:
      return "The service is unavailable right now; try again shortly.";
    default:
      return "Something went wrong. Please try again.";
  }
}
