import { Client, Connection } from "@temporalio/client";

export interface TemporalOptions {
  address: string;
  namespace: string;
}

/**
 * A Temporal client on a lazy connection: the service starts and serves while Temporal is down
 * (calls that need it fail, and callers such as the outbox relay retry); the connection is made
 * on first use and re-made after failures.
 */
export function connectTemporal(opts: TemporalOptions): { client: Client; close(): Promise<void> } {
  const connection = Connection.lazy({ address: opts.address });
  const client = new Client({ connection, namespace: opts.namespace });
  return { client, close: () => connection.close() };
}

/** Health probe: the frontend answers and the namespace exists. */
export async function pingTemporal(client: Client): Promise<void> {
  await client.workflowService.describeNamespace({ namespace: client.options.namespace });
}
