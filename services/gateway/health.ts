import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { codeName } from "../../lib/errors.js";
import { transportErrorCode } from "./errors.js";
import type { Backend } from "./forwarding.js";

export interface HealthReport {
  /** "ok" when every backend serves, else "unavailable". */
  status: "ok" | "unavailable";
  /** Each backend's state: serving, not_serving, unreachable, timeout, ... */
  services: Record<string, string>;
  /** Why each failing backend fails (no addresses, no stack traces). */
  errors?: Record<string, string>;
}

/** A backend serves when every replica of it does; the first failing replica says why. */
async function probe(backend: Backend, timeoutMs: number): Promise<{ state: string; error?: string }> {
  const results = await Promise.all(backend.replicas.map((replica) => probeReplica(replica, timeoutMs)));
  const failing = results.findIndex((r) => r.state !== "serving");
  if (failing < 0 || results.length === 1) return results[Math.max(failing, 0)];
  return { ...results[failing], error: `replica ${failing + 1} of ${results.length}: ${results[failing].error}` };
}

async function probeReplica(transport: Transport, timeoutMs: number): Promise<{ state: string; error?: string }> {
  try {
    const res = await createClient(Health, transport).check({ service: "" }, { timeoutMs });
    if (res.status === ServingStatus.SERVING) return { state: "serving" };
    const state = (ServingStatus[res.status] ?? "unknown").toLowerCase();
    return { state, error: `the service reports ${state} (one of its dependencies is failing; see its logs)` };
  } catch (err) {
    const ce = ConnectError.from(err);
    const network = transportErrorCode(ce);
    if (network) return { state: "unreachable", error: `cannot connect (${network})` };
    if (ce.code === Code.DeadlineExceeded) return { state: "timeout", error: `no answer within ${timeoutMs} ms` };
    return { state: "error", error: `${codeName(ce.code)}: ${ce.rawMessage}` };
  }
}

/** grpc.health.v1.Health/Check on every backend in parallel, each with a short deadline. */
export async function checkBackends(backends: Iterable<Backend>, timeoutMs: number): Promise<HealthReport> {
  const list = [...backends];
  const results = await Promise.all(list.map((b) => probe(b, timeoutMs)));
  const report: HealthReport = { status: "ok", services: {} };
  list.forEach((b, i) => {
    report.services[b.name] = results[i].state;
    if (results[i].error !== undefined) {
      report.status = "unavailable";
      (report.errors ??= {})[b.name] = results[i].error!;
    }
  });
  return report;
}
