import { types } from "node:util";

/**
 * Makes errors thrown by Node itself `instanceof Error` inside a jest test file, as they are in
 * production (jest issue #2549).
 *
 * Jest runs each test file in its own VM realm with its own `Error`; errors that Node's internals
 * create (streams, http, net) come from the host realm and fail `err instanceof Error` there.
 * Libraries that classify errors that way then misjudge them under jest only. The one that
 * matters here: when a client leaves a server stream, connect-node's write of the end of the
 * stream fails with ERR_STREAM_DESTROYED, which it classifies as Code.Aborted and keeps quiet
 * about; under jest it fails that check, becomes Code.Internal and is printed with
 * console.error ("handler for rpc WatchInventory ... failed"), although nothing went wrong.
 *
 * Only `Error` itself learns to recognise host-realm native errors (by util.types.isNativeError,
 * which works across realms); subclasses such as TypeError or ConnectError check as before.
 */
export function recogniseNodeErrors(): void {
  if (Object.prototype.hasOwnProperty.call(Error, Symbol.hasInstance)) return;
  const ordinary = Function.prototype[Symbol.hasInstance];
  Object.defineProperty(Error, Symbol.hasInstance, {
    configurable: true,
    value(this: unknown, value: unknown): boolean {
      return ordinary.call(this, value) || (this === Error && types.isNativeError(value));
    },
  });
}
