/**
 * End-to-end test of `npm start` (scripts/start.ts): the whole stack started the way a user starts it, on a
 * fresh data dir and free ports, then stopped by a signal. It must come up healthy, exit 0, and leave no
 * process and no listening port behind. Linux only (reads /proc). Set SKIP_E2E_START=1 to skip it locally.
 */
import { busyPorts, launchStack, processTree, READY_TIMEOUT_MS, stillAlive, withOutput } from "./support/stack";

/** Services get 10 s before SIGKILL, then Temporal and Postgres stop: generous, but bounded. */
const EXIT_TIMEOUT_MS = 60_000;
/** After a SIGKILL of start.ts, the orphan guard gives each group 10 s before SIGKILL. */
const REAP_TIMEOUT_MS = 30_000;

const describeE2E = process.env.SKIP_E2E_START ? describe.skip : describe;

describeE2E("npm start (scripts/start.ts)", () => {
  test.each(["SIGINT", "SIGTERM"] as const)(
    "comes up healthy, and %s stops everything: exit 0, no process or port left",
    async (signal) => {
      const stack = await launchStack();
      try {
        const gateway = await stack.ready;
        const health = await fetch(`${gateway}/healthz`);
        expect(health.status).toBe(200);

        const tree = processTree(stack.child.pid as number);
        expect(tree.length).toBeGreaterThan(3); // at least postgres, temporal, a service and the guard

        stack.child.kill(signal);
        expect(await within(stack.exited, EXIT_TIMEOUT_MS, `exit after ${signal}`)).toEqual({ code: 0, signal: null });
        // tsx's esbuild helper processes exit when their parent's pipe closes, a moment after it
        await waitUntil(() => stillAlive(tree).length === 0, 5_000);
        expect(stillAlive(tree)).toEqual([]);
        expect(await busyPorts(stack.ports)).toEqual([]);
      } catch (err) {
        throw withOutput(err, stack);
      } finally {
        await stack.cleanup();
      }
    },
    READY_TIMEOUT_MS + EXIT_TIMEOUT_MS + 30_000,
  );

  test(
    "when start.ts itself is SIGKILLed, the orphan guard stops everything it started",
    async () => {
      const stack = await launchStack();
      try {
        await stack.ready;
        const tree = processTree(stack.child.pid as number);
        stack.child.kill("SIGKILL");
        await stack.exited;
        await waitUntil(() => stillAlive(tree).length === 0, REAP_TIMEOUT_MS);
        expect(stillAlive(tree)).toEqual([]);
        expect(await busyPorts(stack.ports)).toEqual([]);
      } catch (err) {
        throw withOutput(err, stack);
      } finally {
        await stack.cleanup();
      }
    },
    READY_TIMEOUT_MS + REAP_TIMEOUT_MS + 30_000,
  );
});

// ───────────────────────────── waiting ─────────────────────────────

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
}
