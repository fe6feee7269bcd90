import { Client, Connection } from "@temporalio/client";

export interface TemporalOptions {
  address: string;
  namespace: string;
}

/** A Temporal client. The connection is lazy about failures: callers see them per call. */
export async function connectTemporal(opts: TemporalOptions): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: opts.address });
  const client = new Client({ connection, namespace: opts.namespace });
  return { client, close: () => connection.close() };
}

/** Health probe: the frontend answers and the namespace exists. */
export async function pingTemporal(client: Client): Promise<void> {
  await client.workflowService.describeNamespace({ namespace: client.options.namespace });
}
